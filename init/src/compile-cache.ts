/**
 * Keeps init's V8 compile cache across boots. Node reads and writes it in a tmpfs copy
 * (PATHS.compileCacheRun, filled from /var by the initramfs before Node starts, since init
 * mounts /var only later); once the boot settled, this flushes what Node compiled and copies
 * the entries that changed back to /var (PATHS.compileCacheOnVar). Effects: files below
 * those two directories.
 */
import { readdir, readFile, rm, mkdir } from 'node:fs/promises';
import nodeModule from 'node:module';
import path from 'node:path';
import { writeFileAtomically } from '../../lib/sys/atomic-file.ts';

/** node:module's compile-cache calls (Node ≥ 22.8; the @types/node in use describes Node 20). */
export interface CompileCacheApi {
  enableCompileCache(directory: string): { status: number; message?: string; directory?: string };
  flushCompileCache(): void;
  /** `<directory>/<node-version-flags>` while the cache is on, else undefined. */
  getCompileCacheDir(): string | undefined;
}
export const compileCache = nodeModule as unknown as CompileCacheApi;

export interface SavedCompileCache {
  /** Entries written to the kept cache (new or changed since the boot copied it). */
  written: number;
  bytes: number;
  /** Cache directories of other Node versions or V8 flags removed from the kept cache. */
  removedDirs: number;
}

async function readDirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

async function readOrUndefined(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Copies the entries of `current` (the cache directory Node uses now, `<run>/<node-version-
 * flags>`, module.getCompileCacheDir()) that differ from the kept copy below `keptRoot`, each
 * crash-safely. When one changed, the kept cache's directories of other Node versions or
 * flags are removed: nothing reads them again.
 */
export async function saveCompileCache(current: string, keptRoot: string): Promise<SavedCompileCache> {
  const kept = path.join(keptRoot, path.basename(current));
  const saved: SavedCompileCache = { written: 0, bytes: 0, removedDirs: 0 };
  for (const name of (await readDirOrEmpty(current)).sort()) {
    // Temp files of an interrupted write (ours or Node's) are not entries.
    if (name.startsWith('.')) continue;
    const data = await readFile(path.join(current, name));
    const old = await readOrUndefined(path.join(kept, name));
    if (old?.equals(data)) continue;
    await mkdir(kept, { recursive: true });
    await writeFileAtomically(path.join(kept, name), data);
    saved.written += 1;
    saved.bytes += data.length;
  }
  if (saved.written > 0) {
    for (const dir of await readDirOrEmpty(keptRoot)) {
      if (dir === path.basename(current)) continue;
      await rm(path.join(keptRoot, dir), { recursive: true, force: true });
      saved.removedDirs += 1;
    }
  }
  return saved;
}
