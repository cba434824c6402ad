import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { createMemoryLogger } from '../../../lib/log.ts';
import { busyboxEntries, writeOciLayout } from '../../../vm/src/index.ts';
import { LocalImages } from '../../src/images.ts';
import { createBlobStore } from '../../src/store/blobs.ts';
import { importOciLayout } from '../../src/store/image-layout.ts';
import { errorCode } from '../../../lib/errors.ts';

void t.test('preloaded layouts are imported once, resolved by name, and survive garbage collection', async (t) => {
  const dir = t.testdir();
  const preload = join(dir, 'preload');
  const web = await writeOciLayout(join(preload, 'web'), { entries: busyboxEntries(Buffer.from('bb-web'), ['sh']), config: { Cmd: ['/bin/sh'] }, refName: 'latest' });
  const old = await writeOciLayout(join(dir, 'other'), { entries: busyboxEntries(Buffer.from('bb-old'), ['sh']), config: { Cmd: ['/bin/sh'] } });
  const store = createBlobStore(join(dir, 'store', 'blobs'));
  const logger = createMemoryLogger('runtime');
  const images = new LocalImages({ store, root: join(dir, 'store'), logger });
  await images.load();
  await images.importPreloaded(preload);
  await images.importPreloaded(preload);
  t.equal(logger.lines.filter((l) => l.includes('Preloaded image imported')).length, 1, 'an unchanged layout is not imported again');
  t.equal((await images.resolve('web')).manifest.digest, web.manifestDigest);
  t.equal((await images.resolve('docker.io/library/web:latest')).manifest.digest, web.manifestDigest);
  await t.rejects(images.resolve('nothere'), { code: errorCode('RUNTIME_IMAGE_NOT_FOUND') });

  // An image pulled earlier and no longer configured: its blobs and layer go, the preloaded one stays.
  const layers = join(dir, 'store', 'layers');
  await mkdir(layers, { recursive: true });
  await images.unpack(await images.resolve('web'), layers);
  const oldImage = await importOciLayout(old.layoutDir, store);
  const index = JSON.parse(await readFile(join(dir, 'store', 'images.json'), 'utf8')) as { images: Record<string, unknown> };
  index.images['registry.example/old:1'] = { manifest: oldImage.manifest.digest, config: oldImage.config.digest };
  await writeFile(join(dir, 'store', 'images.json'), JSON.stringify(index));
  await images.load();
  await images.unpack(oldImage, layers);
  t.equal((await readdir(layers)).length, 2);
  const result = await images.collectGarbage(['web', 'not a valid reference!'], layers);
  t.match(result, { removedBlobs: 3, removedLayers: 1, removedImages: ['registry.example/old:1'] });
  t.ok(result.freedBytes > 0, 'the bytes freed are counted');
  const webDiffId = (await images.resolve('web')).config.diffIds[0] ?? '';
  t.same(await readdir(layers), [webDiffId.replace(':', '-')], 'only the preloaded image\'s layer is left');
  t.equal((await images.resolve('web')).manifest.digest, web.manifestDigest, 'the preloaded image still resolves');
  await t.rejects(images.resolve('registry.example/old:1'), { code: errorCode('RUNTIME_IMAGE_NOT_FOUND') });
});

void t.test('list shows sizes and origins; remove forgets a reference and frees what only it held', async (t) => {
  const dir = t.testdir();
  const preload = join(dir, 'preload');
  await writeOciLayout(join(preload, 'web'), { entries: busyboxEntries(Buffer.from('bb-web'), ['sh']), config: { Cmd: ['/bin/sh'] }, refName: 'latest' });
  const old = await writeOciLayout(join(dir, 'other'), { entries: busyboxEntries(Buffer.from('bb-old'), ['sh']), config: { Cmd: ['/bin/sh'] } });
  const store = createBlobStore(join(dir, 'store', 'blobs'));
  const images = new LocalImages({ store, root: join(dir, 'store'), logger: createMemoryLogger('runtime') });
  await images.load();
  await images.importPreloaded(preload);
  const oldImage = await importOciLayout(old.layoutDir, store);
  const index = JSON.parse(await readFile(join(dir, 'store', 'images.json'), 'utf8')) as { images: Record<string, unknown> };
  index.images['registry.example/old:1'] = { manifest: oldImage.manifest.digest, config: oldImage.config.digest };
  await writeFile(join(dir, 'store', 'images.json'), JSON.stringify(index));
  await images.load();
  const layers = join(dir, 'store', 'layers');
  await mkdir(layers, { recursive: true });
  await images.unpack(oldImage, layers);

  const listed = await images.list();
  t.same(listed.map((i) => [i.reference, i.preloaded]), [['docker.io/library/web:latest', true], ['registry.example/old:1', false]]);
  t.ok(listed.every((i) => i.sizeBytes > 0 && i.manifestDigest.startsWith('sha256:')), 'each with its size and digest');
  await t.rejects(images.remove('registry.example/none:1', [], layers), { code: errorCode('RUNTIME_IMAGE_NOT_FOUND') });
  const removed = await images.remove('registry.example/old:1', [], layers);
  t.match(removed, { removedImages: ['registry.example/old:1'], removedBlobs: 3, removedLayers: 1 });
  t.ok(removed.freedBytes > 0, 'bytes freed counted');
  t.same((await images.list()).map((i) => i.reference), ['docker.io/library/web:latest'], 'the preloaded image stays');
  t.same(await readdir(layers), [], 'the removed image\'s layer is gone');
});
