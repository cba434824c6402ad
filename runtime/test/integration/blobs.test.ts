// The blob store: verified while streaming, resumable, never exposing an unverified blob.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as nodePath from 'node:path';
import t from 'tap';
import { createBlobStore } from '../../src/store/blobs.ts';
import { errorCode } from '../../../lib/errors.ts';

const sha = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const DATA = Buffer.from('x'.repeat(100_000) + 'end');

async function* chunks(data: Buffer, size = 7000): AsyncIterable<Uint8Array> {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size);
}

void t.test('stores a verified blob under its digest', async (t) => {
  const store = createBlobStore(t.testdir({}));
  const digest = sha(DATA);
  t.equal(await store.has(digest), false);
  t.same(await store.put({ digest, size: DATA.length }, () => chunks(DATA)), { fetchedBytes: DATA.length, resumedFrom: 0 });
  t.equal(await store.has(digest), true);
  t.equal(store.pathOf(digest), nodePath.join(store.root, 'sha256', digest.slice(7)));
  t.same(await store.read(digest, 1 << 20), DATA);
  t.same(await store.list(), [digest]);
  t.same(await store.put({ digest, size: DATA.length }, () => { throw new Error('not fetched again'); }), { fetchedBytes: 0, resumedFrom: DATA.length }, 'already present');
  const streamed: Buffer[] = [];
  for await (const chunk of store.open(digest) as AsyncIterable<Buffer>) streamed.push(chunk);
  t.same(Buffer.concat(streamed), DATA);
  await store.remove(digest);
  t.same(await store.list(), []);
});

void t.test('a wrong digest is refused and nothing is stored', async (t) => {
  const store = createBlobStore(t.testdir({}));
  const digest = sha(Buffer.from('something else'));
  await t.rejects(store.put({ digest, size: DATA.length }, () => chunks(DATA)), { code: errorCode('RUNTIME_BLOB_DIGEST_MISMATCH') });
  t.equal(await store.has(digest), false);
  t.same(await fsp.readdir(nodePath.join(store.root, '.partial')), [], 'the bad partial is discarded');
});

void t.test('a source sending more than the descriptor says is cut off', async (t) => {
  const store = createBlobStore(t.testdir({}));
  const digest = sha(DATA);
  await t.rejects(store.put({ digest, size: 1000 }, () => chunks(DATA)), { code: errorCode('RUNTIME_BLOB_SIZE_MISMATCH'), message: /more than the 1000 bytes/ });
  t.same(await fsp.readdir(nodePath.join(store.root, '.partial')), []);
});

void t.test('an interrupted download resumes from where it stopped', async (t) => {
  const store = createBlobStore(t.testdir({}));
  const digest = sha(DATA);
  const offsets: number[] = [];
  await t.rejects(
    store.put({ digest, size: DATA.length }, (offset) => {
      offsets.push(offset);
      return chunks(DATA.subarray(0, 40_000));
    }),
    { code: errorCode('RUNTIME_BLOB_INCOMPLETE'), message: /got 40000 of 100003 bytes/ },
  );
  t.equal(await store.has(digest), false, 'an incomplete blob is not in the store');
  const failing = async function* (): AsyncIterable<Uint8Array> {
    yield DATA.subarray(40_000, 50_000);
    throw new Error('connection reset');
  };
  await t.rejects(store.put({ digest, size: DATA.length }, (offset) => { offsets.push(offset); return failing(); }), { message: 'connection reset' });
  const result = await store.put({ digest, size: DATA.length }, (offset) => {
    offsets.push(offset);
    return chunks(DATA.subarray(offset));
  });
  t.same(offsets, [0, 40_000, 50_000], 'each attempt asks for the rest');
  t.same(result, { fetchedBytes: DATA.length - 50_000, resumedFrom: 50_000 });
  t.same(await store.read(digest, 1 << 20), DATA);
});

void t.test('concurrent puts of one blob share the download', async (t) => {
  const store = createBlobStore(t.testdir({}));
  const digest = sha(DATA);
  let opened = 0;
  const source = (): AsyncIterable<Uint8Array> => { opened += 1; return chunks(DATA); };
  await Promise.all([store.put({ digest, size: DATA.length }, source), store.put({ digest, size: DATA.length }, source)]);
  t.equal(opened, 1);
  t.same(await store.read(digest, 1 << 20), DATA);
});

void t.test('reads re-verify small blobs', async (t) => {
  const store = createBlobStore(t.testdir({}));
  const digest = sha(DATA);
  await store.put({ digest, size: DATA.length }, () => chunks(DATA));
  await t.rejects(store.read(digest, 10), { code: errorCode('RUNTIME_BLOB_SIZE_MISMATCH') });
  await fsp.writeFile(store.pathOf(digest), 'bit rot');
  await t.rejects(store.read(digest, 1 << 20), { code: errorCode('RUNTIME_BLOB_DIGEST_MISMATCH'), message: /remove it and pull again/ });
  await t.rejects(store.read(sha(Buffer.from('absent')), 10), { code: errorCode('RUNTIME_BLOB_MISSING') });
  t.throws(() => store.pathOf(`sha384:${'0'.repeat(96)}`), { code: errorCode('RUNTIME_DIGEST_INVALID'), message: /unsupported algorithm 'sha384'/ });
});

void t.test('a sha512 blob is verified with sha512, and a sha256 hash cannot pass for it', async (t) => {
  const store = createBlobStore(t.testdir({}));
  const digest = `sha512:${createHash('sha512').update(DATA).digest('hex')}`;
  await store.put({ digest, size: DATA.length }, () => chunks(DATA));
  t.equal(store.pathOf(digest), nodePath.join(store.root, 'sha512', digest.slice(7)));
  t.same(await store.read(digest, 1 << 20), DATA);
  t.same(await store.list(), [digest], 'listed beside sha256 blobs');
  const wrong = `sha512:${createHash('sha512').update('other').digest('hex')}`;
  await t.rejects(store.put({ digest: wrong, size: DATA.length }, () => chunks(DATA)), { code: errorCode('RUNTIME_BLOB_DIGEST_MISMATCH'), message: /content hashes to sha512:/ });
  await fsp.writeFile(store.pathOf(digest), Buffer.concat([DATA.subarray(1), Buffer.from('!')]));
  await t.rejects(store.read(digest, 1 << 20), { code: errorCode('RUNTIME_BLOB_DIGEST_MISMATCH') }, 're-verified on read with sha512');
});
