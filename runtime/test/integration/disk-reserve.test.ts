/**
 * The disk reserve with a real blob store and real unpacks in a test directory: the filesystem
 * the guard sees is a fake of a fixed capacity whose use is what the test directory holds (so
 * every byte the store writes counts), and a test can stand in for another writer on /var.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createMemoryLogger } from '../../../lib/log.ts';
import type { DiskReserveSetting } from '../../../lib/config/sections/storage.ts';
import { MEDIA_TYPES } from '../../src/core/manifest.ts';
import { LocalImages } from '../../src/images.ts';
import { createBlobStore } from '../../src/store/blobs.ts';
import { createSpaceGuard, type DiskSpace } from '../../src/store/disk-space.ts';
import type { RegistryClient } from '../../src/store/registry-client.ts';
import { sha } from './layout-fixtures.ts';
import { gzip, packTar } from './tar-fixtures.ts';
import { errorCode } from '../../../lib/errors.ts';

const MIB = 1024 * 1024;

/** Bytes a tree takes (allocated or apparent, whichever is more). */
async function used(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await fsp.readdir(dir, { withFileTypes: true, recursive: true })) {
    const stat = await fsp.lstat(join(entry.parentPath, entry.name));
    total += Math.max(stat.size, stat.blocks * 512);
  }
  return total;
}

/** A filesystem of `capacity` bytes holding what is under `dir` and `extra()` more bytes (other writers). */
function diskOver(dir: string, capacity: number, extra: () => number = () => 0): DiskSpace {
  return {
    async statfs() {
      return { totalBytes: capacity, availableBytes: capacity - (await used(dir)) - extra(), totalInodes: 1_000_000, freeInodes: 900_000 };
    },
  };
}

interface Image {
  manifest: Buffer;
  blobs: Map<string, Buffer>;
}

/** An image of one layer: `files` packed, gzip'd, with its config and manifest. */
async function makeImage(files: Array<{ name: string; body: Buffer }>): Promise<Image> {
  const tar = await packTar(files);
  const layer = gzip(tar);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha(tar)] } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: sha(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length }],
    }),
  );
  return { manifest, blobs: new Map([[sha(config), config], [sha(layer), layer]]) };
}

/** A registry in memory serving `images` by repository; `onChunk` runs before each 64 KiB of a blob is handed over. */
function fakeRegistry(images: Record<string, Image>, onChunk: () => Promise<void> = () => Promise.resolve()): RegistryClient {
  const imageOf = (repository: string): Image => {
    const image = images[repository];
    if (image === undefined) throw new Error(`no ${repository}`);
    return image;
  };
  return {
    getManifest(reference) {
      const { manifest } = imageOf(reference.repository);
      return Promise.resolve({ bytes: manifest, mediaType: MEDIA_TYPES.ociManifest, digest: sha(manifest) });
    },
    openBlob(reference, digest, offset) {
      const blob = imageOf(reference.repository).blobs.get(digest) ?? Buffer.alloc(0);
      return Promise.resolve(
        (async function* chunks(): AsyncIterable<Uint8Array> {
          for (let at = offset; at < blob.length; at += 64 * 1024) {
            await onChunk();
            yield blob.subarray(at, at + 64 * 1024);
          }
        })(),
      );
    },
  };
}

async function setup(dir: string, capacity: (base: number) => number, setting: DiskReserveSetting | undefined, registry: RegistryClient, extra?: () => number) {
  const root = join(dir, 'runtime');
  const layers = join(root, 'layers');
  await fsp.mkdir(layers, { recursive: true });
  const base = await used(dir);
  const space = createSpaceGuard(diskOver(dir, capacity(base), extra), root, setting);
  const store = createBlobStore(join(root, 'blobs'), { space });
  const images = new LocalImages({ store, root, logger: createMemoryLogger('runtime'), registry, space });
  await images.load();
  return { dir, root, layers, store, images, space };
}

/** What a consistent store shows after a refusal: no partial blob, no partial layer directory. */
async function leftovers(root: string): Promise<string[]> {
  const partial = await fsp.readdir(join(root, 'blobs', '.partial')).catch(() => []);
  const layerTemps = (await fsp.readdir(join(root, 'layers')).catch(() => [])).filter((name) => name.startsWith('.'));
  return [...partial, ...layerTemps];
}

const big = await makeImage([{ name: 'data.bin', body: randomBytes(3 * MIB) }]);
const bomb = await makeImage([{ name: 'zeros.bin', body: Buffer.alloc(8 * MIB) }]);
const bigLayer = JSON.parse(big.manifest.toString()).layers[0] as { digest: string; size: number };

void t.test('a pull that does not fit above the reserve is refused before a layer is fetched, naming the image', async (t) => {
  const s = await setup(t.testdir(), (base) => base + 16 * MIB + 2 * MIB, { bytes: 16 * MIB }, fakeRegistry({ big }));
  await t.rejects(s.images.pull('registry.test/big:1'), {
    code: errorCode('RUNTIME_DISK_RESERVE'),
    message: /^Cannot pull registry\.test\/big:1: its layers take about 3\.0 MiB on \/var and only [12]\.\d MiB is free above the reserve of 16\.0 MiB \(storage\.reserve: 16\.0 MiB\)/,
  });
  t.notOk(await s.store.has(bigLayer.digest), 'the layer was not fetched');
  t.same(await leftovers(s.root), [], 'no partial blob');
  t.same((await s.images.list()).map((i) => i.reference), [], 'the image is not listed');
  // With the reserve lowered (a config applied live) the same pull goes through.
  s.space.setReserve({ bytes: 0 });
  const pulled = await s.images.pull('registry.test/big:1');
  t.equal(pulled.reference, 'registry.test/big:1');
  t.ok(await s.store.has(bigLayer.digest));
});

void t.test('a pull stopped when another writer takes the room: the partial blob is removed, a later pull completes', async (t) => {
  let other = 0;
  let chunks = 0;
  const registry = fakeRegistry({ big }, () => {
    chunks += 1;
    // Half way through the layer, logs (say) take 3 of the 5 MiB of room: the rest does not fit.
    if (chunks === 24) other = 3 * MIB;
    return Promise.resolve();
  });
  const s = await setup(t.testdir(), (base) => base + 32 * MIB + 5 * MIB, { bytes: 32 * MIB }, registry, () => other);
  await t.rejects(s.images.pull('registry.test/big:1'), {
    code: errorCode('RUNTIME_DISK_RESERVE'),
    message: /^Cannot pull registry\.test\/big:1: Blob sha256:[0-9a-f]+… stopped: \/var is down to .* free, the reserve of 32\.0 MiB .*what it wrote is removed again/,
  });
  t.ok(chunks > 24 && chunks < 48, `stopped during the download (after ${chunks} of 48 chunks)`);
  t.notOk(await s.store.has(bigLayer.digest), 'no blob under its name');
  t.same(await leftovers(s.root), [], 'and no partial one taking space');
  t.same((await s.images.list()).map((i) => i.reference), [], 'the image is not listed');
  other = 0;
  chunks = -1000;
  await s.images.pull('registry.test/big:1');
  t.ok(await s.store.has(bigLayer.digest), 'pulled once the space is back');
});

void t.test('a pull for a container counts the unpacked layers too', async (t) => {
  // 3 MiB download fits; 3 MiB + 4 x 3 MiB unpacked does not.
  const s = await setup(t.testdir(), (base) => base + 8 * MIB, { bytes: 0 }, fakeRegistry({ big }));
  await t.rejects(s.images.resolve('registry.test/big:1', s.layers), { code: errorCode('RUNTIME_DISK_RESERVE'), message: /^Cannot pull registry\.test\/big:1: its layers, downloaded and unpacked, take about 15\.0 MiB/ });
  t.notOk(await s.store.has(bigLayer.digest));
});

void t.test('an unpack whose estimate does not fit is refused before it starts', async (t) => {
  const s = await setup(t.testdir(), (base) => base + 4 * MIB + 11 * MIB, { bytes: 4 * MIB }, fakeRegistry({ big }));
  const image = await s.images.pull('registry.test/big:1');
  const resolved = await s.images.resolve(image.reference);
  await t.rejects(s.images.unpack(resolved, s.layers, 'registry.test/big:1'), { code: errorCode('RUNTIME_DISK_RESERVE'), message: /^Cannot unpack image registry\.test\/big:1: its layers unpacked take about 12\.0 MiB/ });
  t.same(await fsp.readdir(s.layers), [], 'no layer directory, not even a partial one');
});

void t.test('an unpack that expands past the reserve is stopped and leaves no layer behind', async (t) => {
  const bombLayer = JSON.parse(bomb.manifest.toString()).layers[0] as { size: number };
  t.ok(bombLayer.size * 4 < MIB, `the layer is small compressed (${bombLayer.size} bytes), 8 MiB unpacked`);
  const s = await setup(t.testdir(), (base) => base + 8 * MIB + 4 * MIB, { bytes: 8 * MIB }, fakeRegistry({ bomb }));
  const image = await s.images.resolve('registry.test/bomb:1', s.layers);
  await t.rejects(s.images.unpack(image, s.layers, 'registry.test/bomb:1'), {
    code: errorCode('RUNTIME_DISK_RESERVE'),
    message: /^Cannot unpack image registry\.test\/bomb:1: Layer sha256:[0-9a-f]+… stopped: \/var is down to/,
  });
  t.same(await fsp.readdir(s.layers), [], 'the temporary directory is removed: no partial layer');
  s.space.setReserve({ bytes: 0 });
  const unpacked = await s.images.unpack(image, s.layers, 'registry.test/bomb:1');
  t.equal(unpacked.unpacked.length, 1, 'unpacks once the reserve allows it');
});
