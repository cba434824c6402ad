/**
 * Importing images from an OCI image layout directory (what the test suite and the image
 * builder produce, and `skopeo copy oci:` writes) into the blob store, and unpacking an
 * image's layers into per-layer directories keyed by diff_id. The layout is untrusted like
 * a registry: every blob is verified by the blob store, every document by core/manifest.
 * Effects: reads the layout, writes the blob store and the layers directory.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import * as nodePath from 'node:path';
import { BerthError } from '../../../lib/errors.ts';
import { parseDigest, shortDigest } from '../core/digest.ts';
import {
  DEFAULT_PLATFORM,
  MAX_CONFIG_BYTES,
  MAX_MANIFEST_BYTES,
  MEDIA_TYPES,
  assertImageConsistent,
  parseImageConfig,
  parseManifest,
  selectPlatformManifest,
  type Descriptor,
  type ImageConfig,
  type ImageManifest,
  type Platform,
} from '../core/manifest.ts';
import { READ_CHUNK_BYTES, type BlobStore } from './blobs.ts';
import { unpackLayer, type UnpackOptions, type UnpackResult } from './unpack.ts';

const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
/** Nested indexes deeper than this are refused (a loop of indexes would never end). */
const MAX_INDEX_DEPTH = 4;

export interface ImportedImage {
  manifest: ImageManifest;
  config: ImageConfig;
}

function layoutError(dir: string, why: string, cause?: unknown): BerthError {
  return new BerthError('RUNTIME_LAYOUT_INVALID', `Cannot import OCI layout ${dir}: ${why}`, cause === undefined ? undefined : { cause });
}

/**
 * Layout files must be plain files: a symlink in an imported archive could point at a host
 * file, and a successful import would reveal that file's digest.
 */
async function regularFile(dir: string, path: string): Promise<void> {
  const stat = await fsp.lstat(path).catch((error: unknown) => {
    throw layoutError(dir, `${nodePath.relative(dir, path)} is missing`, error);
  });
  if (!stat.isFile()) throw layoutError(dir, `${nodePath.relative(dir, path)} is not a regular file`);
}

/** Copies one blob of the layout into the store, verified against its descriptor. */
async function importBlob(dir: string, store: BlobStore, descriptor: { digest: string; size: number }): Promise<void> {
  const { algorithm, encoded } = parseDigest(descriptor.digest);
  // The path is built from a validated digest only, so it cannot leave blobs/.
  const path = nodePath.join(dir, 'blobs', algorithm, encoded);
  await regularFile(dir, path);
  await store.put(descriptor, (offset) => createReadStream(path, { start: offset, highWaterMark: READ_CHUNK_BYTES }) as AsyncIterable<Uint8Array>);
}

async function readDocument(dir: string, store: BlobStore, descriptor: Descriptor, maxBytes: number): Promise<Buffer> {
  if (descriptor.size > maxBytes) throw layoutError(dir, `${descriptor.mediaType} ${shortDigest(descriptor.digest)} is ${descriptor.size} bytes, more than ${maxBytes}`);
  await importBlob(dir, store, descriptor);
  return store.read(descriptor.digest, maxBytes);
}

/**
 * Imports the image named `refName` (or the only image) from the layout at `dir` for
 * `platform`: manifests, config and layer blobs land verified in `store`.
 */
export async function importOciLayout(dir: string, store: BlobStore, options: { refName?: string; platform?: Platform } = {}): Promise<ImportedImage> {
  const platform = options.platform ?? DEFAULT_PLATFORM;
  let layoutText: string;
  let indexText: string;
  try {
    await regularFile(dir, nodePath.join(dir, 'oci-layout'));
    await regularFile(dir, nodePath.join(dir, 'index.json'));
    layoutText = await fsp.readFile(nodePath.join(dir, 'oci-layout'), 'utf8');
    indexText = await fsp.readFile(nodePath.join(dir, 'index.json'), 'utf8');
  } catch (error) {
    throw layoutError(dir, `missing oci-layout or index.json (${error instanceof Error ? error.message : String(error)})`, error);
  }
  let version: unknown;
  try {
    version = (JSON.parse(layoutText) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
  } catch (error) {
    throw layoutError(dir, 'oci-layout is not JSON', error);
  }
  if (version !== '1.0.0') throw layoutError(dir, `imageLayoutVersion ${JSON.stringify(version)} is not 1.0.0`);
  if (Buffer.byteLength(indexText) > MAX_MANIFEST_BYTES) throw layoutError(dir, 'index.json is too large');
  const topIndex = parseManifest(indexText, { digest: 'index.json', contentType: MEDIA_TYPES.ociIndex });
  if (topIndex.kind !== 'index') throw layoutError(dir, 'index.json is not an image index');

  let candidates = topIndex.manifests;
  if (options.refName !== undefined) candidates = candidates.filter((d) => d.annotations?.[REF_NAME_ANNOTATION] === options.refName);
  if (candidates.length === 0) throw layoutError(dir, options.refName === undefined ? 'index.json lists no images' : `no image named "${options.refName}" in index.json`);
  // Several entries for one name are per-platform manifests listed directly in index.json.
  let descriptor: Descriptor = candidates.length === 1 && candidates[0] !== undefined ? candidates[0] : selectPlatformManifest({ ...topIndex, manifests: candidates }, platform);

  for (let depth = 0; ; depth += 1) {
    if (depth > MAX_INDEX_DEPTH) throw layoutError(dir, `indexes nested deeper than ${MAX_INDEX_DEPTH}`);
    const document = parseManifest(await readDocument(dir, store, descriptor, MAX_MANIFEST_BYTES), { digest: descriptor.digest, contentType: descriptor.mediaType });
    if (document.kind === 'index') {
      descriptor = selectPlatformManifest(document, platform);
      continue;
    }
    const config = parseImageConfig(await readDocument(dir, store, document.config, MAX_CONFIG_BYTES), { digest: document.config.digest });
    assertImageConsistent(document, config, platform);
    for (const layer of document.layers) await importBlob(dir, store, layer);
    return { manifest: document, config };
  }
}

export interface UnpackedImage {
  /** Layer directories (each with root/ and layer.json), bottom first: the overlay lowerdirs in reverse. */
  layerDirs: string[];
  /** Layers unpacked by this call (the rest were already there). */
  unpacked: UnpackResult[];
}

/** Where the layer with `diffId` is unpacked under `layersDir`. */
export function layerDirOf(layersDir: string, diffId: string): string {
  const { algorithm, encoded } = parseDigest(diffId);
  return nodePath.join(layersDir, `${algorithm}-${encoded}`);
}

/**
 * Unpacks every layer of an imported image that is not unpacked yet, each verified against
 * its diff_id. Layers are keyed by diff_id, so images sharing a layer share its directory.
 */
export async function unpackImage(
  store: BlobStore,
  layersDir: string,
  image: ImportedImage,
  options: Omit<UnpackOptions, 'digest' | 'target' | 'expectedDiffId'> = {},
): Promise<UnpackedImage> {
  await fsp.mkdir(layersDir, { recursive: true, mode: 0o700 });
  const layerDirs: string[] = [];
  const unpacked: UnpackResult[] = [];
  for (const [i, layer] of image.manifest.layers.entries()) {
    const diffId = image.config.diffIds[i];
    if (diffId === undefined) throw new BerthError('RUNTIME_IMAGE_CONFIG_INVALID', `Image config ${shortDigest(image.config.digest)} has no diff_id for layer ${i}`);
    const target = layerDirOf(layersDir, diffId);
    layerDirs.push(target);
    const exists = await fsp.lstat(target).then(() => true, () => false);
    if (exists) continue;
    // The compression is sniffed from the blob: some tools label plain tars as gzip.
    const result = await unpackLayer(store.open(layer.digest), { ...options, digest: layer.digest, target, expectedDiffId: diffId });
    unpacked.push(result);
  }
  return { layerDirs, unpacked };
}
