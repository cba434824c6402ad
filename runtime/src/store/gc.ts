/**
 * Applies a garbage-collection plan: removes blobs from the blob store and unpacked layer
 * directories. A layer directory is first renamed to a `.partial-` name, so a crash halfway
 * through its removal never leaves a half-empty layer under its real name (the next start's
 * removePartialLayers finishes the job). Effects: deletes below the store directories.
 */
import { promises as fsp } from 'node:fs';
import * as nodePath from 'node:path';
import { randomBytes } from 'node:crypto';
import type { GcPlan } from '../core/gc.ts';
import type { BlobStore } from './blobs.ts';
import { layerDirOf } from './image-layout.ts';

export interface GcResult {
  removedBlobs: number;
  removedLayers: number;
  /** Bytes the removed blobs and layer directories took (file sizes, as `du --apparent-size`). */
  freedBytes: number;
}

/** The apparent size of a file or a directory tree; symlinks are not followed, missing is 0. */
export async function treeBytes(path: string): Promise<number> {
  let stat;
  try {
    stat = await fsp.lstat(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.size;
  let total = 0;
  for (const name of await fsp.readdir(path).catch(() => [] as string[])) total += await treeBytes(nodePath.join(path, name));
  return total;
}

export async function applyGarbageCollection(plan: GcPlan, store: BlobStore, layersDir: string): Promise<GcResult> {
  let freedBytes = 0;
  for (const diffId of plan.removeLayers) {
    const dir = layerDirOf(layersDir, diffId);
    const doomed = nodePath.join(layersDir, `.${nodePath.basename(dir)}.partial-${randomBytes(6).toString('hex')}`);
    try {
      await fsp.rename(dir, doomed);
    } catch (error) {
      if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT') continue;
      throw error;
    }
    freedBytes += await treeBytes(doomed);
    await fsp.rm(doomed, { recursive: true, force: true });
  }
  for (const digest of plan.removeBlobs) {
    freedBytes += await treeBytes(store.pathOf(digest));
    await store.remove(digest);
  }
  return { removedBlobs: plan.removeBlobs.length, removedLayers: plan.removeLayers.length, freedBytes };
}
