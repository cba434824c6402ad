import t from 'tap';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { planStage } from '../../src/core/slots.ts';
import { VerityTreeBuilder } from '../../src/core/verity.ts';
import { renderBootEntry } from '../../../lib/boot-entry.ts';
import { verifySlot, writeSlot, zstdDecompressor, type VerifyRootStep, type WriteRootStep } from '../../src/slot-io.ts';
import { sampleManifest } from './fixtures.ts';

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
  await writeSlot(device, write, join(dir, 'bundle'), identity);
  const slot = await readFile(device);
  t.same(slot.subarray(0, image.length), image);
  t.same(slot.subarray(40 * 4096, 40 * 4096 + tree.length), tree);
  t.equal(slot.length, 64 * 4096, 'the device keeps its size');
  await verifySlot(device, verify);
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
  await t.rejects(verifySlot(device, verify), { code: 'UPDATER_SLOT_VERIFY_FAILED', message: /root image hash/ });
  await flip(40 * 4096 + 10);
  await t.rejects(verifySlot(device, verify), { code: 'UPDATER_SLOT_VERIFY_FAILED', message: /stored hash tree/ });
  await writeFile(device, good);
  await t.rejects(verifySlot(device, { ...verify, rootHash: '0'.repeat(64) }), { code: 'UPDATER_SLOT_VERIFY_FAILED', message: /root hash/ });
  // A tree that matches the manifest but not the data (a consistent lie in the bundle).
  await t.rejects(verifySlot(device, { ...verify, imageSha256: sha(image), dataBlocks: 39, imageSize: 39 * 4096 }), { code: 'UPDATER_SLOT_VERIFY_FAILED' });
  await t.rejects(verifySlot(join(dir, 'missing.img'), verify), { code: 'UPDATER_SLOT_VERIFY_FAILED' });
});

void t.test('bad inputs stop the write with typed errors', async (t) => {
  const dir = t.testdir({ bundle: { 'root.erofs.zst': image, 'root.verity': tree }, 'slot.img': Buffer.alloc(64 * 4096) });
  const device = join(dir, 'slot.img');
  const { write } = steps();
  await t.rejects(writeSlot(device, { ...write, image: { ...write.image, imageSize: 1000 } }, join(dir, 'bundle'), identity), { code: 'UPDATER_PAYLOAD_TOO_LARGE' });
  await t.rejects(writeSlot(device, { ...write, image: { ...write.image, imageSha256: '0'.repeat(64) } }, join(dir, 'bundle'), identity), { code: 'UPDATER_HASH_MISMATCH' });
  await t.rejects(writeSlot(device, { ...write, image: { ...write.image, size: 100 } }, join(dir, 'bundle'), identity), { code: 'UPDATER_PAYLOAD_TOO_LARGE' });
  await t.rejects(writeSlot(device, { ...write, hashTree: { ...write.hashTree, sha256: '0'.repeat(64) } }, join(dir, 'bundle'), identity), { code: 'UPDATER_HASH_MISMATCH' });
  await t.rejects(writeSlot(join(dir, 'nope', 'slot.img'), write, join(dir, 'bundle'), identity), { code: 'UPDATER_SLOT_WRITE_FAILED' });
});

void t.test('zstd comes from node:zlib when this Node has it', (t) => {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 15)) t.type(zstdDecompressor()(), 'object');
  else t.throws(() => zstdDecompressor(), { code: 'UPDATER_ZSTD_MISSING' });
  t.end();
});
