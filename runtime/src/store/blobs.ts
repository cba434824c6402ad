/**
 * The content-addressed blob store: `<root>/<algorithm>/<hex>` (sha256 or sha512), each blob
 * hashed with its digest's own algorithm while it streams in and only renamed to its name once
 * its size and digest match the descriptor. Interrupted downloads stay in `<root>/.partial/`
 * and resume from their length; nothing under `sha256/` or `sha512/` is ever unverified.
 * Chunks go to disk in batches of 256 KiB (lib/sys/batched-writer.ts). With a SpaceGuard, every
 * chunk is charged before it is written, and a blob stopped at the disk reserve leaves no partial behind. Effects: files below `root`.
 */
import { createReadStream, constants as fsConstants, promises as fsp } from 'node:fs';
import * as nodePath from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError, errnoCode, isBerthError } from '../../../lib/errors.ts';
import { syncDirectory } from '../../../lib/sys/atomic-file.ts';
import { createBatchedWriter } from '../../../lib/sys/batched-writer.ts';
import { digestOf, hasherFor, parseDigest, shortDigest, type DigestAlgorithm } from '../core/digest.ts';
import type { SpaceGuard } from './disk-space.ts';

/** What the store needs to know about a blob before fetching it. */
export interface BlobDescriptor {
  digest: string;
  size: number;
}

/** Opens the blob's bytes from `offset` on (a registry Range request, a file, a tar member). */
export type BlobSource = (offset: number) => Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array>> | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export interface BlobStore {
  readonly root: string;
  /** Where a verified blob lives (it may not exist yet). */
  pathOf(digest: string): string;
  has(digest: string): Promise<boolean>;
  /** Fetches, verifies and stores a blob; resumes a partial download. Returns how many bytes were fetched now. */
  put(descriptor: BlobDescriptor, source: BlobSource): Promise<{ fetchedBytes: number; resumedFrom: number }>;
  /** A stream of a stored blob. */
  open(digest: string): Readable;
  /** Reads a small blob (manifest, config) whole, checking its digest again. */
  read(digest: string, maxBytes: number): Promise<Buffer>;
  /** Stored digests. */
  list(): Promise<string[]>;
  /** Removes a stored blob (garbage collection). */
  remove(digest: string): Promise<void>;
}

const PARTIAL_DIR = '.partial';
const COPY_CHUNK = 1024 * 1024;
/**
 * The read size of open(): larger reads cost fewer trips through the stream machinery, but
 * every chunk is garbage V8 collects late (measured under TCG on a 100 MB layer: 1 MiB reads,
 * 256 KiB decoder chunks and 1 MiB write batches peaked at 115 MB resident against 80 MB with
 * 256 KiB, 64 KiB and 256 KiB, for the same time within the noise).
 */
export const READ_CHUNK_BYTES = 256 * 1024;

/** The algorithms whose blobs the store holds (parseDigest refuses any other). */
const STORED_ALGORITHMS: Readonly<Record<DigestAlgorithm, RegExp>> = { sha256: /^[a-f0-9]{64}$/, sha512: /^[a-f0-9]{128}$/ };

/** A blob store rooted at `root` (created on first write). sha256 and sha512 digests are stored. */
export function createBlobStore(root: string, options: { space?: SpaceGuard } = {}): BlobStore {
  const space = options.space;
  const algorithmDir = (algorithm: string): string => nodePath.join(root, algorithm);
  const pathOf = (digest: string): string => {
    // parseDigest refuses algorithms berth cannot verify, naming the digest.
    const { algorithm, encoded } = parseDigest(digest);
    return nodePath.join(algorithmDir(algorithm), encoded);
  };
  const partialPathOf = (digest: string): string => {
    const { algorithm, encoded } = parseDigest(digest);
    return nodePath.join(root, PARTIAL_DIR, `${algorithm}-${encoded}`);
  };

  async function has(digest: string): Promise<boolean> {
    try {
      return (await fsp.lstat(pathOf(digest))).isFile();
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return false;
      throw error;
    }
  }

  // One writer per digest in this process: two appenders on one partial file would corrupt it.
  const inflight = new Map<string, Promise<{ fetchedBytes: number; resumedFrom: number }>>();

  function put(descriptor: BlobDescriptor, source: BlobSource): Promise<{ fetchedBytes: number; resumedFrom: number }> {
    const running = inflight.get(descriptor.digest);
    if (running !== undefined) return running.then(() => ({ fetchedBytes: 0, resumedFrom: descriptor.size }));
    const attempt = putOnce(descriptor, source).finally(() => inflight.delete(descriptor.digest));
    inflight.set(descriptor.digest, attempt);
    return attempt;
  }

  async function putOnce(descriptor: BlobDescriptor, source: BlobSource): Promise<{ fetchedBytes: number; resumedFrom: number }> {
    const { digest, size } = descriptor;
    const finalPath = pathOf(digest);
    if (!Number.isSafeInteger(size) || size < 0) throw new BerthError('RUNTIME_BLOB_SIZE_MISMATCH', `Blob ${shortDigest(digest)}: invalid size ${size}`);
    if (await has(digest)) return { fetchedBytes: 0, resumedFrom: size };
    await fsp.mkdir(nodePath.join(root, PARTIAL_DIR), { recursive: true, mode: 0o700 });
    await fsp.mkdir(nodePath.dirname(finalPath), { recursive: true, mode: 0o700 });
    const partialPath = partialPathOf(digest);

    // Re-hash what an earlier attempt left; a partial longer than the blob is garbage.
    const { hash, finish } = hasherFor(digest);
    let offset = 0;
    try {
      const stat = await fsp.lstat(partialPath);
      if (!stat.isFile() || stat.size > size) await fsp.rm(partialPath, { force: true });
      else {
        for await (const chunk of createReadStream(partialPath, { highWaterMark: COPY_CHUNK }) as AsyncIterable<Buffer>) {
          hash.update(chunk);
          offset += chunk.length;
        }
      }
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
    }
    const resumedFrom = offset;

    const what = `Blob ${shortDigest(digest)}`;
    if (offset === 0) await space?.charge(what, 0, 1);
    const handle = await fsp.open(partialPath, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_APPEND | fsConstants.O_NOFOLLOW, 0o600);
    const writer = createBatchedWriter(handle);
    let fetched = 0;
    try {
      if (offset < size) {
        try {
          for await (const chunk of await source(offset)) {
            // Never store more than the descriptor promised: a lying server cannot fill the disk.
            if (offset + chunk.length > size) {
              await handle.close();
              await fsp.rm(partialPath, { force: true });
              throw new BerthError('RUNTIME_BLOB_SIZE_MISMATCH', `Blob ${shortDigest(digest)}: source sent more than the ${size} bytes the descriptor says`);
            }
            // Charged before it is written: the disk reserve is never crossed by this store's writes.
            if (space !== undefined) {
              try {
                await space.charge(what, chunk.length);
              } catch (error) {
                // Stopped for space: the partial is removed too, so stopping gives the space back.
                await handle.close();
                await fsp.rm(partialPath, { force: true });
                throw error;
              }
            }
            hash.update(chunk);
            await writer.write(chunk);
            offset += chunk.length;
            fetched += chunk.length;
          }
        } catch (error) {
          // A source that fails mid-way (a dropped connection) keeps what arrived for the resume.
          if (!isBerthError(error)) await writer.flush().catch(() => undefined);
          throw error;
        }
        await writer.flush();
      }
      await handle.sync();
    } finally {
      await handle.close().catch(() => undefined);
    }
    if (offset !== size) {
      // Keep the partial: a later attempt resumes from here.
      throw new BerthError('RUNTIME_BLOB_INCOMPLETE', `Blob ${shortDigest(digest)}: got ${offset} of ${size} bytes; the next attempt resumes`);
    }
    const actual = finish();
    if (actual !== digest) {
      await fsp.rm(partialPath, { force: true });
      throw new BerthError('RUNTIME_BLOB_DIGEST_MISMATCH', `Blob ${shortDigest(digest)}: content hashes to ${actual}; refused and discarded`);
    }
    await fsp.rename(partialPath, finalPath);
    await syncDirectory(nodePath.dirname(finalPath));
    return { fetchedBytes: fetched, resumedFrom };
  }

  async function read(digest: string, maxBytes: number): Promise<Buffer> {
    const path = pathOf(digest);
    const handle = await fsp.open(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW).catch((error: unknown) => {
      if (errnoCode(error) === 'ENOENT') throw new BerthError('RUNTIME_BLOB_MISSING', `Blob ${shortDigest(digest)} is not in the store`);
      throw error;
    });
    try {
      const stat = await handle.stat();
      if (stat.size > maxBytes) throw new BerthError('RUNTIME_BLOB_SIZE_MISMATCH', `Blob ${shortDigest(digest)}: ${stat.size} bytes is more than ${maxBytes}`);
      const data = await handle.readFile();
      // Small blobs are checked again on every read: cheap, and a flipped bit never becomes a config.
      const actual = digestOf(data, parseDigest(digest).algorithm as DigestAlgorithm);
      if (actual !== digest) throw new BerthError('RUNTIME_BLOB_DIGEST_MISMATCH', `Blob ${shortDigest(digest)} in the store hashes to ${actual}; remove it and pull again`);
      return data;
    } finally {
      await handle.close();
    }
  }

  async function list(): Promise<string[]> {
    const all: string[] = [];
    for (const [algorithm, shape] of Object.entries(STORED_ALGORITHMS)) {
      const names = await fsp.readdir(algorithmDir(algorithm)).catch((error: unknown) => {
        if (errnoCode(error) === 'ENOENT') return [];
        throw error;
      });
      all.push(...names.filter((name) => shape.test(name)).map((name) => `${algorithm}:${name}`));
    }
    return all.sort();
  }

  return {
    root,
    pathOf,
    has,
    put,
    open: (digest) => createReadStream(pathOf(digest), { highWaterMark: READ_CHUNK_BYTES }),
    read,
    list,
    remove: (digest) => fsp.rm(pathOf(digest), { force: true }),
  };
}
