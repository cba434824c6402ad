/**
 * Writing a root slot and reading it back. `writeSlot` streams the decompressed root
 * image to the start of the slot's partition and the verity hash tree to its offset with
 * direct I/O: no dirty page cache that background writeback could flush outside the
 * writer's cgroup, so its io.max paces the writer itself; fsync at the end. `verifySlot`
 * reads everything back with direct I/O (from the disk, not from cached pages), checks
 * the image hash, rebuilds the verity tree from the data blocks, and compares tree and
 * root hash with the manifest. Effects: the given device (or file) only.
 */
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { pipeline, Readable, type Transform } from 'node:stream';
import { BerthError } from '../../lib/errors.ts';
import type { StageStep } from './core/slots.ts';
import { VerityTreeBuilder } from './core/verity.ts';
import type { RateSample } from './core/write-rate.ts';
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

/**
 * Offsets, lengths and memory of direct I/O are multiples of this: the largest logical
 * block size a disk reports (4096 also covers 512-byte disks).
 */
export const DIRECT_IO_ALIGNMENT = 4096;

/** Writes completed before the rate window opens: io.max lets the first slice through at once. */
export const RATE_SKIP_MS = 2000;

/**
 * Memory the kernel accepts for O_DIRECT. Node's Buffers come from malloc and are only
 * 16-byte aligned, so direct I/O on them fails with EINVAL; a WebAssembly.Memory is
 * mapped in whole pages, so its start is page-aligned.
 */
export function alignedBuffer(bytes: number): Buffer {
  const pages = Math.max(1, Math.ceil(bytes / 65_536));
  return Buffer.from(new wasm.Memory({ initial: pages, maximum: pages }).buffer, 0, bytes);
}

/** The WebAssembly global (the project's type libraries declare only its types). */
const wasm = (globalThis as unknown as { WebAssembly: { Memory: new (size: { initial: number; maximum: number }) => { buffer: ArrayBuffer } } }).WebAssembly;

/** How a slot was accessed: `direct` false only where the file refuses O_DIRECT (tests on tmpfs). */
export interface SlotIoStats {
  /** Bytes written (image and tree) or read back. */
  bytes: number;
  direct: boolean;
}

/** One point of the writer's own timeline over the image: after a write returned. */
export type WriteSample = RateSample;

/** What writeSlot reports beside the bytes: its timeline over the image, for the rate. */
export interface SlotWriteStats extends SlotIoStats {
  samples: WriteSample[];
}

/**
 * Opens `path` for direct I/O (page cache bypassed: writes are charged to the caller's
 * cgroup and paced by its io.max, reads come from the device). A file that refuses
 * O_DIRECT (EINVAL: tmpfs before Linux 6.6, some overlay setups) is opened with
 * O_DSYNC instead, and the result says so.
 */
async function openDirect(path: string, flags: number): Promise<{ handle: FileHandle; direct: boolean }> {
  try {
    return { handle: await open(path, flags | constants.O_DIRECT), direct: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EINVAL') throw error;
    return { handle: await open(path, flags | constants.O_DSYNC), direct: false };
  }
}

async function writeFully(handle: FileHandle, buffer: Buffer, length: number, position: number): Promise<void> {
  let written = 0;
  while (written < length) {
    const { bytesWritten } = await handle.write(buffer, written, length - written, position + written);
    written += bytesWritten;
  }
}

/**
 * Streams `source` to `devicePath` at `offset` with direct I/O from aligned buffers, two
 * of them: the next chunk is filled while the previous one is being written, so the
 * device always has a write in flight unless the source is slower than the throttle
 * (that time is counted as starved). A tail that is not a multiple of the alignment is
 * written through the page cache with O_DSYNC. Ends with fsync (the disk's cache).
 */
async function writeStream(
  devicePath: string,
  offset: number,
  source: AsyncIterable<Uint8Array>,
  onChunk: (chunk: Buffer) => void,
  onWritten?: (sample: WriteSample) => void,
): Promise<{ bytes: number; direct: boolean }> {
  if (offset % DIRECT_IO_ALIGNMENT !== 0) throw new RangeError(`Slot offset ${offset} is not a multiple of ${DIRECT_IO_ALIGNMENT}`);
  const { handle, direct } = await openDirect(devicePath, constants.O_WRONLY);
  const buffers = [alignedBuffer(WRITE_CHUNK), alignedBuffer(WRITE_CHUNK)];
  const started = performance.now();
  let position = offset;
  let inFlight: Promise<void> | undefined;
  let isWriting = false;
  let idleSince = started;
  let starvedMs = 0;
  let fill = 0;
  let filled = 0;
  const issue = async (length: number): Promise<void> => {
    const buffer = buffers[fill] as Buffer;
    // Waiting for the previous write is the throttle at work; finding none in flight means
    // the device sat idle for want of data.
    if (!isWriting) starvedMs += performance.now() - idleSince;
    if (inFlight) await inFlight;
    const at = position;
    position += length;
    const aligned = length - (length % DIRECT_IO_ALIGNMENT);
    isWriting = true;
    const write = (async () => {
      await writeFully(handle, buffer, aligned, at);
      if (aligned < length) await writeTail(devicePath, buffer.subarray(aligned, length), at + aligned);
    })();
    inFlight = write.then(() => {
      isWriting = false;
      idleSince = performance.now();
      onWritten?.({ atMs: idleSince - started, bytes: position - offset, starvedMs });
    });
    // Swallowed here, rethrown by the next await of inFlight: no unhandled rejection meanwhile.
    inFlight.catch(() => undefined);
    fill = 1 - fill;
    filled = 0;
  };
  try {
    for await (const piece of source) {
      let chunk = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
      onChunk(chunk);
      while (chunk.length > 0) {
        const taken = chunk.copy(buffers[fill] as Buffer, filled);
        filled += taken;
        chunk = chunk.subarray(taken);
        if (filled === WRITE_CHUNK) await issue(filled);
      }
    }
    if (filled > 0) await issue(filled);
    if (inFlight) await inFlight;
    await handle.sync();
  } finally {
    await inFlight?.catch(() => undefined);
    await handle.close();
  }
  return { bytes: position - offset, direct };
}

async function writeTail(devicePath: string, bytes: Buffer, position: number): Promise<void> {
  const handle = await open(devicePath, constants.O_WRONLY | constants.O_DSYNC);
  try {
    await writeFully(handle, bytes, bytes.length, position);
  } finally {
    await handle.close();
  }
}

/**
 * Writes the root image and hash tree of a bundle (in `bundleDir`) into `devicePath`.
 * The compressed file, the decompressed image and the tree are each checked against the
 * manifest while streaming. Returns the bytes written and the image write's timeline.
 * Throws the payload check's codes or UPDATER_SLOT_WRITE_FAILED.
 */
export async function writeSlot(devicePath: string, step: WriteRootStep, bundleDir: string, decompress: Decompressor): Promise<SlotWriteStats> {
  const { image, hashTree } = step;
  const compressed = new PayloadCheck(`${image.path} (compressed)`, { size: image.size, sha256: image.sha256 });
  const imageHash = createHash('sha256');
  const samples: WriteSample[] = [];
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
    const written = await writeStream(
      devicePath,
      0,
      plain,
      (chunk) => {
        imageBytes += chunk.length;
        if (imageBytes > image.imageSize) throw new BerthError('UPDATER_PAYLOAD_TOO_LARGE', `Refusing ${image.path}: it decompresses to more than the ${image.imageSize} bytes the manifest declares`);
        imageHash.update(chunk);
      },
      (sample) => samples.push(sample),
    );
    compressed.finish();
    const digest = imageHash.digest('hex');
    if (imageBytes !== image.imageSize) throw new BerthError('UPDATER_PAYLOAD_TRUNCATED', `Refusing ${image.path}: it decompresses to ${imageBytes} of ${image.imageSize} bytes`);
    if (digest !== image.imageSha256) {
      throw new BerthError('UPDATER_HASH_MISMATCH', `Refusing ${image.path}: the decompressed image does not match the manifest`);
    }
    const tree = new PayloadCheck(hashTree.path, { size: hashTree.size, sha256: hashTree.sha256 });
    const treeWritten = await writeStream(devicePath, hashTree.offset, createReadStream(join(bundleDir, hashTree.path), { highWaterMark: WRITE_CHUNK }), (chunk) => tree.update(chunk));
    tree.finish();
    return { bytes: written.bytes + treeWritten.bytes, direct: written.direct && treeWritten.direct, samples };
  } catch (error) {
    if (error instanceof BerthError) throw error;
    const full = (error as NodeJS.ErrnoException).code === 'ENOSPC' ? ': the slot is too small' : '';
    throw new BerthError('UPDATER_SLOT_WRITE_FAILED', `Cannot write slot ${step.slot} (${devicePath})${full}`, { cause: error });
  }
}

/**
 * Feeds `length` bytes of `devicePath` from `start` to `consume`, read with direct I/O so
 * they come from the disk, not from pages the writer (or anyone) left in the page cache.
 */
async function hashRange(devicePath: string, start: number, length: number, consume: (chunk: Buffer) => void): Promise<boolean> {
  if (start % DIRECT_IO_ALIGNMENT !== 0) throw new RangeError(`Slot offset ${start} is not a multiple of ${DIRECT_IO_ALIGNMENT}`);
  const { handle, direct } = await openDirect(devicePath, constants.O_RDONLY);
  try {
    if (length === 0) return direct;
    const buffer = alignedBuffer(WRITE_CHUNK);
    let seen = 0;
    while (seen < length) {
      // Direct reads are whole aligned blocks; the last one may reach past `length`.
      const want = Math.min(WRITE_CHUNK, Math.ceil((length - seen) / DIRECT_IO_ALIGNMENT) * DIRECT_IO_ALIGNMENT);
      const { bytesRead } = await handle.read(buffer, 0, want, start + seen);
      if (bytesRead === 0) break;
      const used = Math.min(bytesRead, length - seen);
      consume(buffer.subarray(0, used));
      seen += used;
      if (bytesRead < want) break;
    }
    if (seen !== length) throw new BerthError('UPDATER_SLOT_VERIFY_FAILED', `Slot device ${devicePath} ended after ${start + seen} bytes, expected ${start + length}`);
    return direct;
  } finally {
    await handle.close();
  }
}

/**
 * Reads a written slot back: the image's sha256, the verity tree rebuilt from the data
 * blocks against the stored tree and the manifest's tree hash, and the root hash.
 * Throws UPDATER_SLOT_VERIFY_FAILED naming the failed check.
 */
export async function verifySlot(devicePath: string, step: VerifyRootStep): Promise<SlotIoStats> {
  const fail = (what: string): never => {
    throw new BerthError('UPDATER_SLOT_VERIFY_FAILED', `Slot ${step.slot} (${devicePath}) failed verification: ${what}; it stays unbootable`);
  };
  try {
    const image = createHash('sha256');
    const builder = new VerityTreeBuilder(step.salt, step.blockSize);
    const dataBytes = step.dataBlocks * step.blockSize;
    let position = 0;
    const dataDirect = await hashRange(devicePath, 0, Math.max(dataBytes, step.imageSize), (chunk) => {
      const imagePart = chunk.subarray(0, Math.max(0, Math.min(chunk.length, step.imageSize - position)));
      if (imagePart.length > 0) image.update(imagePart);
      const dataPart = chunk.subarray(0, Math.max(0, Math.min(chunk.length, dataBytes - position)));
      if (dataPart.length > 0) builder.update(dataPart);
      position += chunk.length;
    });
    if (image.digest('hex') !== step.imageSha256) fail('the root image hash differs from the manifest');
    const built = builder.finish();
    const stored: Buffer[] = [];
    // consume() gets a view of the reused read buffer: copy what is kept.
    const treeDirect = await hashRange(devicePath, step.hashTreeOffset, step.hashTreeSize, (chunk) => stored.push(Buffer.from(chunk)));
    const tree = Buffer.concat(stored);
    if (createHash('sha256').update(tree).digest('hex') !== step.hashTreeSha256) fail('the stored hash tree differs from the manifest');
    if (!tree.equals(built.tree)) fail('the hash tree does not match the data blocks');
    if (built.rootHash !== step.rootHash) fail('the verity root hash differs from the manifest');
    return { bytes: position + tree.length, direct: dataDirect && treeDirect };
  } catch (error) {
    if (error instanceof BerthError) throw error;
    throw new BerthError('UPDATER_SLOT_VERIFY_FAILED', `Cannot read slot ${step.slot} (${devicePath}) back`, { cause: error });
  }
}
