/**
 * Plain HTTP checks from the test machine into a guest through a hostfwd. Effects: HTTP
 * requests with the global fetch.
 */

/**
 * GETs `url` about once a second until the body contains `expected` or `timeoutMs` has passed
 * (a server in the guest may not listen yet, or a forward may not be in place). A failed request
 * counts as an empty body; `requestTimeoutMs` aborts a request that hangs. Resolves with the last
 * body either way, so the caller's assertion shows what came back.
 */
export async function fetchTextUntil(url: string, expected: string, timeoutMs: number, options: { requestTimeoutMs?: number } = {}): Promise<string> {
  let body = '';
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const init: RequestInit = options.requestTimeoutMs === undefined ? {} : { signal: AbortSignal.timeout(options.requestTimeoutMs) };
    body = await fetch(url, init).then((r) => r.text(), () => '');
    if (body.includes(expected)) break;
    await new Promise((done) => setTimeout(done, 1000));
  }
  return body;
}
