/**
 * Appends a stream's chunks to an open file in batches: a socket hands over 16–64 KiB at a time
 * and zlib 16–256 KiB, and under emulation each write's round trip through libuv's thread pool
 * costs more than the bytes it carries (a 100 MB layer was ~6,400 writes). Chunks are gathered
 * without copying and written with one writev(2) per batch. Effects: writes to the handle.
 */
import type { FileHandle } from 'node:fs/promises';

/**
 * Bytes gathered before a batch is written. Larger batches save few calls more and hold more
 * chunks alive: measured on a 100 MB layer under TCG, 1 MiB batches (with 1 MiB reads) peaked
 * at 115 MB resident against 80 MB with 256 KiB, for the same time within the noise.
 */
export const DEFAULT_BATCH_BYTES = 256 * 1024;
/** Chunks gathered before a batch is written, well under Linux's IOV_MAX of 1024. */
const MAX_BATCH_CHUNKS = 256;

export interface BatchedWriter {
  /** Queues `chunk` (its memory must not be reused by the caller) and writes the batch once it is full. */
  write(chunk: Uint8Array): Promise<void>;
  /** Writes whatever is queued. Call before the file is synced, closed or judged complete. */
  flush(): Promise<void>;
}

/** A writer appending to `handle` at its current position, `batchBytes` at a time. */
export function createBatchedWriter(handle: FileHandle, batchBytes = DEFAULT_BATCH_BYTES): BatchedWriter {
  let queued: Uint8Array[] = [];
  let queuedBytes = 0;

  async function writeAll(chunks: Uint8Array[]): Promise<void> {
    let pending = chunks;
    while (pending.length > 0) {
      const { bytesWritten } = await handle.writev(pending);
      // A regular file writes everything or fails; a short write of nothing would loop forever.
      if (bytesWritten === 0) throw new Error('the file accepted no bytes (short write)');
      pending = dropWritten(pending, bytesWritten);
    }
  }

  async function flush(): Promise<void> {
    if (queued.length === 0) return;
    const batch = queued;
    queued = [];
    queuedBytes = 0;
    await writeAll(batch);
  }

  return {
    async write(chunk) {
      if (chunk.length === 0) return;
      queued.push(chunk);
      queuedBytes += chunk.length;
      if (queuedBytes >= batchBytes || queued.length >= MAX_BATCH_CHUNKS) await flush();
    },
    flush,
  };
}

/** What is left of `chunks` after the first `written` bytes went out. */
export function dropWritten(chunks: readonly Uint8Array[], written: number): Uint8Array[] {
  let skip = written;
  const rest: Uint8Array[] = [];
  for (const chunk of chunks) {
    if (skip >= chunk.length) {
      skip -= chunk.length;
      continue;
    }
    rest.push(skip > 0 ? chunk.subarray(skip) : chunk);
    skip = 0;
  }
  return rest;
}
