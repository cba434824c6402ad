/**
 * Stage 6: the initramfs, made by the builder from Debian binaries of the same root:
 * busybox-static, dmsetup with the shared libraries it needs, and the kernel modules
 * to reach and open the root. Also takes the kernel image out of the root.
 * Effects: extracts the rootfs tar into a temp dir, runs readelf, xz, cpio and zstd.
 */
import { chmod, copyFile, mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { $ } from 'zx';
import { BerthError } from '../../../lib/errors.ts';
import { pathExists } from '../../../lib/sys/path-exists.ts';
import { hashInputs, hashPaths } from '../cache.ts';
import { INITRAMFS_MODULES, moduleLoadOrder, parseModuleDb } from '../plan/modules.ts';
import type { BuildContext } from './context.ts';

const BUSYBOX_APPLETS = ['sh', 'mount', 'insmod', 'switch_root', 'sleep', 'cat', 'echo', 'grep', 'sed', 'mkdir', 'reboot', 'poweroff', 'ls', 'cp', 'umount', 'blockdev'];
const LIB_DIRS = ['usr/lib/x86_64-linux-gnu', 'usr/lib64', 'usr/lib'];

/** Shared libraries (recursively) an ELF binary of the tree needs, as tree-relative paths. */
async function sharedLibraryClosure(tree: string, binary: string): Promise<string[]> {
  const found = new Set<string>();
  const queue = [binary];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    const dynamic = (await $`readelf -d ${path.join(tree, file)}`.quiet()).stdout;
    for (const match of dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[(.+?)\]/g)) {
      const lib = match[1] as string;
      const dir = await findFirst(LIB_DIRS.map((d) => path.join(d, lib)), tree);
      if (!dir) throw new BerthError('BUILD_STEP_FAILED', `Cannot find ${lib}, needed by ${file}, in the root filesystem`);
      if (!found.has(dir)) {
        found.add(dir);
        queue.push(dir);
      }
    }
  }
  return [...found].sort();
}

async function findFirst(candidates: string[], tree: string): Promise<string | undefined> {
  for (const c of candidates) if (await pathExists(path.join(tree, c))) return c;
  return undefined;
}

export interface Initramfs {
  initrd: string;
  kernel: string;
  kernelVersion: string;
  modules: string[];
  key: string;
  cached: boolean;
}

export async function buildInitramfs(ctx: BuildContext, rootfsTar: string, rootfsKey: string): Promise<Initramfs> {
  const key = hashInputs({
    stage: 'initramfs',
    rootfsKey,
    epoch: ctx.epoch,
    code: await hashPaths(['image-builder/initramfs', 'image-builder/src/steps/initramfs.ts', 'image-builder/src/plan/modules.ts'], ctx.repoRoot),
  });
  const result = await ctx.cache.stage('initramfs', key, async (dir) => {
    const tree = path.join(dir, 'rootfs');
    const staging = path.join(dir, 'initramfs');
    await mkdir(tree, { recursive: true });
    await $`tar -xpf ${rootfsTar} -C ${tree} --numeric-owner ./boot ./usr/lib/modules ./usr/bin/busybox ./usr/sbin/dmsetup ./usr/lib/x86_64-linux-gnu ./usr/lib64`;
    const kernelVersion = (await readdir(path.join(tree, 'usr/lib/modules')))[0];
    if (!kernelVersion) throw new BerthError('BUILD_STEP_FAILED', 'The root filesystem holds no kernel modules: is a linux-image package in the profile?');
    await copyFile(path.join(tree, 'boot', `vmlinuz-${kernelVersion}`), path.join(dir, 'vmlinuz'));

    for (const d of ['bin', 'dev', 'proc', 'sys', 'sysroot', 'etc', 'lib/modules', 'lib64', 'lib/x86_64-linux-gnu', 'run']) {
      await mkdir(path.join(staging, d), { recursive: true });
    }
    await copyFile(path.join(tree, 'usr/bin/busybox'), path.join(staging, 'bin/busybox'));
    await chmod(path.join(staging, 'bin/busybox'), 0o755);
    for (const applet of BUSYBOX_APPLETS) await symlink('busybox', path.join(staging, 'bin', applet));
    await copyFile(path.join(tree, 'usr/sbin/dmsetup'), path.join(staging, 'bin/dmsetup'));
    await chmod(path.join(staging, 'bin/dmsetup'), 0o755);
    for (const lib of await sharedLibraryClosure(tree, 'usr/sbin/dmsetup')) {
      await $`cp -L ${path.join(tree, lib)} ${path.join(staging, 'lib/x86_64-linux-gnu', path.basename(lib))}`;
    }
    await $`cp -L ${path.join(tree, 'usr/lib64/ld-linux-x86-64.so.2')} ${path.join(staging, 'lib64/ld-linux-x86-64.so.2')}`;

    const modulesDir = path.join(tree, 'usr/lib/modules', kernelVersion);
    const db = parseModuleDb(
      await readFile(path.join(modulesDir, 'modules.dep'), 'utf8'),
      await readFile(path.join(modulesDir, 'modules.builtin'), 'utf8'),
    );
    const { order } = moduleLoadOrder(db, INITRAMFS_MODULES);
    for (const name of order) {
      const rel = db.paths.get(name) as string;
      const target = path.join(staging, 'lib/modules', `${name}.ko`);
      if (rel.endsWith('.xz')) await $`xz -dc ${path.join(modulesDir, rel)} > ${target}`;
      else if (rel.endsWith('.zst')) await $`zstd -qdc ${path.join(modulesDir, rel)} > ${target}`;
      else await copyFile(path.join(modulesDir, rel), target);
    }
    await writeFile(path.join(staging, 'etc/initramfs-modules'), `${order.join('\n')}\n`);
    await copyFile(path.join(ctx.repoRoot, 'image-builder/initramfs/init'), path.join(staging, 'init'));
    await chmod(path.join(staging, 'init'), 0o755);

    // Reproducible archive: sorted names, one timestamp, root-owned.
    await $`find ${staging} -exec touch -h -d @${ctx.epoch} {} +`;
    await $({ cwd: staging })`find . -print0 | LC_ALL=C sort -z | cpio --quiet --null -o -H newc --reproducible -R 0:0 | zstd -q -19 -T0 > ${path.join(dir, 'initrd.img')}`;
    await rm(tree, { recursive: true, force: true });
    await rm(staging, { recursive: true, force: true });
    await writeFile(path.join(dir, 'initramfs.json'), JSON.stringify({ kernelVersion, modules: order }, null, 2));
  });
  const meta = JSON.parse(await readFile(path.join(result.dir, 'initramfs.json'), 'utf8')) as { kernelVersion: string; modules: string[] };
  return { initrd: path.join(result.dir, 'initrd.img'), kernel: path.join(result.dir, 'vmlinuz'), ...meta, key, cached: result.cached };
}
