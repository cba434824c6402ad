/**
 * Test helpers for the `berth ctl` unit tests: usage errors as values, API answers, a fake API
 * client answering from a table, and a run of the CLI with its output captured. Not a test file itself.
 */
import { isBerthError } from '../../../lib/errors.ts';
import { parseCtlArgs } from '../../src/ctl/args.ts';
import type { ApiAnswer, ApiClient, RequestOptions } from '../../src/ctl/client.ts';
import { runCtl } from '../../src/ctl/run.ts';

/** The ctl action `argv` parses to, or `CLI_USAGE: <message>` for a usage error (for snapshots of both). */
export function actionOrError(argv: string[]): unknown {
  try {
    return parseCtlArgs(argv).action;
  } catch (error) {
    if (isBerthError(error, 'CLI_USAGE')) return `CLI_USAGE: ${error.message}`;
    throw error;
  }
}

/** A JSON answer. */
export const json = (status: number, body: unknown): ApiAnswer => ({ status, contentType: 'application/json', body: JSON.stringify(body) });

/** A 200 NDJSON answer, one line per value. */
export const ndjson = (lines: unknown[]): ApiAnswer => ({ status: 200, contentType: 'application/x-ndjson', body: lines.map((l) => `${JSON.stringify(l)}\n`).join('') });

export type FakeClient = ApiClient & { calls: Array<{ method: string; path: string; options: RequestOptions | undefined }> };

/**
 * A fake client answering `METHOD path` from a table (an Error rejects, as a failed connection
 * does) and recording every call. A streamed 200 answer goes to onChunk in one piece, or with
 * `splitStreams` in two pieces cut mid-line, as a real stream may arrive.
 */
export function fakeClient(answers: Record<string, ApiAnswer | Error>, options: { splitStreams?: boolean } = {}): FakeClient {
  const calls: FakeClient['calls'] = [];
  return {
    address: 'unix:///run/berth/api.sock',
    calls,
    request(method, path, requestOptions) {
      calls.push({ method, path, options: requestOptions });
      const answer = answers[`${method} ${path}`];
      if (answer === undefined) return Promise.reject(new Error(`unexpected ${method} ${path}`));
      if (answer instanceof Error) return Promise.reject(answer);
      if (requestOptions?.onChunk && answer.status === 200) {
        if (options.splitStreams === true) {
          const cut = Math.floor(answer.body.length / 2);
          requestOptions.onChunk(answer.body.slice(0, cut));
          requestOptions.onChunk(answer.body.slice(cut));
        } else {
          requestOptions.onChunk(answer.body);
        }
        return Promise.resolve({ ...answer, body: '' });
      }
      return Promise.resolve(answer);
    },
  };
}

/** Runs `berth ctl argv` against `client`: its exit code and what it printed. `file` is what every file read returns. */
export async function runCapturing(argv: string[], client: ApiClient, io: { file?: string; isTty?: boolean; now?: () => Date } = {}): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCtl(parseCtlArgs(argv), client, {
    out: (s) => void out.push(s),
    err: (s) => void err.push(s),
    readFile: () => Promise.resolve(io.file ?? ''),
    ...(io.isTty !== undefined ? { isTty: io.isTty } : {}),
    ...(io.now !== undefined ? { now: io.now } : {}),
  });
  return { code, out: out.join(''), err: err.join('') };
}
