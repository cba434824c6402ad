import t from 'tap';
import { randomBytes } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createBatchedWriter, dropWritten } from '../../sys/batched-writer.ts';

void t.test('the batched writer appends every chunk in order, in batches of the size asked', async (t) => {
  const dir = t.testdir({});
  const path = join(dir, 'out');
  const handle = await open(path, 'a');
  const chunks = Array.from({ length: 50 }, (_, i) => randomBytes(1000 + i * 37));
  const writes: number[] = [];
  const spied = new Proxy(handle, {
    get(target, name) {
      if (name === 'writev') {
        return async (buffers: Uint8Array[]) => {
          writes.push(buffers.reduce((n, b) => n + b.length, 0));
          return target.writev(buffers);
        };
      }
      const value = Reflect.get(target, name) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  const writer = createBatchedWriter(spied, 16 * 1024);
  for (const chunk of chunks) await writer.write(chunk);
  await writer.write(new Uint8Array(0));
  await writer.flush();
  await writer.flush();
  await handle.close();
  t.same(await readFile(path), Buffer.concat(chunks));
  t.ok(writes.length < chunks.length / 5, `${writes.length} writes for ${chunks.length} chunks`);
  t.ok(
    writes.slice(0, -1).every((bytes) => bytes >= 16 * 1024),
    'every batch but the last is full',
  );
});

void t.test('short writes are finished, and a write of nothing is an error instead of a loop', async (t) => {
  const received: Buffer[] = [];
  let calls = 0;
  const short = {
    async writev(buffers: Uint8Array[]) {
      calls += 1;
      // At most 3 bytes per call, split across the buffers as a kernel would.
      const all = Buffer.concat(buffers);
      const taken = all.subarray(0, 3);
      received.push(Buffer.from(taken));
      return { bytesWritten: taken.length, buffers };
    },
  } as unknown as FileHandle;
  const writer = createBatchedWriter(short, 4);
  await writer.write(Buffer.from('hello'));
  await writer.write(Buffer.from(' world'));
  await writer.flush();
  t.equal(Buffer.concat(received).toString(), 'hello world');
  t.ok(calls >= 4);

  const stuck = { writev: async (buffers: Uint8Array[]) => ({ bytesWritten: 0, buffers }) } as unknown as FileHandle;
  const stuckWriter = createBatchedWriter(stuck, 1);
  await t.rejects(stuckWriter.write(Buffer.from('x')), /short write/);
});

void t.test('dropWritten keeps what a partial write left', async (t) => {
  const chunks = [Buffer.from('abc'), Buffer.from('de'), Buffer.from('fgh')];
  t.same(dropWritten(chunks, 0).map(String), ['abc', 'de', 'fgh']);
  t.same(dropWritten(chunks, 2).map(String), ['c', 'de', 'fgh']);
  t.same(dropWritten(chunks, 3).map(String), ['de', 'fgh']);
  t.same(dropWritten(chunks, 6).map(String), ['gh']);
  t.same(dropWritten(chunks, 8).map(String), []);
});
