/**
 * The initramfs (image-builder/initramfs/init) mounts part of init's API filesystems before
 * switch_root, and init skips mounted targets: the initramfs must use init's own options.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { apiFilesystemMounts } from '../../src/core/mount-plan.ts';

void t.test("the initramfs mounts init's API filesystems with init's own options, so init skipping them changes nothing", async (t) => {
  const script = await readFile(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../image-builder/initramfs/init'), 'utf8');
  // Where the initramfs mounts them, and where they end up after its `mount --move`s and switch_root.
  const finalTarget = (target: string): string => target.replace(/^\/sysroot(?=\/)/, '');
  const mounts = [...script.matchAll(/^mount -t (\S+) -o (\S+) (\S+) (\S+)/gm)].map((m) => ({ fsType: m[1], options: (m[2] ?? '').split(',').sort(), source: m[3], target: finalTarget(m[4] ?? '') }));
  const plan = apiFilesystemMounts();
  const shared = mounts.filter((m) => plan.some((p) => p.target === m.target));
  t.same(shared.map((m) => m.target).sort(), ['/dev/pts', '/dev/shm', '/run', '/sys/fs/cgroup', '/tmp'], 'the initramfs mounts these of the plan');
  for (const mount of shared) {
    const spec = plan.find((p) => p.target === mount.target);
    t.same(mount, { fsType: spec?.fsType, options: [...(spec?.options ?? [])].sort(), source: spec?.source, target: spec?.target }, mount.target);
  }
});
