import t from 'tap';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildCache } from '../../src/cache.ts';

void t.test('a stage runs once per key; a completed entry is reused', async (t) => {
  const root = t.testdir();
  const cache = new BuildCache(root);
  let runs = 0;
  const produce = async (dir: string): Promise<void> => {
    runs++;
    await writeFile(join(dir, 'out.txt'), 'built');
  };
  const first = await cache.stage('rootfs', 'k1', produce);
  t.same(first, { dir: join(root, 'rootfs', 'k1'), cached: false });
  t.equal(await readFile(join(first.dir, 'out.txt'), 'utf8'), 'built');
  const second = await cache.stage('rootfs', 'k1', produce);
  t.same(second, { dir: first.dir, cached: true });
  t.equal(runs, 1);
});

void t.test('a failed stage leaves no entry and no temp directory', async (t) => {
  const root = t.testdir();
  const cache = new BuildCache(root);
  const failure = new Error('mmdebstrap failed');
  await t.rejects(
    cache.stage('rootfs', 'k1', async (dir) => {
      await writeFile(join(dir, 'half'), '');
      throw failure;
    }),
    failure,
  );
  t.same(await readdir(join(root, 'rootfs')), []);
  const retried = await cache.stage('rootfs', 'k1', async () => undefined);
  t.equal(retried.cached, false, 'the next build runs the stage again');
});
