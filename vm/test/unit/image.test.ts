import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { checkManifest, containersImageDir, defaultImageDir, loadImage, REPO_ROOT } from '../../src/image.ts';
import { errorCode } from '../../../lib/errors.ts';

const hash = 'ab'.repeat(32);
const manifest = {
  version: '0.1.0',
  profile: 'qemu',
  artifacts: {
    'disk.raw': { path: 'disk.raw', size: 8, sha256: hash },
    'disk.qcow2': { path: 'disk.qcow2', size: 4, sha256: hash },
  },
  partitions: [
    { label: 'esp', index: 1, startBytes: 1048576, sizeBytes: 1048576 },
    { label: 'root-a', index: 2, startBytes: 2097152, sizeBytes: 1048576 },
    { label: 'root-b', index: 3, startBytes: 3145728, sizeBytes: 1048576 },
    { label: 'data', index: 4, startBytes: 4194304, sizeBytes: 1048576 },
  ],
  verity: { rootHash: hash, dataBlocks: 100, hashStartBlock: 100, salt: 'cd'.repeat(32) },
  rootImage: { sizeBytes: 409600 },
};

async function writeImage(dir: string, content: unknown = manifest, files: Record<string, string> = { 'disk.raw': '12345678', 'disk.qcow2': 'QFI\xfb' }): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(content));
  for (const [name, data] of Object.entries(files)) await writeFile(join(dir, name), data, 'latin1');
}

await t.test('a missing image fails and says how to build one', async (t) => {
  await t.rejects(loadImage(join(t.testdir(), 'nowhere')), { code: errorCode('QEMU_IMAGE_MISSING'), message: /run `npx berth build`/ });
  const dir = t.testdir();
  await writeImage(dir, manifest, { 'disk.raw': '12345678' });
  await t.rejects(loadImage(dir), { code: errorCode('QEMU_IMAGE_MISSING'), message: /disk\.qcow2.*npx berth build/ });
});

await t.test('a valid image loads with absolute disk paths and its partitions', async (t) => {
  const dir = t.testdir();
  await writeImage(dir);
  const image = await loadImage(dir);
  t.equal(image.qcow2, join(dir, 'disk.qcow2'));
  t.equal(image.raw, join(dir, 'disk.raw'));
  t.equal(image.manifest.version, '0.1.0');
  t.equal(image.partition('root-a').startBytes, 2097152);
});

await t.test('a disk whose size differs from the manifest is refused', async (t) => {
  const dir = t.testdir();
  await writeImage(dir, manifest, { 'disk.raw': '1234', 'disk.qcow2': 'QFI\xfb' });
  await t.rejects(loadImage(dir), { code: errorCode('QEMU_IMAGE_INVALID'), message: /4 bytes but .* records 8/ });
});

await t.test('manifest checks report every problem with its path', async (t) => {
  t.same(checkManifest([]).problems, ['(root): expected an object']);
  const broken = {
    ...manifest,
    version: '',
    partitions: [{ label: 'root-c', index: 0, startBytes: -1, sizeBytes: 0 }, ...manifest.partitions.slice(1)],
    verity: { ...manifest.verity, rootHash: 'xyz' },
  };
  const { problems, manifest: parsed } = checkManifest(broken);
  t.equal(parsed, undefined);
  t.same(problems, [
    'version: expected a non-empty string',
    'partitions[0].label: expected one of esp, root-a, root-b, data',
    'partitions[0].index: expected a partition number from 1',
    'partitions[0].startBytes: expected a byte offset',
    'partitions[0].sizeBytes: expected a byte count above 0',
    'partitions: expected exactly one "esp" partition, found 0',
    'verity.rootHash: expected 64 hex digits',
  ]);
  const dir = t.testdir();
  await writeImage(dir, broken);
  await t.rejects(loadImage(dir), { code: errorCode('QEMU_IMAGE_INVALID'), message: /version: expected/ });
});

await t.test('BERTH_IMAGE_DIR overrides the default image directory', (t) => {
  t.equal(defaultImageDir({}), join(REPO_ROOT, 'out', 'qemu'));
  t.equal(defaultImageDir({ BERTH_IMAGE_DIR: '/srv/images/qemu' }), '/srv/images/qemu');
  t.equal(containersImageDir({}), join(REPO_ROOT, 'out', 'qemu-containers'));
  t.equal(containersImageDir({ BERTH_CONTAINERS_IMAGE_DIR: '/srv/images/containers' }), '/srv/images/containers');
  t.end();
});
