// An OCI image layout made here (two layers, gzip and zstd, nested index with two
// platforms) imports into the blob store and unpacks into diff_id-keyed layer directories.
import { promises as fsp } from 'node:fs';
import * as nodePath from 'node:path';
import t from 'tap';
import { createBlobStore } from '../../src/store/blobs.ts';
import { importOciLayout, layerDirOf, unpackImage } from '../../src/store/image-layout.ts';
import { LAYER_ROOT_DIR } from '../../src/store/unpack.ts';
import { planGarbageCollection } from '../../src/core/gc.ts';
import { applyGarbageCollection } from '../../src/store/gc.ts';
import { makeLayout } from './layout-fixtures.ts';
import { errorCode } from '../../../lib/errors.ts';

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
  await t.rejects(importOciLayout(layout.dir, store, { refName: 'nope' }), { code: errorCode('RUNTIME_LAYOUT_INVALID'), message: /no image named "nope"/ });
  await t.rejects(importOciLayout(layout.dir, store, { platform: { os: 'linux', architecture: 's390x' } }), { code: errorCode('RUNTIME_PLATFORM_NOT_FOUND') });
});

void t.test('tampered layouts are refused', async (t) => {
  const base = t.testdir({});
  const bytes = await makeLayout(nodePath.join(base, 'bytes'), { layerBytes: true });
  const store = createBlobStore(nodePath.join(base, 'blobs'));
  await t.rejects(importOciLayout(bytes.dir, store), { code: errorCode('RUNTIME_BLOB_SIZE_MISMATCH') }, 'a layer blob longer than its descriptor');
  t.notOk(await store.has(bytes.layerDigests[1] ?? ''), 'the tampered blob is not stored');

  const diff = await makeLayout(nodePath.join(base, 'diff'), { diffId: true });
  const image = await importOciLayout(diff.dir, store);
  const layersDir = nodePath.join(base, 'layers');
  await t.rejects(unpackImage(store, layersDir, image), { code: errorCode('RUNTIME_LAYER_DIFF_ID_MISMATCH') });
  t.same(await fsp.readdir(layersDir), [layerDirOf(layersDir, diff.diffIds[0] ?? '').split('/').pop()], 'only the good layer; no partial of the bad one');

  await fsp.writeFile(nodePath.join(base, 'bytes', 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}');
  await t.rejects(importOciLayout(bytes.dir, store), { code: errorCode('RUNTIME_LAYOUT_INVALID'), message: /imageLayoutVersion "2.0.0"/ });
  await t.rejects(importOciLayout(nodePath.join(base, 'missing'), store), { code: errorCode('RUNTIME_LAYOUT_INVALID'), message: /missing oci-layout/ });
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
  t.match(await applyGarbageCollection(plan, store, layersDir), { removedBlobs: 1, removedLayers: 1, freedBytes: Number });
  t.same(await fsp.readdir(layersDir), [layerDirOf(layersDir, image.config.diffIds[0] ?? '').split('/').pop()]);
  t.equal((await store.list()).length, 4);
  t.match(await applyGarbageCollection(plan, store, layersDir), { removedBlobs: 1, removedLayers: 1, freedBytes: 0 }, 'idempotent: nothing left to free');
});
