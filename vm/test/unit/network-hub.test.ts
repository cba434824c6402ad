import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import t from 'tap';
import { privateMac, splitFrames, startNetworkHub } from '../../src/network-hub.ts';
import { errorCode } from '../../../lib/errors.ts';

function frame(payload: string): Buffer {
  const body = Buffer.from(payload);
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

await t.test('splitFrames keeps an unfinished frame for later and refuses absurd lengths', async (t) => {
  const both = Buffer.concat([frame('one'), frame('two')]);
  const partial = splitFrames(both.subarray(0, both.length - 1));
  t.same(partial.frames.map((f) => f.subarray(4).toString()), ['one']);
  t.equal(partial.rest.length, 6);
  t.same(splitFrames(both).frames.length, 2);
  const huge = Buffer.alloc(4);
  huge.writeUInt32BE(1 << 20);
  t.throws(() => splitFrames(huge), { code: errorCode('VM_NETWORK_FRAME_INVALID') });
});

await t.test('the hub sends each frame to every other VM, whole, and to none back', async (t) => {
  const hub = await startNetworkHub();
  t.teardown(() => hub.close());
  const peers: Socket[] = [];
  for (let i = 0; i < 3; i += 1) {
    const s = connect(hub.port, '127.0.0.1');
    await once(s, 'connect');
    peers.push(s);
  }
  while (hub.peers() < 3) await new Promise((r) => setTimeout(r, 10));
  const got: string[][] = [[], [], []];
  peers.forEach((p, i) => p.on('data', (d: Buffer) => got[i]?.push(d.toString('hex'))));
  const f = frame('hello');
  // Split across two writes: the hub must forward it whole.
  peers[0]?.write(f.subarray(0, 3));
  await new Promise((r) => setTimeout(r, 50));
  peers[0]?.write(f.subarray(3));
  await new Promise((r) => setTimeout(r, 100));
  t.same(got[0], [], 'not echoed to the sender');
  t.same(got[1]?.join(''), f.toString('hex'));
  t.same(got[2]?.join(''), f.toString('hex'));
  for (const p of peers) p.destroy();
});

await t.test('MACs are stable, unicast and locally administered under 52:54:00', async (t) => {
  const hash = (s: string) => createHash('sha256').update(s).digest();
  t.equal(privateMac('lab', 'a', hash), privateMac('lab', 'a', hash));
  t.not(privateMac('lab', 'a', hash), privateMac('lab', 'b', hash));
  t.match(privateMac('lab', 'a', hash), /^52:54:00(:[0-9a-f]{2}){3}$/);
});
