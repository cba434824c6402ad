// An OCI image layout made here (two layers, gzip and zstd, nested index with two
// platforms) imports into the blob store and unpacks into diff_id-keyed layer directories.
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as nodePath from 'node:path';
import t from 'tap';
import { createBlobStore } from '../../src/store/blobs.ts';
import { importOciLayout, layerDirOf, unpackImage } from '../../src/store/image-layout.ts';
import { LAYER_ROOT_DIR } from '../../src/store/unpack.ts';
import { MEDIA_TYPES } from '../../src/core/manifest.ts';
import { planGarbageCollection } from '../../src/core/gc.ts';
import { applyGarbageCollection } from '../../src/store/gc.ts';
import { gzip, packTar, zstd } from './tar-fixtures.ts';

const sha = (data: Buffer | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

interface Layout {
  dir: string;
  layerDigests: string[];
  diffIds: string[];
  manifestDigest: string;
}

async function writeBlob(dir: string, data: Buffer | string): Promise<{ digest: string; size: number }> {
  const digest = sha(data);
  await fsp.mkdir(nodePath.join(dir, 'blobs', 'sha256'), { recursive: true });
  await fsp.writeFile(nodePath.join(dir, 'blobs', 'sha256', digest.slice(7)), data);
  return { digest, size: Buffer.byteLength(data) };
}

async function makeLayout(dir: string, tamper: { diffId?: boolean; layerBytes?: boolean } = {}): Promise<Layout> {
  await fsp.mkdir(dir, { recursive: true });
  const base = await packTar([
    { name: 'etc/', type: 'directory', mode: 0o755 },
    { name: 'etc/passwd', body: 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n' },
    { name: 'etc/motd', body: 'old\n' },
    { name: 'bin/app', body: '#!/bin/sh\necho hi\n', mode: 0o755 },
  ]);
  const top = await packTar([{ name: 'etc/.wh.motd' }, { name: 'srv/index.html', body: '<h1>berth</h1>\n' }]);
  const blobs = [gzip(base), zstd(top)];
  const layers = [];
  for (const [i, blob] of blobs.entries()) {
    const written = await writeBlob(dir, blob);
    if (tamper.layerBytes === true && i === 1) await fsp.appendFile(nodePath.join(dir, 'blobs/sha256', written.digest.slice(7)), 'x');
    layers.push({ mediaType: i === 0 ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar+zstd', ...written });
  }
  const diffIds = [sha(base), tamper.diffId === true ? sha('not it') : sha(top)];
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/app'], User: 'app' }, rootfs: { type: 'layers', diff_ids: diffIds } });
  const configBlob = await writeBlob(dir, config);
  const manifest = JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: { mediaType: MEDIA_TYPES.ociConfig, ...configBlob }, layers });
  const manifestBlob = await writeBlob(dir, manifest);
  const armManifest = await writeBlob(dir, JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: { mediaType: MEDIA_TYPES.ociConfig, ...configBlob }, layers: [] }));
  const nested = JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: [
      { mediaType: MEDIA_TYPES.ociManifest, ...armManifest, platform: { os: 'linux', architecture: 'arm64' } },
      { mediaType: MEDIA_TYPES.ociManifest, ...manifestBlob, platform: { os: 'linux', architecture: 'amd64' } },
    ],
  });
  const nestedBlob = await writeBlob(dir, nested);
  await fsp.writeFile(nodePath.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await fsp.writeFile(
    nodePath.join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: MEDIA_TYPES.ociIndex, ...nestedBlob, annotations: { 'org.opencontainers.image.ref.name': 'web:1' } }] }),
  );
  return { dir, layerDigests: layers.map((l) => l.digest), diffIds, manifestDigest: manifestBlob.digest };
}

void t.test('imports and unpacks an image from an OCI layout', async (t) => {
  const base = t.testdir({});
  const layout = await makeLayout(nodePath.join(base, 'layout'));
  const store = createBlobStore(nodePath.join(base, 'blobs'));
  const image = await importOciLayout(layout.dir, store, { refName: 'web:1' });
  t.equal(image.manifest.digest, layout.manifestDigest, 'the amd64 manifest of the nested index');
  t.same(image.config.cmd, ['/bin/app']);
  t.equal((await store.list()).length, 5, 'nested index, manifest, config and two layers');

  const layersDir = nodePath.join(base, 'layers');
  const first = await unpackImage(store, layersDir, image);
  t.same(first.layerDirs, layout.diffIds.map((diffId) => layerDirOf(layersDir, diffId)));
  t.same(first.unpacked.map((r) => r.compression), ['gzip', 'zstd']);
  const [lower, upper] = first.layerDirs as [string, string];
  t.equal(await fsp.readFile(nodePath.join(lower, LAYER_ROOT_DIR, 'etc/motd'), 'utf8'), 'old\n');
  t.equal(await fsp.readFile(nodePath.join(upper, LAYER_ROOT_DIR, 'srv/index.html'), 'utf8'), '<h1>berth</h1>\n');
  t.same(first.unpacked[1]?.whiteouts, ['etc/motd']);

  const again = await unpackImage(store, layersDir, image);
  t.same(again.unpacked, [], 'layers already unpacked are reused');
  await t.rejects(importOciLayout(layout.dir, store, { refName: 'nope' }), { code: 'RUNTIME_LAYOUT_INVALID', message: /no image named "nope"/ });
  await t.rejects(importOciLayout(layout.dir, store, { platform: { os: 'linux', architecture: 's390x' } }), { code: 'RUNTIME_PLATFORM_NOT_FOUND' });
});

void t.test('tampered layouts are refused', async (t) => {
  const base = t.testdir({});
  const bytes = await makeLayout(nodePath.join(base, 'bytes'), { layerBytes: true });
  const store = createBlobStore(nodePath.join(base, 'blobs'));
  await t.rejects(importOciLayout(bytes.dir, store), { code: 'RUNTIME_BLOB_SIZE_MISMATCH' }, 'a layer blob longer than its descriptor');
  t.notOk(await store.has(bytes.layerDigests[1] ?? ''), 'the tampered blob is not stored');

  const diff = await makeLayout(nodePath.join(base, 'diff'), { diffId: true });
  const image = await importOciLayout(diff.dir, store);
  const layersDir = nodePath.join(base, 'layers');
  await t.rejects(unpackImage(store, layersDir, image), { code: 'RUNTIME_LAYER_DIFF_ID_MISMATCH' });
  t.same(await fsp.readdir(layersDir), [layerDirOf(layersDir, diff.diffIds[0] ?? '').split('/').pop()], 'only the good layer; no partial of the bad one');

  await fsp.writeFile(nodePath.join(base, 'bytes', 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
  await t.rejects(importOciLayout(bytes.dir, store), { code: 'RUNTIME_LAYOUT_INVALID', message: /imageLayoutVersion "2.0.0"/ });
  await t.rejects(importOciLayout(nodePath.join(base, 'missing'), store), { code: 'RUNTIME_LAYOUT_INVALID', message: /missing oci-layout/ });
});

void t.test('garbage collection removes what no image keeps, layers atomically', async (t) => {
  const base = t.testdir({});
  const layout = await makeLayout(nodePath.join(base, 'layout'));
  const store = createBlobStore(nodePath.join(base, 'blobs'));
  const layersDir = nodePath.join(base, 'layers');
  const image = await importOciLayout(layout.dir, store);
  await unpackImage(store, layersDir, image);
  const record = {
    reference: 'web:1',
    indexDigests: [],
    manifestDigest: image.manifest.digest,
    configDigest: image.config.digest,
    layerDigests: image.manifest.layers.map((l) => l.digest),
    diffIds: [image.config.diffIds[0] ?? ''],
  };
  const plan = planGarbageCollection({ images: [record], blobs: await store.list(), layers: image.config.diffIds, layersInUse: [] });
  t.equal(plan.removeBlobs.length, 1, 'the nested index blob');
  t.same(plan.removeLayers, [image.config.diffIds[1]]);
  t.same(await applyGarbageCollection(plan, store, layersDir), { removedBlobs: 1, removedLayers: 1 });
  t.same(await fsp.readdir(layersDir), [layerDirOf(layersDir, image.config.diffIds[0] ?? '').split('/').pop()]);
  t.equal((await store.list()).length, 4);
  t.same(await applyGarbageCollection(plan, store, layersDir), { removedBlobs: 1, removedLayers: 1 }, 'idempotent');
});
