// The unpacked form is what overlayfs expects: two layers unpacked by berth and mounted with
// overlayMountArgs show whiteouts and opaque directories taking effect in the merged root.
import { promises as fsp } from 'node:fs';
import * as nodePath from 'node:path';
import t from 'tap';
import { createExec } from '../../../lib/sys/exec.ts';
import { overlayMountArgs, MOUNT_PATH } from '../../src/core/crun-args.ts';
import { unpackLayer } from '../../src/store/unpack.ts';
import { gzip, packTar, streamOf } from './tar-fixtures.ts';

const isRoot = process.getuid?.() === 0;

/** These tests need root; npm test runs as root. Anywhere else they fail saying so, never skip. */
function requireRoot(t: { ok: (value: unknown, message: string) => unknown }, why: string): void {
  if (!isRoot) throw new Error(`Run this test as root: it ${why}`);
  t.ok(isRoot, 'running as root');
}

void t.test('whiteouts and opaque directories work under a real overlay mount', async (t) => {
  requireRoot(t, 'needs root to mount overlayfs');
  const base = t.testdir({ layers: {}, upper: {}, work: {}, merged: {} });
  const layersDir = nodePath.join(base, 'layers');
  const lower = await packTar([
    { name: 'etc/motd', body: 'old motd\n' },
    { name: 'etc/keep', body: 'kept\n' },
    { name: 'var/cache/old/file', body: 'stale\n' },
    { name: 'opt/a', body: 'a\n' },
  ]);
  const upper = await packTar([
    { name: 'etc/.wh.motd' },
    { name: 'var/cache/.wh..wh..opq' },
    { name: 'var/cache/new', body: 'fresh\n' },
    { name: 'opt/b', body: 'b\n' },
  ]);
  const dirs = [nodePath.join(layersDir, 'sha256-lower'), nodePath.join(layersDir, 'sha256-upper')];
  await unpackLayer(streamOf(gzip(lower)), { digest: `sha256:${'01'.repeat(32)}`, target: dirs[0] ?? '' });
  await unpackLayer(streamOf(upper), { digest: `sha256:${'02'.repeat(32)}`, target: dirs[1] ?? '' });

  const merged = nodePath.join(base, 'merged');
  const mount = overlayMountArgs(layersDir, dirs, nodePath.join(base, 'upper'), nodePath.join(base, 'work'), merged);
  const exec = createExec();
  try {
    await exec.run(MOUNT_PATH, mount.args, { cwd: mount.cwd, timeoutMs: 10_000 });
  } catch (error) {
    t.fail(`overlayfs mount is not available on this host: ${String(error)}`);
    return;
  }
  try {
    t.same((await fsp.readdir(nodePath.join(merged, 'etc'))).sort(), ['keep'], 'the whiteout hides etc/motd');
    t.same(await fsp.readdir(nodePath.join(merged, 'var/cache')), ['new'], 'the opaque directory hides the lower contents');
    t.same((await fsp.readdir(nodePath.join(merged, 'opt'))).sort(), ['a', 'b'], 'ordinary directories merge');
    t.equal(await fsp.readFile(nodePath.join(merged, 'var/cache/new'), 'utf8'), 'fresh\n');
  } finally {
    await exec.run('/usr/bin/umount', [merged], { timeoutMs: 10_000 });
  }
});
