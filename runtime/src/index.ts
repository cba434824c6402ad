/**
 * The runtime's front door: the container engine with its real effects (crun under
 * berth-monitor, the image store, CNI networking) and the pure pieces other components show
 * (image references, log rotation). Other components import the runtime only through this module.
 */
export { createCniAttacher, type CniAttacher, type CniAttacherOptions } from './cni-attacher.ts';
export { createRuntimeServices, createRuntimeSys, Engine, type EngineOptions } from './engine.ts';
export type { LocalImage, PruneResult } from './images.ts';
export { createBlobStore, type BlobStore } from './store/blobs.ts';
export { importOciLayout } from './store/image-layout.ts';
export { DEFAULT_ROTATION, type RotationPolicy } from './core/container-log.ts';
export { parseReference, type ImageReference } from './core/reference.ts';
