/**
 * Writing a root slot and reading it back. `writeSlot` streams the decompressed root
 * image to the start of the slot's partition and the verity hash tree to its offset,
 * with O_DSYNC so every write reaches the device before the next one is issued: the
 * writer itself waits for the disk, so the io.max limit of its cgroup paces it rather
 * than the kernel's background writeback. `verifySlot` reads everything back and checks
 * the image hash, rebuilds the verity tree from the data blocks, and compares tree and
 * root hash with the manifest. Effects: the given device (or file) only.
 */
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { pipeline, Readable, type Transform } from 'node:stream';
import { BerthError } from '../../lib/errors.ts';
import type { StageStep } from './core/slots.ts';
import { VerityTreeBuilder } from './core/verity.ts';
import { PayloadCheck } from './payload-check.ts';

export type WriteRootStep = Extract<StageStep, { kind: 'write-root' }>;
export type VerifyRootStep = Extract<StageStep, { kind: 'verify-root' }>;

/** Makes the zstd decompressor (Node 24's zlib has one; tests may pass their own). */
export type Decompressor = () => Transform;

/**
 * zstd from Node's own zlib (Node 22.15 and later, so the bundled Node 24 has it; the
 * root filesystem ships no zstd binary). Throws UPDATER_ZSTD_MISSING on an older Node.
 */
export function zstdDecompressor(): Decompressor {
  const create = (zlib as { createZstdDecompress?: () => Transform }).createZstdDecompress;
  if (create === undefined) throw new BerthError('UPDATER_ZSTD_MISSING', `This Node (${process.version}) has no zstd; the updater needs Node 22.15 or later`);
  return () => create();
}

/** Bytes per write: large enough for throughput, small enough that io.max paces smoothly. */
const WRITE_CHUNK = 1024 * 1024;

async function* rechunk(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let length = 0;
  for await (const chunk of source) {
    pending.push(Buffer.from(chunk));
    length += chunk.byteLength;
    while (length >= size) {
      const all = Buffer.concat(pending);
      yield all.subarray(0, size);
      pending = [all.subarray(size)];
      length -= size;
    }
  }
  if (length > 0) yield Buffer.concat(pending);
}

async function writeStream(devicePath: string, offset: number, source: AsyncIterable<Uint8Array>, onChunk: (chunk: Buffer) => void): Promise<number> {
  const handle = await open(devicePath, constants.O_WRONLY | constants.O_DSYNC);
  let position = offset;
  try {
    for await (const chunk of rechunk(source, WRITE_CHUNK)) {
      onChunk(chunk);
      let written = 0;
      while (written < chunk.length) {
        const { bytesWritten } = await handle.write(chunk, written, chunk.length - written, position + written);
        written += bytesWritten;
      }
      position += chunk.length;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return position - offset;
}

/**
 * Writes the root image and hash tree of a bundle (in `bundleDir`) into `devicePath`.
 * The compressed file, the decompressed image and the tree are each checked against the
 * manifest while streaming. Throws the payload check's codes or UPDATER_SLOT_WRITE_FAILED.
 */
export async function writeSlot(devicePath: string, step: WriteRootStep, bundleDir: string, decompress: Decompressor): Promise<void> {
  const { image, hashTree } = step;
  const compressed = new PayloadCheck(`${image.path} (compressed)`, { size: image.size, sha256: image.sha256 });
  const imageHash = createHash('sha256');
  let imageBytes = 0;
  try {
    const path = join(bundleDir, image.path);
    async function* checkedSource(): AsyncGenerator<Buffer> {
      for await (const chunk of createReadStream(path, { highWaterMark: WRITE_CHUNK })) {
        compressed.update(chunk as Buffer);
        yield chunk as Buffer;
      }
    }
    // pipeline() destroys every stage on an error and fails the last one, which the
    // writer below reads from: a bad compressed file stops the write.
    const plain = pipeline(Readable.from(checkedSource()), decompress(), () => undefined);
    await writeStream(devicePath, 0, plain, (chunk) => {
      imageBytes += chunk.length;
      if (imageBytes > image.imageSize) throw new BerthError('UPDATER_PAYLOAD_TOO_LARGE', `Refusing ${image.path}: it decompresses to more than the ${image.imageSize} bytes the manifest declares`);
      imageHash.update(chunk);
    });
    compressed.finish();
    const digest = imageHash.digest('hex');
    if (imageBytes !== image.imageSize) throw new BerthError('UPDATER_PAYLOAD_TRUNCATED', `Refusing ${image.path}: it decompresses to ${imageBytes} of ${image.imageSize} bytes`);
    if (digest !== image.imageSha256) {
      throw new BerthError('UPDATER_HASH_MISMATCH', `Refusing ${image.path}: the decompressed image does not match the manifest`);
    }
    const tree = new PayloadCheck(hashTree.path, { size: hashTree.size, sha256: hashTree.sha256 });
    await writeStream(devicePath, hashTree.offset, createReadStream(join(bundleDir, hashTree.path), { highWaterMark: WRITE_CHUNK }), (chunk) => tree.update(chunk));
    tree.finish();
  } catch (error) {
    if (error instanceof BerthError) throw error;
    const full = (error as NodeJS.ErrnoException).code === 'ENOSPC' ? ': the slot is too small' : '';
    throw new BerthError('UPDATER_SLOT_WRITE_FAILED', `Cannot write slot ${step.slot} (${devicePath})${full}`, { cause: error });
  }
}

async function hashRange(devicePath: string, start: number, length: number, consume: (chunk: Buffer) => void): Promise<void> {
  if (length === 0) return;
  let seen = 0;
  for await (const chunk of createReadStream(devicePath, { start, end: start + length - 1, highWaterMark: WRITE_CHUNK })) {
    const bytes = chunk as Buffer;
    seen += bytes.length;
    consume(bytes);
  }
  if (seen !== length) throw new BerthError('UPDATER_SLOT_VERIFY_FAILED', `Slot device ${devicePath} ended after ${start + seen} bytes, expected ${start + length}`);
}

/**
 * Reads a written slot back: the image's sha256, the verity tree rebuilt from the data
 * blocks against the stored tree and the manifest's tree hash, and the root hash.
 * Throws UPDATER_SLOT_VERIFY_FAILED naming the failed check.
 */
export async function verifySlot(devicePath: string, step: VerifyRootStep): Promise<void> {
  const fail = (what: string): never => {
    throw new BerthError('UPDATER_SLOT_VERIFY_FAILED', `Slot ${step.slot} (${devicePath}) failed verification: ${what}; it stays unbootable`);
  };
  try {
    const image = createHash('sha256');
    const builder = new VerityTreeBuilder(step.salt, step.blockSize);
    const dataBytes = step.dataBlocks * step.blockSize;
    let position = 0;
    await hashRange(devicePath, 0, Math.max(dataBytes, step.imageSize), (chunk) => {
      const imagePart = chunk.subarray(0, Math.max(0, Math.min(chunk.length, step.imageSize - position)));
      if (imagePart.length > 0) image.update(imagePart);
      const dataPart = chunk.subarray(0, Math.max(0, Math.min(chunk.length, dataBytes - position)));
      if (dataPart.length > 0) builder.update(dataPart);
      position += chunk.length;
    });
    if (image.digest('hex') !== step.imageSha256) fail('the root image hash differs from the manifest');
    const built = builder.finish();
    const stored: Buffer[] = [];
    await hashRange(devicePath, step.hashTreeOffset, step.hashTreeSize, (chunk) => stored.push(chunk));
    const tree = Buffer.concat(stored);
    if (createHash('sha256').update(tree).digest('hex') !== step.hashTreeSha256) fail('the stored hash tree differs from the manifest');
    if (!tree.equals(built.tree)) fail('the hash tree does not match the data blocks');
    if (built.rootHash !== step.rootHash) fail('the verity root hash differs from the manifest');
  } catch (error) {
    if (error instanceof BerthError) throw error;
    throw new BerthError('UPDATER_SLOT_VERIFY_FAILED', `Cannot read slot ${step.slot} (${devicePath}) back`, { cause: error });
  }
}
