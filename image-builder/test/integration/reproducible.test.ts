// Two builds of the root image from the same inputs and SOURCE_DATE_EPOCH must be
// byte-identical. Runs the real stages: the Debian root (mmdebstrap, shared with the main
// build's cache), the bundled Node, the bundle, then the root image twice into two
// separate caches.
import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuildCache } from '../../src/cache.ts';
import { parseProfile } from '../../src/profile/profile.ts';
import { buildRootfs } from '../../src/steps/rootfs.ts';
import { fetchNode } from '../../src/steps/node.ts';
import { bundleBerth } from '../../src/steps/bundle.ts';
import { buildNative } from '../../src/steps/native.ts';
import { buildRootImage, rootInputsFrom } from '../../src/steps/root-image.ts';
import type { BuildContext } from '../../src/steps/context.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

void t.test('the root image is byte-identical across two builds of the same inputs', async (t) => {
  const profile = parseProfile(readFileSync(path.join(repoRoot, 'image-builder/profiles/qemu.yaml'), 'utf8'), 'qemu.yaml');
  const log = (line: string) => t.comment(line);
  const shared: BuildContext = { profile, repoRoot, cache: new BuildCache(path.join(repoRoot, 'out/cache')), epoch: 1_700_000_000, log };
  const rootfs = await buildRootfs(shared);
  const node = await fetchNode(shared);
  const bundle = await bundleBerth(shared);
  const native = await buildNative(shared);
  const inputs = rootInputsFrom(rootfs, node, bundle, native, profile.rootFilesystem);
  const dirs = [0, 1].map(() => mkdtempSync(path.join(os.tmpdir(), 'berth-repro-')));
  t.teardown(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const first = await buildRootImage({ ...shared, cache: new BuildCache(dirs[0] as string) }, inputs);
  const firstHash = sha256(first.file);
  const second = await buildRootImage({ ...shared, cache: new BuildCache(dirs[1] as string) }, inputs);
  t.notOk(first.cached, 'first build ran');
  t.notOk(second.cached, 'second build ran');
  t.not(first.file, second.file, 'two separate outputs');
  t.equal(sha256(second.file), firstHash, 'same bytes');
  t.same(first.verity, second.verity, 'same verity root hash and parameters');
});
