/**
 * Garbage collection of the image store as a pure plan: which blobs and unpacked layers no
 * kept image references, given the images berth keeps and the layers running containers
 * use. The shell applies the plan (store/gc.ts). Pure.
 */

/** What berth keeps for one image it may run. */
export interface ImageRecord {
  reference: string;
  /** The index or manifest list the reference resolved to, if any, then the platform manifest. */
  indexDigests: readonly string[];
  manifestDigest: string;
  configDigest: string;
  layerDigests: readonly string[];
  diffIds: readonly string[];
}

export interface GcInput {
  images: readonly ImageRecord[];
  /** Digests present in the blob store. */
  blobs: readonly string[];
  /** diff_ids of the unpacked layer directories present. */
  layers: readonly string[];
  /** diff_ids mounted by containers that exist right now (kept even if their image is gone). */
  layersInUse: readonly string[];
}

export interface GcPlan {
  removeBlobs: string[];
  removeLayers: string[];
}

/** Everything not reachable from a kept image (or a mounted layer) goes. */
export function planGarbageCollection(input: GcInput): GcPlan {
  const keepBlobs = new Set<string>();
  const keepLayers = new Set<string>(input.layersInUse);
  for (const image of input.images) {
    for (const digest of [...image.indexDigests, image.manifestDigest, image.configDigest, ...image.layerDigests]) keepBlobs.add(digest);
    for (const diffId of image.diffIds) keepLayers.add(diffId);
  }
  return {
    removeBlobs: input.blobs.filter((digest) => !keepBlobs.has(digest)).sort(),
    removeLayers: input.layers.filter((diffId) => !keepLayers.has(diffId)).sort(),
  };
}
