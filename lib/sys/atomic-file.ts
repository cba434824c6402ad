/**
 * Crash-safe file replacement, the one implementation every component uses: write a
 * temp file beside the target, fsync it, rename it over the target, fsync the
 * directory. After a power cut the target holds the old content or the new, never a
 * mix. Effects: the target's directory only.
 */
import { constants } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface SyncDirectoryOptions {
  /** Refuse (ENOTDIR) when the directory itself is a symlink, e.g. inside an unpacked image tree. */
  refuseSymlink?: boolean;
}

/** fsyncs a directory, making entries created, renamed or removed in it durable. */
export async function syncDirectory(path: string, options: SyncDirectoryOptions = {}): Promise<void> {
  const flags = constants.O_RDONLY | constants.O_DIRECTORY | (options.refuseSymlink === true ? constants.O_NOFOLLOW : 0);
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsyncs a file that was written without a handle at hand. */
export async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * The temp file a replacement of `path` writes first: hidden, in the same directory
 * (a rename is only atomic within one filesystem) and with a fixed name, so a retry
 * after a crash overwrites the leftover instead of adding another.
 */
export function atomicTempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp`);
}

export interface AtomicWriteOptions {
  /** Mode of the file when it is created (default 0600). */
  mode?: number;
}

/**
 * Replaces `path` with what `write` puts through the handle: temp file, fsync, rename,
 * fsync of the directory. The directory must exist. On failure the temp file is
 * removed, the old `path` is untouched, and the error is rethrown as it came.
 */
export async function replaceFileAtomically(path: string, write: (handle: FileHandle) => Promise<void>, options: AtomicWriteOptions = {}): Promise<void> {
  const temp = atomicTempPath(path);
  try {
    const handle = await open(temp, 'w', options.mode ?? 0o600);
    try {
      await write(handle);
      // The data must be on disk before the rename gives it the target's name.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  // The rename itself is only durable once the directory is synced.
  await syncDirectory(dirname(path));
}

/** Replaces `path` with `data` crash-safely (see replaceFileAtomically). */
export async function writeFileAtomically(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  await replaceFileAtomically(path, (handle) => handle.writeFile(data), options);
}
