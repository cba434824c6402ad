import t from 'tap';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { planStage } from '../../src/core/slots.ts';
import { VerityTreeBuilder } from '../../src/core/verity.ts';
import { renderBootEntry } from '../../../lib/boot-entry.ts';
import { verifySlot, writeSlot, zstdDecompressor, type VerifyRootStep, type WriteRootStep } from '../../src/slot-io.ts';
import { runSlotWriter } from '../../src/slot-writer.ts';
import { sampleManifest } from './fixtures.ts';
import { errorCode } from '../../../lib/errors.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const salt = 'ab'.repeat(32);
// A 40-block "erofs image" and its tree; the "compression" in these tests is the identity
// (the host's Node has no zstd; the decompressor is injected).
const image = Buffer.alloc(40 * 4096);
for (let i = 0; i < image.length; i++) image[i] = (i * 31) % 256;
const builder = new VerityTreeBuilder(salt);
builder.update(image);
const { tree, rootHash } = builder.finish();

function steps(): { write: WriteRootStep; verify: VerifyRootStep } {
  const m = sampleManifest();
  m.payload.root = { path: 'root.erofs.zst', size: image.length, sha256: sha(image), compression: 'zstd', image_size: image.length, image_sha256: sha(image) };
  m.payload.verity = { path: 'root.verity', size: tree.length, sha256: sha(tree), root_hash: rootHash, salt, data_blocks: 40, hash_start_block: 40, block_size: 4096 };
  const entry = { slot: 'a' as const, version: '1.0.0', generation: 1, verity: { rootHash: 'x', dataBlocks: 1, hashStartBlock: 1, salt: '' }, kernelArgs: [] };
  const plan = planStage({ bootedSlot: 'a', manifest: m, entries: [{ name: 'berth-a.conf', text: renderBootEntry(entry) }], kernelArgs: [] });
  const write = plan.steps.find((s): s is WriteRootStep => s.kind === 'write-root');
  const verify = plan.steps.find((s): s is VerifyRootStep => s.kind === 'verify-root');
  if (!write || !verify) throw new Error('plan lacks root steps');
  return { write, verify };
}

const identity = (): PassThrough => new PassThrough();

void t.test('writes image and tree, then verifies them by reading back', async (t) => {
  const dir = t.testdir({ bundle: { 'root.erofs.zst': image, 'root.verity': tree }, 'slot.img': Buffer.alloc(64 * 4096, 0xee) });
  const device = join(dir, 'slot.img');
  const { write, verify } = steps();
  const written = await writeSlot(device, write, join(dir, 'bundle'), identity);
  t.equal(written.bytes, image.length + tree.length);
  t.equal(written.samples.at(-1)?.bytes, image.length, 'the timeline ends with the whole image');
  const slot = await readFile(device);
  t.same(slot.subarray(0, image.length), image);
  t.same(slot.subarray(40 * 4096, 40 * 4096 + tree.length), tree);
  t.equal(slot.length, 64 * 4096, 'the device keeps its size');
  const read = await verifySlot(device, verify);
  t.equal(read.bytes, image.length + tree.length);
  t.equal(read.direct, written.direct, 'read back the way it was written');
});

void t.test('a multi-chunk image with a tail shorter than a block', async (t) => {
  // 900 blocks of data, the image 100 bytes short of them: several 1 MiB direct writes, then
  // a tail written through the page cache; the slot starts zeroed, so the data blocks are the
  // image plus zeros.
  const blocks = 900;
  const data = Buffer.alloc(blocks * 4096);
  for (let i = 0; i < data.length - 100; i++) data[i] = (i * 7 + (i >> 12)) % 256;
  const big = data.subarray(0, data.length - 100);
  const b = new VerityTreeBuilder(salt);
  b.update(data);
  const built = b.finish();
  const dir = t.testdir({ bundle: { 'root.squashfs.zst': big, 'root.verity': built.tree }, 'slot.img': Buffer.alloc((blocks + 16) * 4096) });
  const device = join(dir, 'slot.img');
  const m = sampleManifest();
  m.payload.root = { path: 'root.squashfs.zst', size: big.length, sha256: sha(big), compression: 'zstd', image_size: big.length, image_sha256: sha(big) };
  m.payload.verity = { path: 'root.verity', size: built.tree.length, sha256: sha(built.tree), root_hash: built.rootHash, salt, data_blocks: blocks, hash_start_block: blocks, block_size: 4096 };
  const entry = { slot: 'a' as const, version: '1.0.0', generation: 1, verity: { rootHash: 'x', dataBlocks: 1, hashStartBlock: 1, salt: '' }, kernelArgs: [] };
  const plan = planStage({ bootedSlot: 'a', manifest: m, entries: [{ name: 'berth-a.conf', text: renderBootEntry(entry) }], kernelArgs: [] });
  const write = plan.steps.find((s): s is WriteRootStep => s.kind === 'write-root');
  const verify = plan.steps.find((s): s is VerifyRootStep => s.kind === 'verify-root');
  if (!write || !verify) throw new Error('plan lacks root steps');
  // Odd-sized pieces from the "decompressor": chunks straddle the 1 MiB write buffers.
  const pieces = (): PassThrough => new PassThrough({ highWaterMark: 77_777 });
  const written = await writeSlot(device, write, join(dir, 'bundle'), pieces);
  t.equal(written.samples.length, Math.ceil(big.length / (1024 * 1024)), 'one sample per 1 MiB write');
  t.ok(written.samples.every((s, i, all) => i === 0 || (s.atMs >= (all[i - 1]?.atMs ?? 0) && s.bytes > (all[i - 1]?.bytes ?? 0))), 'the timeline only moves forward');
  t.same((await readFile(device)).subarray(0, big.length), big);
  const read = await verifySlot(device, verify);
  t.equal(read.bytes, data.length + built.tree.length);
});

void t.test('read-back catches a flipped bit in data, tree or root hash', async (t) => {
  const dir = t.testdir({ bundle: { 'root.erofs.zst': image, 'root.verity': tree }, 'slot.img': Buffer.alloc(64 * 4096) });
  const device = join(dir, 'slot.img');
  const { write, verify } = steps();
  await writeSlot(device, write, join(dir, 'bundle'), identity);
  const good = await readFile(device);
  const flip = async (offset: number): Promise<void> => {
    const bad = Buffer.from(good);
    bad[offset] = (bad[offset] ?? 0) ^ 1;
    await writeFile(device, bad);
  };
  await flip(5000);
  await t.rejects(verifySlot(device, verify), { code: errorCode('UPDATER_SLOT_VERIFY_FAILED'), message: /root image hash/ });
  await flip(40 * 4096 + 10);
  await t.rejects(verifySlot(device, verify), { code: errorCode('UPDATER_SLOT_VERIFY_FAILED'), message: /stored hash tree/ });
  await writeFile(device, good);
  await t.rejects(verifySlot(device, { ...verify, rootHash: '0'.repeat(64) }), { code: errorCode('UPDATER_SLOT_VERIFY_FAILED'), message: /root hash/ });
  // A tree that matches the manifest but not the data (a consistent lie in the bundle).
  await t.rejects(verifySlot(device, { ...verify, imageSha256: sha(image), dataBlocks: 39, imageSize: 39 * 4096 }), { code: errorCode('UPDATER_SLOT_VERIFY_FAILED') });
  await t.rejects(verifySlot(join(dir, 'missing.img'), verify), { code: errorCode('UPDATER_SLOT_VERIFY_FAILED') });
});

void t.test('bad inputs stop the write with typed errors', async (t) => {
  const dir = t.testdir({ bundle: { 'root.erofs.zst': image, 'root.verity': tree }, 'slot.img': Buffer.alloc(64 * 4096) });
  const device = join(dir, 'slot.img');
  const { write } = steps();
  await t.rejects(writeSlot(device, { ...write, image: { ...write.image, imageSize: 1000 } }, join(dir, 'bundle'), identity), { code: errorCode('UPDATER_PAYLOAD_TOO_LARGE') });
  await t.rejects(writeSlot(device, { ...write, image: { ...write.image, imageSha256: '0'.repeat(64) } }, join(dir, 'bundle'), identity), { code: errorCode('UPDATER_HASH_MISMATCH') });
  await t.rejects(writeSlot(device, { ...write, image: { ...write.image, size: 100 } }, join(dir, 'bundle'), identity), { code: errorCode('UPDATER_PAYLOAD_TOO_LARGE') });
  await t.rejects(writeSlot(device, { ...write, hashTree: { ...write.hashTree, sha256: '0'.repeat(64) } }, join(dir, 'bundle'), identity), { code: errorCode('UPDATER_HASH_MISMATCH') });
  await t.rejects(writeSlot(join(dir, 'nope', 'slot.img'), write, join(dir, 'bundle'), identity), { code: errorCode('UPDATER_SLOT_WRITE_FAILED') });
});

void t.test('zstd comes from node:zlib when this Node has it', (t) => {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 15)) t.type(zstdDecompressor()(), 'object');
  else t.throws(() => zstdDecompressor(), { code: errorCode('UPDATER_ZSTD_MISSING') });
  t.end();
});

void t.test('the writer process verifies a slot read back, and reports how it read', async (t) => {
  const dir = t.testdir({ bundle: { 'root.erofs.zst': image, 'root.verity': tree }, 'slot.img': Buffer.alloc(64 * 4096) });
  const device = join(dir, 'slot.img');
  const { write, verify } = steps();
  await writeSlot(device, write, join(dir, 'bundle'), identity);
  const outcome = await runSlotWriter(JSON.stringify({ step: verify, bundleDir: '', devicePath: device }), process.pid);
  t.match(outcome, { ok: true, bytes: image.length + tree.length, direct: Boolean });
  const bad = await runSlotWriter(JSON.stringify({ step: { ...verify, rootHash: '0'.repeat(64) }, bundleDir: '', devicePath: device }), process.pid);
  t.match(bad, { ok: false, code: errorCode('UPDATER_SLOT_VERIFY_FAILED') });
});
