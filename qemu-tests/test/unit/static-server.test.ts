import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { servedRate, servedTimeline, startStaticServer, type StaticServer } from '../../harness/static-server.ts';
import { startFleetLockStub } from '../../harness/fleetlock-stub.ts';

/** A static server over a directory holding one 1 MiB file, /payload. */
async function servePayload(t: Test): Promise<{ body: Buffer; server: StaticServer; url: string }> {
  const root = t.testdir();
  const body = Buffer.alloc(1024 * 1024, 7);
  await writeFile(join(root, 'payload'), body);
  const server = await startStaticServer(root);
  t.teardown(() => server.close());
  return { body, server, url: `http://127.0.0.1:${server.port}/payload` };
}

void t.test('servedRate: bytes after the first second over the rest of the body', async (t) => {
  const timeline: Array<[number, number]> = [];
  // A 4 MiB burst in the first 100 ms (socket buffers), then 1 MiB/s for 10 s.
  timeline.push([0, 65536], [100, 4 * 1048576]);
  for (let s = 1; s <= 10; s += 1) timeline.push([100 + s * 1000, 4 * 1048576 + s * 1048576]);
  const rate = servedRate({ timeline }, 1000);
  t.ok(rate);
  t.equal(rate?.windowMs, 9000, 'from the first write at least 1 s after the first byte (1100 ms) to the last');
  t.equal(rate?.bytesPerSecond, 1048576, 'the burst is not counted');
  t.equal(servedRate({ timeline: [[0, 1], [1500, 2]] }, 1000), undefined, 'less than a second after the skipped one');
  t.equal(servedRate({ timeline: [] }), undefined);
});

void t.test('the static server records what it sent, breaks a GET once, and serves the rest by Range', async (t) => {
  const { body, server, url } = await servePayload(t);
  server.cutOnce('/payload', 256 * 1024);
  const first = await fetch(url);
  await t.rejects(first.arrayBuffer(), 'the body ends before its content-length');
  const cut = server.requests[0];
  t.equal(cut?.cut, true, 'recorded as cut');
  const sent = cut?.timeline.at(-1)?.[1] ?? 0;
  t.ok(sent >= 256 * 1024 && sent < body.length, `cut after ${sent} bytes`);
  const resumed = await fetch(url, { headers: { range: `bytes=${sent}-` } });
  t.equal(resumed.status, 206);
  t.equal((await resumed.arrayBuffer()).byteLength, body.length - sent, 'the rest, by Range');
  const again = await fetch(url);
  t.equal((await again.arrayBuffer()).byteLength, body.length, 'only the first GET is broken');
  t.equal(server.requests[2]?.timeline.at(-1)?.[1], body.length, 'every byte of a whole GET is on the timeline');
});

void t.test('cutOnce breaks the Range piece that spans the offset; servedTimeline merges pieces', async (t) => {
  const { server, url } = await servePayload(t);
  server.cutOnce('/payload', 600 * 1024);
  const piece = async (from: number, to: number): Promise<number> => (await (await fetch(url, { headers: { range: `bytes=${from}-${to}` } })).arrayBuffer()).byteLength;
  t.equal(await piece(0, 512 * 1024 - 1), 512 * 1024, 'a piece before the offset is whole');
  const spanning = await fetch(url, { headers: { range: `bytes=${512 * 1024}-${1024 * 1024 - 1}` } });
  await t.rejects(spanning.arrayBuffer(), 'the piece that spans the offset is broken');
  const cut = server.requests[1];
  const sent = cut?.timeline.at(-1)?.[1] ?? 0;
  t.ok(cut?.cut === true && sent >= 88 * 1024 && sent < 512 * 1024, `broken after ${sent} bytes of its piece (the offset is 88 KiB into it)`);
  t.equal(await piece(512 * 1024 + sent, 1024 * 1024 - 1), 512 * 1024 - sent, 'the next piece is whole');
  t.same(
    servedTimeline([{ timeline: [[0, 10], [20, 30]] }, { timeline: [[10, 5], [30, 6]] }]),
    [[0, 10], [10, 15], [20, 35], [30, 36]],
    'bytes of several requests in time order, summed',
  );
});

void t.test('the FleetLock stub: one slot per group, recursive, given back by its holder only', async (t) => {
  const stub = await startFleetLockStub();
  t.teardown(() => stub.close());
  const call = async (route: string, id: string, header = true): Promise<number> =>
    (
      await fetch(`http://127.0.0.1:${stub.port}/v1/${route}`, {
        method: 'POST',
        headers: header ? { 'fleet-lock-protocol': 'true' } : {},
        body: JSON.stringify({ client_params: { id, group: 'default' } }),
      })
    ).status;
  t.equal(await call('pre-reboot', 'a'), 200);
  t.equal(await call('pre-reboot', 'a'), 200, 'recursive');
  t.equal(await call('pre-reboot', 'b'), 409, 'the slot is taken');
  t.equal(await call('steady-state', 'b'), 200, 'unlock if held: fine, changes nothing');
  t.equal(stub.holders.get('default'), 'a');
  t.equal(await call('steady-state', 'a', false), 400, 'the protocol header is required');
  t.equal(await call('steady-state', 'a'), 200);
  t.notOk(stub.holders.has('default'), 'given back');
  t.same(stub.calls.map((c) => c.route), ['pre-reboot', 'pre-reboot', 'pre-reboot', 'steady-state', 'steady-state', 'steady-state']);
});
