/**
 * The host's images: which image reference names which manifest in the blob store
 * (images.json under the store root), preloaded OCI layouts imported from
 * /var/lib/berth/preload/<name>/ (the image-builder puts them there), and pulls from
 * registries for references not held locally. Pulls and unpacks keep the disk reserve on /var:
 * refused before they start when the image will not fit above it, stopped when writing reaches
 * it. Effects: files under the store root, network, statfs.
 */
import { promises as fsp } from 'node:fs';
import * as nodePath from 'node:path';
import { createHash } from 'node:crypto';
import { BerthError, describeError, isBerthError } from '../../lib/errors.ts';
import { writeFileAtomically } from '../../lib/sys/atomic-file.ts';
import type { Logger } from '../../lib/log.ts';
import { estimateUnpackedBytes } from './core/disk-reserve.ts';
import { planGarbageCollection, type ImageRecord as GcImageRecord } from './core/gc.ts';
import { MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, parseImageConfig, parseManifest } from './core/manifest.ts';
import { formatReference, parseReference } from './core/reference.ts';
import type { BlobStore } from './store/blobs.ts';
import { DISK_RESERVE_CODE, type SpaceGuard } from './store/disk-space.ts';
import { importOciLayout, layerDirOf, unpackImage, type ImportedImage, type UnpackedImage } from './store/image-layout.ts';
import { applyGarbageCollection, type GcResult } from './store/gc.ts';
import { pullImage, type PullOptions, type PullProgress, type RegistryClient } from './store/registry-client.ts';
import { unpackingTap } from './store/streaming-unpack.ts';
import type { UnpackResult } from './store/unpack.ts';

const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

interface ImageRecord {
  manifest: string;
  config: string;
  /** From /var/lib/berth/preload: kept even while no container uses it (it cannot be pulled again). */
  preloaded?: boolean;
}

interface IndexFile {
  images: Record<string, ImageRecord>;
  /** Preload directory name -> sha256 of its index.json when it was imported. */
  preloaded: Record<string, string>;
}

/** The canonical key of a reference: `web` -> `docker.io/library/web:latest`. */
export function imageKey(reference: string): string {
  return formatReference(parseReference(reference));
}

/**
 * The names a preloaded layout's images get: a full reference annotation as written, a
 * tag-only annotation (`latest`, `1.0`) as `<dir>:<tag>`, and a lone image also as `<dir>`.
 */
export function preloadNames(dirName: string, annotations: ReadonlyArray<string | undefined>): Array<{ refName: string | undefined; names: string[] }> {
  const distinct = [...new Set(annotations)];
  return distinct.map((refName) => {
    const names: string[] = [];
    if (refName !== undefined) names.push(/[/:@]/.test(refName) ? refName : `${dirName}:${refName}`);
    if (distinct.length === 1) names.push(dirName);
    return { refName, names };
  });
}

export interface LocalImagesOptions {
  store: BlobStore;
  /** images.json lives here. */
  root: string;
  logger: Logger;
  /** For references not held locally; absent: only local images. */
  registry?: RegistryClient;
  /** The disk reserve on /var (the same guard the blob store charges); absent: no reserve. */
  space?: SpaceGuard;
}

/**
 * A refusal for want of space, with the image named in front: `Cannot pull web:1: Blob ...
 * stopped: ...`. No `cause`: the message already holds the original one whole.
 */
function namingImage(error: unknown, action: string, key: string): unknown {
  if (!isBerthError(error, DISK_RESERVE_CODE)) return error;
  return new BerthError(DISK_RESERVE_CODE, `Cannot ${action} ${key}: ${error.message}`);
}

async function existing(path: string): Promise<boolean> {
  return fsp.lstat(path).then(
    () => true,
    () => false,
  );
}

/** An image resolve() found or pulled. */
export interface ResolvedImage extends ImportedImage {
  /** Layers its pull unpacked while downloading them (a pull for a container); unpack() skips them. */
  unpackedWhilePulling: UnpackResult[];
}

/** One image reference the host holds, for listings. */
export interface LocalImage {
  /** Canonical: docker.io/library/web:latest. */
  reference: string;
  manifestDigest: string;
  configDigest: string;
  /** The manifest, config and layer blobs as stored (layers compressed). */
  sizeBytes: number;
  created?: string;
  preloaded: boolean;
}

/** What a garbage collection removed. */
export interface PruneResult extends GcResult {
  /** References forgotten (pulled images no container names). */
  removedImages: string[];
}

export class LocalImages {
  private index: IndexFile = { images: {}, preloaded: {} };
  /** Unpacks run one at a time: containers sharing a layer must not unpack it twice at once. */
  private unpacking: Promise<unknown> = Promise.resolve();
  /** Pulls, removals and collections run one at a time: a collection must never see a pull's blobs before its reference is saved. */
  private changing: Promise<unknown> = Promise.resolve();
  private readonly file: string;

  constructor(private readonly options: LocalImagesOptions) {
    this.file = nodePath.join(options.root, 'images.json');
  }

  async load(): Promise<void> {
    try {
      const parsed = JSON.parse(await fsp.readFile(this.file, 'utf8')) as Partial<IndexFile>;
      this.index = { images: parsed.images ?? {}, preloaded: parsed.preloaded ?? {} };
    } catch {
      this.index = { images: {}, preloaded: {} };
    }
  }

  private async save(): Promise<void> {
    await fsp.mkdir(this.options.root, { recursive: true, mode: 0o700 });
    // A power cut leaves the old index or the new one, never half, and a saved reference stays saved.
    await writeFileAtomically(this.file, `${JSON.stringify(this.index, null, 2)}\n`, { mode: 0o600 });
  }

  private remember(names: readonly string[], image: ImportedImage, preloaded = false): void {
    for (const name of names) this.index.images[imageKey(name)] = { manifest: image.manifest.digest, config: image.config.digest, ...(preloaded ? { preloaded } : {}) };
  }

  /**
   * Forgets pulled images no reference in `keep` names, then removes every blob and unpacked
   * layer no remaining image needs. Run before containers start (no layer is mounted then).
   */
  collectGarbage(keep: readonly string[], layersDir: string): Promise<PruneResult> {
    // After any unpack under way: its layer directory is not known to be wanted until it is named.
    return this.serialized(async () => {
      await this.unpacking;
      return this.collectGarbageNow(keep, layersDir);
    });
  }

  /** Runs `task` after every earlier pull, removal and collection has ended. */
  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.changing.then(task);
    this.changing = run.catch(() => undefined);
    return run;
  }

  private async collectGarbageNow(keep: readonly string[], layersDir: string): Promise<PruneResult> {
    const wanted = new Set(
      keep.flatMap((reference) => {
        try {
          return [imageKey(reference)];
        } catch {
          return [];
        }
      }),
    );
    const removedImages: string[] = [];
    for (const [key, record] of Object.entries(this.index.images)) {
      if (record.preloaded !== true && !wanted.has(key)) {
        delete this.index.images[key];
        removedImages.push(key);
      }
    }
    await this.save();
    const images: GcImageRecord[] = [];
    for (const [reference, record] of Object.entries(this.index.images)) {
      try {
        const image = await this.read(record);
        images.push({
          reference,
          indexDigests: [],
          manifestDigest: image.manifest.digest,
          configDigest: image.config.digest,
          layerDigests: image.manifest.layers.map((layer) => layer.digest),
          diffIds: image.config.diffIds,
        });
      } catch (error) {
        // An unreadable image keeps nothing; it is pulled again when needed.
        this.options.logger.warn('Image unreadable during garbage collection', { image: reference, error: describeError(error) });
      }
    }
    const layers = (await fsp.readdir(layersDir).catch(() => [])).filter((name) => /^sha256-[0-9a-f]{64}$/.test(name)).map((name) => name.replace('-', ':'));
    const plan = planGarbageCollection({ images, blobs: await this.options.store.list(), layers, layersInUse: [] });
    const result = await applyGarbageCollection(plan, this.options.store, layersDir);
    if (result.removedBlobs + result.removedLayers > 0) this.options.logger.info('Unused images removed', { blobs: result.removedBlobs, layers: result.removedLayers, freed_bytes: result.freedBytes });
    return { ...result, removedImages };
  }

  /** Every reference held, sorted, with its size and creation time. Unreadable images are left out (and logged). */
  async list(): Promise<LocalImage[]> {
    const out: LocalImage[] = [];
    for (const [reference, record] of Object.entries(this.index.images).sort(([a], [b]) => a.localeCompare(b))) {
      try {
        const image = await this.read(record);
        const manifestBytes = (await this.options.store.read(record.manifest, MAX_MANIFEST_BYTES)).length;
        const item: LocalImage = {
          reference,
          manifestDigest: record.manifest,
          configDigest: record.config,
          sizeBytes: manifestBytes + image.manifest.config.size + image.manifest.layers.reduce((n, layer) => n + layer.size, 0),
          preloaded: record.preloaded === true,
        };
        if (image.config.created !== undefined) item.created = image.config.created;
        out.push(item);
      } catch (error) {
        this.options.logger.warn('Image unreadable', { image: reference, error: describeError(error) });
      }
    }
    return out;
  }

  /** Pulls `reference` from its registry (again, even if held: the tag may have moved) and remembers it. */
  pull(reference: string, onProgress?: (progress: PullProgress) => void): Promise<LocalImage> {
    const key = imageKey(reference);
    return this.serialized(async () => {
      const registry = this.options.registry;
      if (registry === undefined) throw new BerthError('RUNTIME_IMAGE_NOT_FOUND', `Cannot pull ${reference}: this host has no registry client`);
      this.options.logger.info('Pulling image', { image: key });
      const beforeLayers = (image: ImportedImage): Promise<void> => this.ensureRoomFor(key, image);
      const pulled = await pullImage(parseReference(reference), registry, this.options.store, onProgress === undefined ? { beforeLayers } : { onProgress, beforeLayers }).catch((error: unknown) => {
        throw namingImage(error, 'pull', key);
      });
      this.remember([reference], pulled);
      await this.save();
      this.options.logger.info('Image pulled', { image: key, manifest: pulled.manifest.digest });
      const listed = (await this.list()).find((image) => image.reference === key);
      if (listed === undefined) throw new BerthError('RUNTIME_IMAGE_NOT_FOUND', `Image ${key} was pulled but cannot be read back from the store`);
      return listed;
    });
  }

  /**
   * Forgets `reference` (RUNTIME_IMAGE_NOT_FOUND if it is not held), then collects what no
   * image in `keep` or still held needs. The caller refuses references in use first.
   */
  remove(reference: string, keep: readonly string[], layersDir: string): Promise<PruneResult> {
    const key = imageKey(reference);
    return this.serialized(async () => {
      if (this.index.images[key] === undefined) throw new BerthError('RUNTIME_IMAGE_NOT_FOUND', `No image ${key} on this host (berth ctl images lists them)`);
      delete this.index.images[key];
      await this.save();
      this.options.logger.info('Image removed', { image: key });
      await this.unpacking;
      // Everything still named stays: removal frees only what this reference alone held.
      const stillNamed = [...keep, ...Object.keys(this.index.images)];
      const result = await this.collectGarbageNow(stillNamed, layersDir);
      return { ...result, removedImages: [key, ...result.removedImages] };
    });
  }

  /** Imports every layout under `preloadDir` that changed since its last import. Never throws. */
  async importPreloaded(preloadDir: string): Promise<void> {
    const entries = await fsp.readdir(preloadDir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const dir = nodePath.join(preloadDir, entry.name);
      try {
        const indexText = await fsp.readFile(nodePath.join(dir, 'index.json'), 'utf8');
        const digest = createHash('sha256').update(indexText).digest('hex');
        if (this.index.preloaded[entry.name] === digest) continue;
        const top = JSON.parse(indexText) as { manifests?: Array<{ annotations?: Record<string, string> }> };
        const annotations = (top.manifests ?? []).map((m) => m.annotations?.[REF_NAME_ANNOTATION]);
        for (const { refName, names } of preloadNames(entry.name, annotations)) {
          const image = await importOciLayout(dir, this.options.store, refName === undefined ? {} : { refName });
          this.remember(names, image, true);
          this.options.logger.info('Preloaded image imported', { preload: entry.name, names: names.join(','), manifest: image.manifest.digest });
        }
        this.index.preloaded[entry.name] = digest;
        await this.save();
      } catch (error) {
        this.options.logger.error('Preloaded image not imported', { preload: entry.name, error: describeError(error) });
      }
    }
  }

  /**
   * Unpacks the image's layers not unpacked yet into `layersDir` (one unpack at a time), after
   * checking that their estimated unpacked size fits above the disk reserve. `reference` names
   * the image in a refusal.
   */
  unpack(image: ImportedImage, layersDir: string, reference = image.manifest.digest): Promise<UnpackedImage> {
    const space = this.options.space;
    const run = this.unpacking.then(async () => {
      try {
        if (space !== undefined) {
          const need = estimateUnpackedBytes(await this.layersToUnpack(image, layersDir));
          if (need > 0) await space.ensureRoom('its layers unpacked', need);
        }
        return await unpackImage(this.options.store, layersDir, image, space === undefined ? {} : { space });
      } catch (error) {
        throw namingImage(error, 'unpack image', reference);
      }
    });
    this.unpacking = run.catch(() => undefined);
    return run;
  }

  /** The layers of `image` whose blob is not stored yet (what a pull downloads). */
  private async layersToFetch(image: ImportedImage): Promise<ImportedImage['manifest']['layers']> {
    const out: ImportedImage['manifest']['layers'] = [];
    for (const layer of image.manifest.layers) if (!(await this.options.store.has(layer.digest))) out.push(layer);
    return out;
  }

  /** The layers of `image` with no unpacked directory in `layersDir` yet. */
  private async layersToUnpack(image: ImportedImage, layersDir: string): Promise<ImportedImage['manifest']['layers']> {
    const out: ImportedImage['manifest']['layers'] = [];
    for (const [i, layer] of image.manifest.layers.entries()) {
      const diffId = image.config.diffIds[i];
      if (diffId === undefined || !(await existing(layerDirOf(layersDir, diffId)))) out.push(layer);
    }
    return out;
  }

  /**
   * Refuses (RUNTIME_DISK_RESERVE) a pull whose layers do not fit above the disk reserve: their
   * download, and with `layersDir` also their estimated unpacked size (a pull for a container,
   * which unpacks right after).
   */
  private async ensureRoomFor(key: string, image: ImportedImage, layersDir?: string): Promise<void> {
    const space = this.options.space;
    if (space === undefined) return;
    const download = (await this.layersToFetch(image)).reduce((sum, layer) => sum + layer.size, 0);
    const unpacked = layersDir === undefined ? 0 : estimateUnpackedBytes(await this.layersToUnpack(image, layersDir));
    if (download + unpacked === 0) return;
    await space.ensureRoom(layersDir === undefined ? 'its layers' : 'its layers, downloaded and unpacked,', download + unpacked);
  }

  /**
   * The config digest `reference` names on this host now, from the index in memory (no I/O):
   * a container kept prepared after its run checks it before it runs again on the same root.
   */
  localConfigDigest(reference: string): string | undefined {
    return this.index.images[imageKey(reference)]?.config;
  }

  /**
   * The image a reference names: held locally, else pulled (and remembered). With `layersDir`
   * (a container about to unpack it), a pull is refused unless download and unpacked layers
   * both fit above the disk reserve, and it unpacks each layer while downloading it (in turn with
   * other unpacks); unpack() does whatever that did not.
   */
  async resolve(reference: string, layersDir?: string): Promise<ResolvedImage> {
    const key = imageKey(reference);
    const record = this.index.images[key];
    if (record !== undefined) {
      try {
        return { ...(await this.read(record)), unpackedWhilePulling: [] };
      } catch (error) {
        this.options.logger.warn('Local image unreadable, pulling again', { image: key, error: describeError(error) });
      }
    }
    if (this.options.registry === undefined) throw new BerthError('RUNTIME_IMAGE_NOT_FOUND', `Image ${reference} is not on this host and no registry is configured to pull it from`);
    const registry = this.options.registry;
    return this.serialized(async () => {
      this.options.logger.info('Pulling image', { image: key });
      const options: PullOptions = { beforeLayers: (image) => this.ensureRoomFor(key, image, layersDir) };
      const unpackedWhilePulling: UnpackResult[] = [];
      if (layersDir !== undefined) {
        const { store, space, logger } = this.options;
        options.tapLayer = (image, index) =>
          unpackingTap(store, layersDir, image, index, space === undefined ? {} : { space }, (outcome) => {
            if ('result' in outcome) unpackedWhilePulling.push(outcome.result);
            else logger.info('Layer to be unpacked after its download', { image: key, layer: outcome.digest, reason: outcome.abandoned });
          });
      }
      const pull = (): Promise<ImportedImage> => pullImage(parseReference(reference), registry, this.options.store, options);
      let pulling: Promise<ImportedImage>;
      if (layersDir === undefined) pulling = pull();
      else {
        // Its unpacks take their turn among the others (two containers sharing a layer).
        pulling = this.unpacking.then(pull);
        this.unpacking = pulling.catch(() => undefined);
      }
      const pulled = await pulling.catch((error: unknown) => {
        throw namingImage(error, 'pull', key);
      });
      this.remember([reference], pulled);
      await this.save();
      this.options.logger.info('Image pulled', { image: key, manifest: pulled.manifest.digest });
      return { ...pulled, unpackedWhilePulling };
    });
  }

  private async read(record: ImageRecord): Promise<ImportedImage> {
    const manifest = parseManifest(await this.options.store.read(record.manifest, MAX_MANIFEST_BYTES), { digest: record.manifest });
    if (manifest.kind !== 'manifest') throw new BerthError('RUNTIME_MANIFEST_INVALID', `${record.manifest} is not an image manifest`);
    const config = parseImageConfig(await this.options.store.read(record.config, MAX_CONFIG_BYTES), { digest: record.config });
    return { manifest, config };
  }
}
