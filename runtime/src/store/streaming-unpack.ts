/**
 * Unpacking a layer while the pull downloads it, the way `wget | tar -x` overlaps the two, where
 * berth used to store the whole blob and then read it back to unpack it. The unpacker reads a
 * BlobTee of the fetch; its layer gets a name only after the blob store verified the blob, and
 * any failure discards what it wrote: the layer is then unpacked from the stored blob as before
 * (unpackImage), which also refuses a bad layer with its own error. Effects: the layer's
 * directory under `layersDir` (through unpackLayer).
 */
import { promises as fsp } from 'node:fs';
import { describeError } from '../../../lib/errors.ts';
import { createBlobTee } from './blob-tee.ts';
import type { BlobStore } from './blobs.ts';
import { layerDirOf, type ImportedImage } from './image-layout.ts';
import type { LayerTap } from './registry-client.ts';
import { unpackLayer, type UnpackOptions, type UnpackResult } from './unpack.ts';

/** How one layer's unpack beside its download ended. */
export type StreamingUnpackOutcome = { digest: string; result: UnpackResult } | { digest: string; abandoned: string };

/**
 * A LayerTap unpacking layer `index` of `image` into `layersDir` as its bytes arrive, or
 * undefined when there is nothing to overlap: the layer is unpacked already, or its blob is
 * stored (no download). `onOutcome` hears how each unpack ended.
 */
export async function unpackingTap(
  store: BlobStore,
  layersDir: string,
  image: ImportedImage,
  index: number,
  options: Omit<UnpackOptions, 'digest' | 'target' | 'expectedDiffId' | 'beforeCommit'>,
  onOutcome: (outcome: StreamingUnpackOutcome) => void,
): Promise<LayerTap | undefined> {
  const layer = image.manifest.layers[index];
  const diffId = image.config.diffIds[index];
  if (layer === undefined || diffId === undefined) return undefined;
  const target = layerDirOf(layersDir, diffId);
  const isUnpacked = await fsp.lstat(target).then(() => true, () => false);
  if (isUnpacked || (await store.has(layer.digest))) return undefined;
  await fsp.mkdir(layersDir, { recursive: true, mode: 0o700 });

  const tee = createBlobTee(layer.size);
  let stored: Promise<unknown> | undefined;
  const unpacking = unpackLayer(tee.readable, {
    ...options,
    digest: layer.digest,
    target,
    expectedDiffId: diffId,
    // settle() hands the store's promise over before the tee can end, so it is always known here.
    beforeCommit: () => stored ?? Promise.reject(new Error('the blob store has not finished')),
  });
  // An unpacker that stopped reads no more: the tee must not wait for room that never comes.
  unpacking.catch(() => tee.readable.destroy());
  return {
    relay: (chunks, offset) => tee.relay(chunks, offset),
    async settle(storing) {
      stored = storing;
      const fetchEnded = await storing.then(
        () => 'the blob was stored',
        (error: unknown) => `the download failed (${describeError(error)})`,
      );
      tee.close(fetchEnded);
      await unpacking.then(
        (result) => onOutcome({ digest: layer.digest, result }),
        (error: unknown) => onOutcome({ digest: layer.digest, abandoned: describeError(error) }),
      );
    },
  };
}
