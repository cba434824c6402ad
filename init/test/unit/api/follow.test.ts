/**
 * Follow-stream limits: the queue that writes at the client's pace and drops a client that falls
 * too far behind, and the host log endpoint under those limits (429 past the count, a last
 * logfmt line for a dropped follower). Container logs are covered in container-routes.test.ts.
 */
import t from 'tap';
import { FollowerLimits, FollowQueue } from '../../../src/api/core/follow.ts';
import { HOST_FOLLOWER_DROPPED_LINE, registerHostRoutes, type HostProbe, type HostView } from '../../../src/api/core/host-routes.ts';
import { Router, type ApiResponse } from '../../../src/api/core/router.ts';
import { errorCode } from '../../../../lib/errors.ts';

void t.test('FollowQueue writes at once while the client keeps up, waits while it does not, drops it past the bound', async (t) => {
  const written: string[] = [];
  let full = false;
  let drain: (() => void) | undefined;
  const queue = new FollowQueue(
    (chunk) => void written.push(chunk),
    () => (full ? new Promise<void>((resolve) => (drain = resolve)) : undefined),
    'dropped\n',
    10,
  );
  queue.push('a');
  queue.push('');
  t.same(written, ['a'], 'written at once; nothing for an empty chunk');
  full = true;
  queue.push('b');
  queue.push('c');
  t.same(written, ['a', 'b'], 'c waits for the drain');
  t.equal(queue.backlog, 1);
  full = false;
  drain?.();
  await new Promise((resolve) => setImmediate(resolve));
  t.same(written, ['a', 'b', 'c']);
  full = true;
  queue.push('d');
  queue.push('0123456789');
  t.notOk(queue.wasDropped, 'at the bound: still waited for');
  queue.push('e');
  t.ok(queue.wasDropped, 'past it: dropped');
  await queue.dropped;
  t.same(written, ['a', 'b', 'c', 'd', 'dropped\n'], 'the pending chunks are forgotten, the last line written');
  queue.push('f');
  t.equal(written.length, 5, 'nothing after the drop');
  t.equal(queue.backlog, 0);
});

const probe: HostProbe = {
  uptimeSeconds: () => Promise.resolve(1),
  cpu: () => Promise.reject(new Error('not probed here')),
  memory: () => Promise.resolve({ total_bytes: 1, used_bytes: 1, available_bytes: 0 }),
  disks: () => Promise.resolve([]),
  interfaces: () => Promise.resolve([]),
};

function setup(followers: FollowerLimits) {
  const host: HostView = {
    identity: () => ({ version: '0.9.0', slot: 'a' }),
    state: () => 'running',
    hostname: () => 'h1',
    config: () => undefined as unknown as ReturnType<HostView['config']>,
    requestPower: () => undefined,
  };
  const listeners = new Set<(line: string) => void>();
  const router = new Router();
  registerHostRoutes(router, {
    followers,
    host,
    probe,
    logs: {
      tail: (n) => Promise.resolve(['a=1', 'b=2'].slice(-n)),
      follow: (onLine, signal) => {
        listeners.add(onLine);
        return new Promise<void>((resolve) =>
          signal.addEventListener(
            'abort',
            () => {
              listeners.delete(onLine);
              resolve();
            },
            { once: true },
          ),
        );
      },
    },
    now: () => new Date('2026-01-01T00:00:00Z'),
    apiVersion: '0.9.0',
  });
  const follow = (signal: AbortSignal): Promise<ApiResponse> => {
    const { route, params } = router.resolve('GET', '/v1/logs');
    return route.handler({ method: 'GET', path: '/v1/logs', params, query: { tail: 1, follow: true }, body: undefined, signal });
  };
  return { follow, listeners };
}

void t.test('host log follow: limited in number (429), a client that does not read is dropped with a last logfmt line', async (t) => {
  const followers = new FollowerLimits(1, 32);
  const { follow, listeners } = setup(followers);
  const client = new AbortController();
  const answer = await follow(client.signal);
  if (!('stream' in answer)) throw new Error('expected a stream');
  await t.rejects(follow(new AbortController().signal), { status: 429, code: errorCode('API_TOO_MANY_FOLLOWERS'), message: /The host log already has 1 followers \(at most 1\)/ });
  const written: string[] = [];
  const stream = answer.stream(
    (chunk) => void written.push(chunk),
    client.signal,
    () => new Promise<void>(() => undefined),
  );
  await new Promise((resolve) => setImmediate(resolve));
  t.same(written, ['b=2\n'], 'the tail, then the client stops reading');
  const line = `level=info msg="${'x'.repeat(1000)}"`;
  for (let i = 0; i < 3000 && listeners.size > 0; i += 1) for (const listener of listeners) listener(line);
  await stream;
  t.same(written, ['b=2\n', HOST_FOLLOWER_DROPPED_LINE]);
  t.match(HOST_FOLLOWER_DROPPED_LINE, /^level=error component=api code=API_FOLLOWER_TOO_SLOW msg="Stopped following the host log: the client fell more than 1 MiB behind; follow again \(with a tail\) to resume"\n$/);
  t.equal(listeners.size, 0, 'the log no longer feeds it');
  t.equal(followers.count(), 0, 'its place is free');
  const again = new AbortController();
  const next = await follow(again.signal);
  if (!('stream' in next)) throw new Error('expected a stream');
  const ended = next.stream(() => undefined, again.signal);
  again.abort();
  await ended;
  t.equal(followers.count(), 0);
});
