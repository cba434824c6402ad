/**
 * Importing images from archives: an OCI layout packed as a tar (`skopeo copy oci-archive:`)
 * or a `docker save` tar (the legacy manifest.json form, and Docker 25+'s OCI form). The
 * archive is hostile input like a layer, so it is first unpacked with the layer unpacker into
 * a scratch directory, then read with symlinks resolved inside it. Effects: a scratch
 * directory beside the blob store, the blob store.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import * as nodePath from 'node:path';
import type { Readable } from 'node:stream';
import { BerthError } from '../../../lib/errors.ts';
import { digestFile } from '../../../lib/sys/file-digest.ts';
import { MEDIA_TYPES, parseImageConfig, parseManifest, type ImageManifest } from '../core/manifest.ts';
import { READ_CHUNK_BYTES, type BlobStore } from './blobs.ts';
import { importOciLayout, type ImportedImage } from './image-layout.ts';
import { readFileInRoot, resolveInRoot } from './rootfs-read.ts';
import { LAYER_ROOT_DIR, unpackLayer } from './unpack.ts';

export interface ArchiveImportOptions {
  /** Image name inside the archive (an OCI ref name or a docker RepoTag); default: the only one. */
  name?: string;
  /** Bound on the unpacked archive. Default 64 GiB. */
  maxBytes?: number;
}

function archiveError(why: string, cause?: unknown): BerthError {
  return new BerthError('RUNTIME_ARCHIVE_INVALID', `Cannot import image archive: ${why}`, cause === undefined ? undefined : { cause });
}

interface DockerSaveEntry {
  Config?: unknown;
  RepoTags?: unknown;
  Layers?: unknown;
}

/** Legacy `docker save`: manifest.json names a config file and uncompressed layer tars. */
async function importDockerSave(root: string, store: BlobStore, options: ArchiveImportOptions): Promise<ImportedImage> {
  const text = await readFileInRoot(root, 'manifest.json', 16 * 1024 * 1024);
  if (text === undefined) throw archiveError('neither oci-layout nor manifest.json at the top of the archive');
  let entries: DockerSaveEntry[];
  try {
    entries = JSON.parse(text.toString('utf8')) as DockerSaveEntry[];
  } catch (error) {
    throw archiveError('manifest.json is not JSON', error);
  }
  if (!Array.isArray(entries) || entries.length === 0) throw archiveError('manifest.json lists no images');
  const entry =
    options.name === undefined
      ? entries.length === 1
        ? entries[0]
        : undefined
      : entries.find((candidate) => Array.isArray(candidate.RepoTags) && candidate.RepoTags.includes(options.name));
  if (entry === undefined) {
    throw archiveError(options.name === undefined ? `manifest.json lists ${entries.length} images; name one` : `no image tagged "${options.name}" in manifest.json`);
  }
  if (typeof entry.Config !== 'string' || !Array.isArray(entry.Layers) || !entry.Layers.every((layer): layer is string => typeof layer === 'string')) {
    throw archiveError('manifest.json entry needs "Config" (a string) and "Layers" (strings)');
  }

  const configBytes = await readFileInRoot(root, entry.Config, 8 * 1024 * 1024);
  if (configBytes === undefined) throw archiveError(`config ${entry.Config} is missing`);
  const configDigest = `sha256:${createHash('sha256').update(configBytes).digest('hex')}`;
  await store.put({ digest: configDigest, size: configBytes.length }, (offset) => [configBytes.subarray(offset)]);
  const config = parseImageConfig(configBytes, { digest: configDigest });

  const layers: ImageManifest['layers'] = [];
  for (const layerPath of entry.Layers) {
    // Paths come from the archive: resolved inside the scratch root, never outside it.
    const hostPath = await resolveInRoot(root, layerPath);
    const stat = await fsp.lstat(hostPath).catch(() => undefined);
    if (stat?.isFile() !== true) throw archiveError(`layer ${layerPath} is missing or not a file`);
    const { sha256, size } = await digestFile(hostPath);
    const digest = `sha256:${sha256}`;
    await store.put({ digest, size }, (offset) => createReadStream(hostPath, { start: offset, highWaterMark: READ_CHUNK_BYTES }) as AsyncIterable<Uint8Array>);
    // docker save writes uncompressed tars, so the blob digest is the diff_id.
    layers.push({ mediaType: 'application/vnd.docker.image.rootfs.diff.tar', digest: digest as `sha256:${string}`, size, compression: 'none' });
  }
  const manifestBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.dockerManifest,
      config: { mediaType: MEDIA_TYPES.dockerConfig, digest: configDigest, size: configBytes.length },
      layers: layers.map(({ mediaType, digest, size }) => ({ mediaType, digest, size })),
    }),
  );
  const manifestDigest = `sha256:${createHash('sha256').update(manifestBytes).digest('hex')}`;
  await store.put({ digest: manifestDigest, size: manifestBytes.length }, (offset) => [manifestBytes.subarray(offset)]);
  const manifest = parseManifest(manifestBytes, { digest: manifestDigest });
  if (manifest.kind !== 'manifest') throw archiveError('internal: synthesised manifest is not a manifest');
  if (config.diffIds.length !== layers.length || config.diffIds.some((diffId, i) => diffId !== layers[i]?.digest)) {
    throw archiveError(`layers do not match the config's rootfs.diff_ids`);
  }
  return { manifest, config };
}

/**
 * Imports the image in the tar read from `source` (OCI archive or docker save) into
 * `store`. The scratch directory is removed afterwards, whatever happens.
 */
export async function importImageArchive(source: Readable, store: BlobStore, options: ArchiveImportOptions = {}): Promise<ImportedImage> {
  await fsp.mkdir(store.root, { recursive: true, mode: 0o700 });
  const scratch = nodePath.join(store.root, `.import-${randomBytes(6).toString('hex')}`);
  try {
    await unpackLayer(source, {
      digest: 'image archive',
      target: scratch,
      maxUnpackedBytes: options.maxBytes ?? 64 * 1024 ** 3,
      whiteouts: 'record',
      keepOwnership: false,
      sync: 'none',
    });
    const root = nodePath.join(scratch, LAYER_ROOT_DIR);
    const layoutFile = await readFileInRoot(root, 'oci-layout', 4096);
    if (layoutFile !== undefined) {
      return await importOciLayout(root, store, options.name === undefined ? {} : { refName: options.name });
    }
    return await importDockerSave(root, store, options);
  } finally {
    await fsp.rm(scratch, { recursive: true, force: true });
  }
}
