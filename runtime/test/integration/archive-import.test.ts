// Image archives: an OCI layout in a tar, a legacy `docker save` tar, and hostile archives
// whose paths or symlinks aim outside the archive.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as nodePath from 'node:path';
import t from 'tap';
import { importImageArchive } from '../../src/store/archive-import.ts';
import { createBlobStore } from '../../src/store/blobs.ts';
import { unpackImage } from '../../src/store/image-layout.ts';
import { LAYER_ROOT_DIR } from '../../src/store/unpack.ts';
import { makeLayout } from './layout-fixtures.ts';
import { packTar, streamOf } from './tar-fixtures.ts';
import { errorCode } from '../../../lib/errors.ts';

const sha = (data: Buffer | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const tarDir = (dir: string): Buffer => execFileSync('/usr/bin/tar', ['-C', dir, '-cf', '-', '.'], { maxBuffer: 1 << 28 });

async function dockerSave(layers: Buffer[], extra: { layerPaths?: string[] } = {}): Promise<Buffer> {
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: layers.map((l) => sha(l)) } });
  const configName = `${sha(config).slice(7)}.json`;
  const layerPaths = extra.layerPaths ?? layers.map((_, i) => `layer${i}/layer.tar`);
  return packTar([
    { name: configName, body: config },
    ...layers.map((layer, i) => ({ name: `layer${i}/layer.tar`, body: layer })),
    { name: 'manifest.json', body: JSON.stringify([{ Config: configName, RepoTags: ['app:1'], Layers: layerPaths }]) },
    { name: 'repositories', body: '{}' },
  ]);
}

void t.test('an OCI layout packed in a tar', async (t) => {
  const base = t.testdir({});
  const layout = await makeLayout(nodePath.join(base, 'layout'));
  const store = createBlobStore(nodePath.join(base, 'blobs'));
  const image = await importImageArchive(streamOf(tarDir(layout.dir)), store, { name: 'web:1' });
  t.equal(image.manifest.digest, layout.manifestDigest);
  t.same((await fsp.readdir(store.root)).filter((name) => name.startsWith('.import-')), [], 'scratch directory removed');
});

void t.test('a legacy docker save tar', async (t) => {
  const base = t.testdir({});
  const layers = [await packTar([{ name: 'bin/sh', body: 'shell', mode: 0o755 }]), await packTar([{ name: 'etc/.wh.gone' }, { name: 'etc/app.conf', body: 'x=1\n' }])];
  const store = createBlobStore(nodePath.join(base, 'blobs'));
  const image = await importImageArchive(streamOf(await dockerSave(layers)), store);
  t.same(image.manifest.layers.map((l) => l.digest), layers.map((l) => sha(l)), 'uncompressed layers: digest = diff_id');
  t.equal(image.manifest.format, 'docker');
  t.same(image.config.cmd, ['/bin/sh']);
  const unpacked = await unpackImage(store, nodePath.join(base, 'layers'), image);
  t.equal(await fsp.readFile(nodePath.join(unpacked.layerDirs[1] ?? '', LAYER_ROOT_DIR, 'etc/app.conf'), 'utf8'), 'x=1\n');
  await t.rejects(importImageArchive(streamOf(await dockerSave(layers)), store, { name: 'other:2' }), { code: errorCode('RUNTIME_ARCHIVE_INVALID'), message: /no image tagged "other:2"/ });
});

void t.test('hostile archives', async (t) => {
  const base = t.testdir({ host: { 'layer.tar': 'not from the archive' } });
  const store = createBlobStore(nodePath.join(base, 'blobs'));
  const layer = await packTar([{ name: 'a', body: 'a' }]);
  const escaping = await dockerSave([layer], { layerPaths: [`../../../../../../../..${base}/host/layer.tar`] });
  await t.rejects(importImageArchive(streamOf(escaping), store), { code: errorCode('RUNTIME_ARCHIVE_INVALID'), message: /is missing or not a file/ }, 'a layer path climbing out resolves inside the archive');
  await t.rejects(importImageArchive(streamOf(await packTar([{ name: '../escape', body: 'x' }])), store), { code: errorCode('RUNTIME_LAYER_UNSAFE_PATH') }, 'the archive itself is unpacked safely');

  const layout = await makeLayout(nodePath.join(base, 'layout'));
  const blob = nodePath.join(layout.dir, 'blobs/sha256', (layout.layerDigests[0] ?? '').slice(7));
  await fsp.rename(blob, nodePath.join(base, 'outside-blob'));
  await fsp.symlink(nodePath.join(base, 'outside-blob'), blob);
  await t.rejects(importImageArchive(streamOf(tarDir(layout.dir)), store), { code: errorCode('RUNTIME_LAYOUT_INVALID'), message: /is not a regular file/ }, 'a symlinked blob is refused');
  t.same((await fsp.readdir(store.root)).filter((name) => name.startsWith('.import-')), []);
  await t.rejects(importImageArchive(streamOf(await packTar([{ name: 'readme', body: 'x' }])), store), { code: errorCode('RUNTIME_ARCHIVE_INVALID'), message: /neither oci-layout nor manifest.json/ });
});
