import t from 'tap';
import { createBlobTee } from '../../src/store/blob-tee.ts';

const bytes = (from: number, to: number): Buffer => Buffer.from(Array.from({ length: to - from }, (_, i) => (from + i) % 251));

/** Everything the tee's readable gives, or the error it fails with. */
async function drain(readable: AsyncIterable<Buffer>): Promise<Buffer | Error> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of readable) chunks.push(chunk);
    return Buffer.concat(chunks);
  } catch (error) {
    return error as Error;
  }
}

async function relayAll(chunks: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const chunk of chunks) n += chunk.length;
  return n;
}

void t.test('the reader gets every byte once, in order, across a resumed fetch that repeats some', async (t) => {
  const blob = bytes(0, 1000);
  const tee = createBlobTee(blob.length, 64);
  const read = drain(tee.readable);
  // First attempt: 600 bytes, then the connection drops.
  t.equal(await relayAll(tee.relay([blob.subarray(0, 300), blob.subarray(300, 600)], 0)), 600, 'the store gets what was fetched, unchanged');
  // The store kept only 450 of them: the resume repeats 150 the reader already had.
  t.equal(await relayAll(tee.relay([blob.subarray(450, 700), blob.subarray(700)], 450)), 550);
  tee.close('the blob was stored');
  t.same(await read, blob);
});

void t.test('a resume past what the reader had, an oversized source, or an early end fails the reader', async (t) => {
  const blob = bytes(0, 100);
  const gap = createBlobTee(100);
  const gapRead = drain(gap.readable);
  t.equal(await relayAll(gap.relay([blob.subarray(0, 40)], 0)), 40);
  t.equal(await relayAll(gap.relay([blob.subarray(60)], 60)), 40, 'the store still gets the resumed bytes');
  t.match(await gapRead, { message: /resumed at byte 60, past the 40 bytes/ });

  const more = createBlobTee(100);
  const moreRead = drain(more.readable);
  const tooLong = Buffer.concat([blob.subarray(50), Buffer.from('x')]);
  t.equal(await relayAll(more.relay([blob.subarray(0, 50), tooLong], 0)), 101, 'the store still sees what came: it refuses the excess itself');
  more.close('the download failed');
  t.match(await moreRead, { message: /more than the blob's 100 bytes/ });
  // Bytes after the last one the reader needed: it has its whole blob, and only the store's
  // refusal of the blob (awaited before the layer is named) tells it not to use it.
  const after = createBlobTee(100);
  const afterRead = drain(after.readable);
  t.equal(await relayAll(after.relay([blob, Buffer.from('x')], 0)), 101);
  t.same(await afterRead, blob);

  const short = createBlobTee(100);
  const shortRead = drain(short.readable);
  t.equal(await relayAll(short.relay([blob.subarray(0, 30)], 0)), 30);
  short.close('the download failed (connection reset)');
  t.match(await shortRead, { message: 'the download failed (connection reset) after 30 of 100 bytes' });

  const stored = createBlobTee(100);
  const storedRead = drain(stored.readable);
  stored.close('the blob was stored');
  t.match(await storedRead, { message: /after 0 of 100 bytes/ }, 'a fetch that never came through the tee (the blob was held)');
});

void t.test('the fetch waits while the reader is full, and never waits on a reader that stopped', async (t) => {
  const blob = bytes(0, 4096);
  const tee = createBlobTee(blob.length, 1024);
  const chunks = Array.from({ length: 8 }, (_, i) => blob.subarray(i * 512, (i + 1) * 512));
  let passed = 0;
  const fetching = (async () => {
    for await (const chunk of tee.relay(chunks, 0)) passed += chunk.length;
  })();
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.ok(passed < blob.length, `with nobody reading, the fetch stops at what the reader buffers (${passed} bytes passed)`);
  tee.readable.destroy();
  await fetching;
  t.equal(passed, blob.length, 'a reader destroyed mid-way releases the fetch, which goes on to the store');
});
