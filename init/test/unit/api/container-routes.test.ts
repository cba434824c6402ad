/**
 * The container and image endpoints against fake engines: listing and inspection, logs (tail,
 * follow in order), start/stop/restart, exec (request checking through the router: bad JSON,
 * unknown fields, missing argv), the engine's typed errors as HTTP statuses (404, 409, 503),
 * pull progress streamed as NDJSON ending in the result or an error event, remove refused while
 * in use, prune; the limits: follow streams per container and in total (429), a slow follower
 * waited for and then dropped with a last line, exec output truncated and flagged.
 */
import t from 'tap';
import { BerthError, errorCode } from '../../../../lib/errors.ts';
import { EXEC_OUTPUT_MAX_BYTES, registerContainerRoutes, type ContainerControl, type ContainerDetail } from '../../../src/api/core/container-routes.ts';
import { FOLLOWER_PENDING_MAX_BYTES, FollowerLimits } from '../../../src/api/core/follow.ts';
import { registerImageRoutes, type ImageControl, type ImageSummary } from '../../../src/api/core/image-routes.ts';
import { parseBody, parseQuery, Router, type ApiResponse } from '../../../src/api/core/router.ts';

const web: ContainerDetail = {
  name: 'web',
  image: 'berth-test',
  state: 'running',
  health: 'healthy',
  restarts: 1,
  pid: 412,
  started_at: '2026-01-01T00:00:00.000Z',
  exit_code: null,
  critical: true,
  error: null,
  ports: ['8080:80'],
  network_mode: 'bridge',
  addresses: ['10.88.0.2'],
  config: { image: 'berth-test', ports: ['8080:80'] },
};

const record = (text: string) => `${JSON.stringify({ log: `${text}\n`, stream: 'stdout', time: '2026-01-01T00:00:00.000Z' })}\n`;

function fakeEngine() {
  const calls: string[] = [];
  /** The follow listeners the engine holds (removed when their signal aborts). */
  const listeners = new Set<(record: string) => void>();
  let execOutput: { stdout: string; stderr: string; dropped?: { stdout: number; stderr: number } } = { stdout: 'out\n', stderr: 'err\n' };
  let state = 'running';
  const notFound = (name: string) => new BerthError('RUNTIME_CONTAINER_NOT_FOUND', `No container named ${name}`);
  const control: ContainerControl = {
    list: () => [{ ...web, state }].map(({ config: _c, ...rest }) => rest),
    inspect: (name) => {
      if (name !== 'web') throw notFound(name);
      return { ...web, state };
    },
    start: (name) => {
      calls.push(`start ${name}`);
      const changed = state !== 'running';
      state = 'running';
      return Promise.resolve({ changed });
    },
    stop: (name) => {
      calls.push(`stop ${name}`);
      const changed = state === 'running';
      state = 'stopped';
      return Promise.resolve({ changed });
    },
    restart: (name) => {
      calls.push(`restart ${name}`);
      state = 'running';
      return Promise.resolve({ changed: true });
    },
    exec: (name, argv, timeoutMs, maxOutputBytes) => {
      calls.push(`exec ${name} ${argv.join(' ')} ${timeoutMs} ${maxOutputBytes}`);
      if (state !== 'running') return Promise.reject(new BerthError('RUNTIME_CONTAINER_NOT_RUNNING', `Container ${name} is not running (${state})`));
      return Promise.resolve({ exitCode: 3, ...execOutput });
    },
    readLog: (name, count, onRecord, signal) => {
      if (name !== 'web') return Promise.reject(notFound(name));
      // A record written while the tail is being read arrives before the tail is returned.
      onRecord?.(record('during'));
      if (onRecord) {
        listeners.add(onRecord);
        signal?.addEventListener('abort', () => listeners.delete(onRecord), { once: true });
        setImmediate(() => onRecord(record('after')));
      }
      return Promise.resolve((count === 0 ? [] : ['one', 'two', 'three'].slice(-count)).map(record));
    },
  };
  return {
    control,
    calls,
    listeners,
    setState: (s: string) => (state = s),
    setExecOutput: (output: typeof execOutput) => (execOutput = output),
    /** A record written by the container, to every follower. */
    emit: (text: string) => {
      for (const listener of listeners) listener(record(text));
    },
  };
}

const busybox: ImageSummary = {
  reference: 'docker.io/library/berth-test:latest',
  digest: 'sha256:aaaa',
  config_digest: 'sha256:bbbb',
  size_bytes: 1_234_567,
  created: null,
  preloaded: true,
  used_by: ['web'],
};

function fakeImages(failPull?: BerthError): ImageControl {
  return {
    listImages: () => Promise.resolve([busybox]),
    pull: (reference, onProgress) => {
      onProgress({ digest: 'sha256:cccc', kind: 'layer', done_bytes: 0, total_bytes: 100, status: 'downloading' });
      onProgress({ digest: 'sha256:cccc', kind: 'layer', done_bytes: 100, total_bytes: 100, status: 'done' });
      if (failPull) return Promise.reject(failPull);
      return Promise.resolve({ ...busybox, reference, preloaded: false, used_by: [] });
    },
    remove: (reference) =>
      reference.endsWith('berth-test:latest')
        ? Promise.reject(new BerthError('RUNTIME_IMAGE_IN_USE', `Image ${reference} is used by container web; remove it from the machine config first`))
        : Promise.resolve({ removed_images: [reference], removed_blobs: 3, removed_layers: 1, freed_bytes: 4096 }),
    prune: () => Promise.resolve({ removed_images: [], removed_blobs: 0, removed_layers: 0, freed_bytes: 0 }),
  };
}

function setup(options: { failPull?: BerthError; followers?: FollowerLimits } = {}) {
  const engine = fakeEngine();
  const router = new Router();
  registerContainerRoutes(router, engine.control, options.followers);
  registerImageRoutes(router, fakeImages(options.failPull));
  /** As the server does it: resolve, check the query and body, call the handler. */
  const call = async (method: string, url: string, body?: string, signal = new AbortController().signal): Promise<ApiResponse> => {
    const parsed = new URL(url, 'http://api');
    const { route, params } = router.resolve(method, parsed.pathname);
    const query = parseQuery(route, parsed.searchParams);
    const checked = parseBody(route, body === undefined ? undefined : 'application/json', new TextEncoder().encode(body ?? ''));
    return await route.handler({ method: route.method, path: parsed.pathname, params, query, body: checked, signal });
  };
  return { ...engine, router, call };
}

const jsonOf = (answer: ApiResponse): unknown => ('json' in answer ? answer.json : undefined);

async function streamOf(answer: ApiResponse, signal = new AbortController().signal, onChunk?: (chunk: string) => void): Promise<string[]> {
  if (!('stream' in answer)) throw new Error('expected a stream');
  const chunks: string[] = [];
  await answer.stream((chunk) => {
    chunks.push(chunk);
    onChunk?.(chunk);
  }, signal);
  return chunks;
}

void t.test('list and inspect; an unknown name is a 404 saying so', async (t) => {
  const { call } = setup();
  t.matchSnapshot(jsonOf(await call('GET', '/v1/containers')), 'list');
  t.matchSnapshot(jsonOf(await call('GET', '/v1/containers/web')), 'inspect');
  await t.rejects(call('GET', '/v1/containers/nope'), { status: 404, code: errorCode('RUNTIME_CONTAINER_NOT_FOUND'), message: 'No container named nope' });
});

void t.test('logs: the last N records as NDJSON; follow sends the tail first, then new records in order', async (t) => {
  const { call } = setup();
  const tail = await call('GET', '/v1/containers/web/logs?tail=2');
  t.match(tail, { status: 200, contentType: 'application/x-ndjson' });
  t.equal('text' in tail ? tail.text : '', record('two') + record('three'));
  await t.rejects(call('GET', '/v1/containers/web/logs?tail=-1'), { status: 400, code: errorCode('API_INVALID_QUERY') });
  await t.rejects(call('GET', '/v1/containers/web/logs?since=1'), { status: 400, message: /unknown parameter \(this endpoint takes tail, follow\)/ });
  await t.rejects(call('GET', '/v1/containers/nope/logs?follow=1'), { status: 404, code: errorCode('RUNTIME_CONTAINER_NOT_FOUND') }, 'a follow of an unknown container is refused before the stream');
  const aborter = new AbortController();
  // The client goes away once it has the later record.
  const chunks = await streamOf(await call('GET', '/v1/containers/web/logs?tail=1&follow=1', undefined, aborter.signal), aborter.signal, (chunk) => {
    if (chunk === record('after')) aborter.abort();
  });
  t.same(chunks, [record('three') + record('during'), record('after')], 'tail, the record that came meanwhile, then the later one; ends when the client goes');
});

void t.test('follow: at most N per container and M in all (429 saying so); a place is given back when the stream ends', async (t) => {
  const followers = new FollowerLimits(2, 32);
  const { call, listeners } = setup({ followers });
  const clients = [new AbortController(), new AbortController()];
  const streams = await Promise.all(clients.map((c) => call('GET', '/v1/containers/web/logs?follow=1', undefined, c.signal)));
  const running = streams.map((answer, i) => streamOf(answer, clients[i]?.signal));
  t.equal(followers.count('web'), 2);
  await t.rejects(call('GET', '/v1/containers/web/logs?follow=1'), { status: 429, code: errorCode('API_TOO_MANY_FOLLOWERS'), message: /Container web already has 2 followers \(at most 2\)/ });
  t.ok((await call('GET', '/v1/containers/web/logs?tail=1')).status === 200, 'a tail without follow is not limited');
  clients[0]?.abort();
  await running[0];
  t.equal(followers.count('web'), 1, 'the closed stream gave its place back');
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(listeners.size, 1, 'and the engine forgot its listener');
  const again = new AbortController();
  const third = streamOf(await call('GET', '/v1/containers/web/logs?follow=1', undefined, again.signal), again.signal);
  again.abort();
  clients[1]?.abort();
  await Promise.all([third, running[1]]);
  t.equal(followers.count(), 0);

  const total = new FollowerLimits(8, 1);
  const acquired = total.acquire('web', 'Container web');
  t.throws(() => total.acquire('db', 'Container db'), { status: 429, code: errorCode('API_TOO_MANY_FOLLOWERS'), message: /The host already serves 1 follow streams \(at most 1\)/ });
  acquired();
  acquired();
  t.equal(total.count(), 0, 'giving back twice counts once');
  t.doesNotThrow(() => total.acquire('db', 'Container db'));
});

void t.test('follow: a client that does not read is waited for, then dropped with a last line', async (t) => {
  const followers = new FollowerLimits();
  const { call, emit, listeners } = setup({ followers });
  const answer = await call('GET', '/v1/containers/web/logs?tail=0&follow=1');
  if (!('stream' in answer)) throw new Error('expected a stream');
  const written: string[] = [];
  // The response's buffer is full after every write, and the client never drains it.
  const stream = answer.stream(
    (chunk) => void written.push(chunk),
    new AbortController().signal,
    () => new Promise<void>(() => undefined),
  );
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(written.length, 1, 'one write, then the stream waits for drain');
  const line = 'x'.repeat(1000);
  for (let i = 0; i < (FOLLOWER_PENDING_MAX_BYTES / 1000) * 2 && listeners.size > 0; i += 1) emit(line);
  await stream;
  t.equal(written.length, 2, 'nothing written while waiting but the last line');
  t.same(JSON.parse(written[1] ?? ''), { error: { code: errorCode('API_FOLLOWER_TOO_SLOW'), message: 'Stopped following container web: the client fell more than 1 MiB behind; follow again (with a tail) to resume' } });
  t.equal(followers.count('web'), 0, 'its place is free');
  t.equal(listeners.size, 0, 'the engine no longer sends it records');
});

void t.test('follow: a client that reads slowly gets every record, in order', async (t) => {
  const { call, emit } = setup();
  const answer = await call('GET', '/v1/containers/web/logs?tail=0&follow=1');
  if (!('stream' in answer)) throw new Error('expected a stream');
  const written: string[] = [];
  let drain: (() => void) | undefined;
  const client = new AbortController();
  const stream = answer.stream(
    (chunk) => void written.push(chunk),
    client.signal,
    () => (written.length % 2 === 0 ? new Promise<void>((resolve) => (drain = resolve)) : undefined),
  );
  await new Promise((resolve) => setImmediate(resolve));
  for (let i = 0; i < 10; i += 1) emit(`r${i}`);
  while (drain !== undefined) {
    const go = drain;
    drain = undefined;
    go();
    await new Promise((resolve) => setImmediate(resolve));
  }
  client.abort();
  await stream;
  t.same(written.join(''), [record('during'), record('after'), ...Array.from({ length: 10 }, (_, i) => record(`r${i}`))].join(''));
});

void t.test('start, stop, restart: the new state and whether anything changed', async (t) => {
  const { call, calls } = setup();
  t.same(jsonOf(await call('POST', '/v1/containers/web/stop')), { name: 'web', changed: true, state: 'stopped' });
  t.same(jsonOf(await call('POST', '/v1/containers/web/stop')), { name: 'web', changed: false, state: 'stopped' });
  t.same(jsonOf(await call('POST', '/v1/containers/web/start')), { name: 'web', changed: true, state: 'running' });
  t.same(jsonOf(await call('POST', '/v1/containers/web/restart')), { name: 'web', changed: true, state: 'running' });
  t.same(calls, ['stop web', 'stop web', 'start web', 'restart web']);
  await t.rejects(call('POST', '/v1/containers/web/start', '{}'), { status: 400, code: errorCode('API_UNEXPECTED_BODY') });
  await t.rejects(call('GET', '/v1/containers/web/start'), { status: 405, code: errorCode('API_METHOD_NOT_ALLOWED') });
});

void t.test('exec: checked body, exit code and output, 409 when not running', async (t) => {
  const { call, calls, setState } = setup();
  t.same(jsonOf(await call('POST', '/v1/containers/web/exec', '{"argv":["sh","-c","exit 3"]}')), {
    exit_code: 3,
    stdout: 'out\n',
    stderr: 'err\n',
    truncated: false,
    stdout_dropped_bytes: 0,
    stderr_dropped_bytes: 0,
  });
  await call('POST', '/v1/containers/web/exec', '{"argv":["true"],"timeout_s":5}');
  t.same(calls, [`exec web sh -c exit 3 60000 ${EXEC_OUTPUT_MAX_BYTES}`, `exec web true 5000 ${EXEC_OUTPUT_MAX_BYTES}`], 'default timeout 60 s, or the one given; output bounded');
  await t.rejects(call('POST', '/v1/containers/web/exec', '{"argv":['), { status: 400, code: errorCode('API_BAD_JSON') });
  await t.rejects(call('POST', '/v1/containers/web/exec', '{"argv":["ls"],"tty":true}'), { status: 400, code: errorCode('API_INVALID_BODY'), message: /tty: unknown key/ });
  await t.rejects(call('POST', '/v1/containers/web/exec', '{"argv":[]}'), { status: 400, code: errorCode('API_INVALID_BODY'), message: /argv: expected at least 1 item/ });
  await t.rejects(call('POST', '/v1/containers/web/exec', '{"argv":["ls"],"timeout_s":0}'), { status: 400, code: errorCode('API_INVALID_BODY'), message: /timeout_s/ });
  await t.rejects(call('POST', '/v1/containers/web/exec'), { status: 400, code: errorCode('API_BODY_REQUIRED') });
  setState('stopped');
  await t.rejects(call('POST', '/v1/containers/web/exec', '{"argv":["ls"]}'), { status: 409, code: errorCode('RUNTIME_CONTAINER_NOT_RUNNING') });
});

void t.test('exec: output past the limit is flagged as truncated with the dropped byte counts', async (t) => {
  const { call, setExecOutput } = setup();
  setExecOutput({ stdout: 'y\n'.repeat(10), stderr: '', dropped: { stdout: 5_000_000, stderr: 0 } });
  t.match(jsonOf(await call('POST', '/v1/containers/web/exec', '{"argv":["yes"]}')), { exit_code: 3, truncated: true, stdout_dropped_bytes: 5_000_000, stderr_dropped_bytes: 0 });
});

void t.test('images: list, pull progress then the image, errors as an event, remove refused in use, prune', async (t) => {
  const { call } = setup();
  t.matchSnapshot(jsonOf(await call('GET', '/v1/images')), 'list');
  const pulled = (await streamOf(await call('POST', '/v1/images/pull', '{"reference":"127.0.0.1:5000/test/web:1"}'))).join('');
  t.matchSnapshot(pulled, 'pull events');
  const lines = pulled.trimEnd().split('\n').map((line) => JSON.parse(line) as { event: string });
  t.same(lines.map((l) => l.event), ['progress', 'progress', 'pulled']);
  await t.rejects(call('POST', '/v1/images/pull', '{"reference":"Bad Ref"}'), { status: 400, code: errorCode('API_INVALID_BODY'), message: /reference: Invalid image reference/ });
  await t.rejects(call('POST', '/v1/images/pull', '{"ref":"x"}'), { status: 400, code: errorCode('API_INVALID_BODY') });
  const failing = setup({ failPull: new BerthError('RUNTIME_REGISTRY_UNREACHABLE', 'Cannot pull 127.0.0.1:5000/x:1: connection refused') });
  const events = (await streamOf(await failing.call('POST', '/v1/images/pull', '{"reference":"127.0.0.1:5000/x:1"}'))).join('').trimEnd().split('\n');
  t.same(JSON.parse(events.at(-1) ?? ''), { event: 'error', error: { code: errorCode('RUNTIME_REGISTRY_UNREACHABLE'), message: 'Cannot pull 127.0.0.1:5000/x:1: connection refused' } });
  await t.rejects(call('DELETE', `/v1/images/${encodeURIComponent('docker.io/library/berth-test:latest')}`), { status: 409, code: errorCode('RUNTIME_IMAGE_IN_USE'), message: /used by container web/ });
  t.same(jsonOf(await call('DELETE', `/v1/images/${encodeURIComponent('127.0.0.1:5000/test/web:1')}`)), { removed_images: ['127.0.0.1:5000/test/web:1'], removed_blobs: 3, removed_layers: 1, freed_bytes: 4096 });
  t.same(jsonOf(await call('POST', '/v1/images/prune')), { removed_images: [], removed_blobs: 0, removed_layers: 0, freed_bytes: 0 });
});

void t.test('the engine not started yet is a 503; unknown failures stay internal', async (t) => {
  const router = new Router();
  const notYet = new BerthError('RUNTIME_NOT_STARTED', 'The container engine has not opened its image store yet; try again once the host is up');
  registerImageRoutes(router, { ...fakeImages(), listImages: () => Promise.reject(notYet), prune: () => Promise.reject(new Error('EIO')) });
  const call = (method: string, path: string) => {
    const { route, params } = router.resolve(method, path);
    return route.handler({ method: route.method, path, params, query: {}, body: undefined, signal: new AbortController().signal });
  };
  await t.rejects(call('GET', '/v1/images'), { status: 503, code: errorCode('RUNTIME_NOT_STARTED'), message: notYet.message });
  await t.rejects(call('POST', '/v1/images/prune'), { message: 'EIO' });
});
