/**
 * Stages 4 and 5: assemble the root tree (Debian root minus what a container host does
 * not run, plus bundled Node, berth's bundle, os-release and the overlays), then make
 * the compressed read-only filesystem and append its dm-verity hash tree.
 * Effects: extracts into a work directory, runs mkfs.erofs/mksquashfs and veritysetup.
 */
import { createHash } from 'node:crypto';
import { chmod, chown, cp, lstat, mkdir, open, readdir, readFile, readlink, rm, rmdir, stat, truncate, writeFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { $ } from 'zx';
import * as yaml from 'js-yaml';
import { BerthError } from '../../../lib/errors.ts';
import { PATHS } from '../../../lib/layout.ts';
import type { VerityParams } from '../../../lib/boot-entry.ts';
import { hashInputs, hashPaths } from '../cache.ts';
import type { BuildContext } from './context.ts';
import { isBundleOutput } from './bundle.ts';

export type RootFilesystem = 'erofs' | 'squashfs';
const BLOCK = 4096;

/** Paths removed from the Debian root: docs, the package manager, the initramfs generator. */
export const PRUNED_PATHS = [
  'boot',
  'usr/share/doc',
  'usr/share/man',
  'usr/share/info',
  'usr/share/locale',
  'usr/share/lintian',
  'usr/share/bug',
  'usr/share/initramfs-tools',
  'etc/initramfs-tools',
  'usr/sbin/mkinitramfs',
  'usr/sbin/update-initramfs',
  'usr/bin/dpkg',
  'usr/bin/dpkg-deb',
  'usr/bin/dpkg-query',
  'usr/bin/dpkg-split',
  'usr/bin/dpkg-divert',
  'usr/bin/dpkg-statoverride',
  'usr/bin/dpkg-trigger',
  'usr/bin/dpkg-maintscript-helper',
  'usr/bin/dpkg-realpath',
  'etc/dpkg',
  'etc/hostname',
  'etc/machine-id',
  'var',
  'initrd.img',
  'initrd.img.old',
  'vmlinuz',
  'vmlinuz.old',
  // udev's hardware database (22 MB): berth runs no udev; init finds devices from sysfs.
  'usr/lib/udev/hwdb.bin',
  'usr/lib/udev/hwdb.d',
  'etc/udev/hwdb.d',
  'usr/bin/systemd-hwdb',
  // Perl (10 MB): only dpkg's and debconf's helpers use it, and berth has no package manager;
  // the scripts that need it go too (scriptsNeedingPrunedInterpreters).
  'usr/bin/perl', // and its versioned hard link usr/bin/perl5.x.y (removeOrphanedScripts)
  'usr/lib/x86_64-linux-gnu/perl-base',
  'usr/lib/x86_64-linux-gnu/perl5',
  'usr/share/perl5',
  // CNI plugins berth never runs (it uses bridge, host-local, loopback, portmap, firewall): ~30 MB.
  ...['bandwidth', 'dhcp', 'host-device', 'ipvlan', 'macvlan', 'ptp', 'sbr', 'static', 'tuning', 'vlan', 'vrf'].map((plugin) => `usr/lib/cni/${plugin}`),
  // etcd's offline tool (17 MB, 5.1 MiB squashed): snapshot restore, defragment and migrate on a
  // stopped member's data directory. berth never runs it: init supervises the member, which
  // defragments and takes snapshots online through its own API (from `etcdctl` on an admin's machine).
  'usr/bin/etcdutl',
  // Files only a compiler reads (the root has none): crun's static library (1.4 MB) and iproute2's BPF header.
  'usr/lib/x86_64-linux-gnu/libcrun.a',
  'usr/include',
];

/**
 * Debian packages berth never runs, removed whole (the files dpkg lists for them). The
 * rootfs carries them only as dependencies of what it does run: the kernel package pulls in
 * initramfs-tools, which pulls in udev and systemd. A build-time check (checkLibraries) fails
 * the build if a program left in the root links a library that went with them.
 */
export const PRUNED_PACKAGES = [
  // berth-pid1 and init are the service manager and find devices from sysfs: no systemd, no
  // udevd, no journal, so none of their programs can do anything here (15 MB). libsystemd0 and
  // libudev1 stay: crun, dhcpcd, util-linux and libdevmapper link them.
  'systemd',
  'udev',
  'libsystemd-shared',
  // The initramfs generator: berth makes its own initramfs at build time (stage 6, from the rootfs tar).
  'initramfs-tools',
  'initramfs-tools-core',
  'initramfs-tools-bin',
  'klibc-utils',
  'libklibc',
  'dracut-install',
  // Tools that edit /etc (accounts; package configuration for maintainer scripts, which berth
  // never runs), read-only on berth, and what only they link (libsemanage, libsepol).
  'passwd',
  'libsemanage2',
  'libsemanage-common',
  'libsepol2',
  'adduser',
  'debconf',
  'ucf',
];

/** Files of pruned packages that stay: kmod reads them whenever init runs modprobe (systemd's and udev's module options and blacklist). */
const KEPT_FROM_PRUNED_PACKAGES = ['usr/lib/modprobe.d/'];
const DPKG_INFO = 'var/lib/dpkg/info';

/** The non-directory paths (tree-relative) that a dpkg `.list` file names, less KEPT_FROM_PRUNED_PACKAGES. */
export function prunablePackageFiles(list: string, isDirectory: (rel: string) => boolean): string[] {
  return list
    .split('\n')
    .map((line) => line.replace(/^\/+/, ''))
    .filter((rel) => rel !== '' && rel !== '.' && !isDirectory(rel) && !KEPT_FROM_PRUNED_PACKAGES.some((kept) => rel.startsWith(kept)));
}

/** Removes the files of PRUNED_PACKAGES (those installed: profiles differ), then the directories they leave empty; returns the packages removed. */
async function removePrunedPackages(tree: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of PRUNED_PACKAGES) {
    const list = await readFile(path.join(tree, DPKG_INFO, `${name}.list`), 'utf8').catch(() => readFile(path.join(tree, DPKG_INFO, `${name}:amd64.list`), 'utf8').catch(() => undefined));
    if (list === undefined) continue;
    const entries = list.split('\n').map((line) => line.replace(/^\/+/, ''));
    const directories = new Set<string>();
    for (const rel of entries) {
      const info = await lstat(path.join(tree, rel)).catch(() => undefined);
      if (info?.isDirectory()) directories.add(rel);
    }
    for (const rel of prunablePackageFiles(list, (rel) => directories.has(rel))) await rm(path.join(tree, rel), { force: true });
    // Deepest first, and only when empty: other packages share most of these directories.
    for (const dir of [...directories].sort((a, b) => b.length - a.length)) await rmdir(path.join(tree, dir)).catch(() => undefined);
    removed.push(name);
  }
  return removed;
}

/** Interpreters PRUNED_PATHS removes: a script that names one of them could never run. */
export const PRUNED_INTERPRETERS = ['perl'];
const SCRIPT_DIRS = ['usr/bin', 'usr/sbin'];

/** Whether a file starting with `head` is a script run by one of PRUNED_INTERPRETERS (`#!/usr/bin/perl -w`, `#! /usr/bin/env perl`). */
export function needsPrunedInterpreter(head: string): boolean {
  const shebang = /^#!\s*(\S+)(?:[ \t]+(\S+))?/.exec(head);
  if (!shebang) return false;
  const program = path.posix.basename(shebang[1] ?? '') === 'env' ? shebang[2] ?? '' : shebang[1] ?? '';
  return PRUNED_INTERPRETERS.some((name) => path.posix.basename(program) === name || path.posix.basename(program).startsWith(`${name}5`));
}

/** Removes the scripts of SCRIPT_DIRS whose interpreter was pruned, and the interpreters' versioned names (perl5.40.1); returns their tree-relative paths. */
async function removeOrphanedScripts(tree: string): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of SCRIPT_DIRS) {
    const entries = await readdir(path.join(tree, dir), { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const file = path.join(tree, dir, entry.name);
      if (PRUNED_INTERPRETERS.some((name) => new RegExp(`^${name}\\d+(\\.\\d+)+$`).test(entry.name))) {
        await rm(file);
        removed.push(path.join(dir, entry.name));
        continue;
      }
      const handle = await open(file, 'r');
      const head = Buffer.alloc(128);
      const { bytesRead } = await handle.read(head, 0, head.length, 0).finally(() => handle.close());
      if (!needsPrunedInterpreter(head.subarray(0, bytesRead).toString('latin1'))) continue;
      await rm(file);
      removed.push(path.join(dir, entry.name));
    }
  }
  return removed;
}

/** One ELF file's dynamic dependencies: DT_NEEDED names and its DT_RUNPATH/DT_RPATH directories. */
export interface ElfNeeds {
  /** Tree-relative path. */
  file: string;
  needed: string[];
  runpath: string[];
}

/** Parses `readelf -d --wide FILE...` for the files given (tree-relative, in order): readelf prints `File: <path>` before each only when given several. */
export function parseReadelfDynamic(out: string, files: readonly string[]): ElfNeeds[] {
  const sections = new Map<string, string>();
  if (files.length === 1) sections.set(files[0] ?? '', out);
  else for (const part of out.split(/^(?=File: )/m)) sections.set(/^File: (.*)$/m.exec(part)?.[1] ?? '', part);
  return files.map((file) => {
    const text = sections.get(file) ?? '';
    const needed = [...text.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1] ?? '');
    const runpath = [...text.matchAll(/\((?:RUNPATH|RPATH)\)\s+Library r(?:un)?path: \[([^\]]*)\]/g)].flatMap((m) => (m[1] ?? '').split(':'));
    const origin = path.posix.join('/', path.posix.dirname(file));
    return { file, needed, runpath: runpath.map((dir) => path.posix.relative('/', path.posix.resolve('/', dir.replace('$ORIGIN', origin))) || '.') };
  });
}

/** The dynamic linker's default directories (tree-relative; /lib is a link to usr/lib). */
const LIBRARY_DIRS = ['usr/lib/x86_64-linux-gnu', 'usr/lib64', 'usr/lib', 'usr/local/lib/x86_64-linux-gnu', 'usr/local/lib'];

/** `<file> needs <library>` for every DT_NEEDED that neither the file's run path nor LIBRARY_DIRS provides. Pure: `has` says whether a tree-relative path resolves. */
export function unresolvedLibraries(elves: readonly ElfNeeds[], has: (rel: string) => boolean): string[] {
  const missing: string[] = [];
  for (const elf of elves) {
    for (const library of elf.needed) {
      if (![...elf.runpath, ...LIBRARY_DIRS].some((dir) => has(path.posix.join(dir, library)))) missing.push(`${elf.file} needs ${library}`);
    }
  }
  return missing;
}

/** Whether a tree-relative path exists, following symlinks inside the tree (an absolute target means the tree's root, not the build host's). */
async function resolvesInTree(tree: string, rel: string, hops = 0): Promise<boolean> {
  if (hops > 40) return false;
  const parts = rel.split('/').filter((part) => part !== '' && part !== '.');
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    const info = await lstat(path.join(tree, prefix)).catch(() => undefined);
    if (!info) return false;
    if (info.isSymbolicLink()) {
      const target = await readlink(path.join(tree, prefix));
      const base = target.startsWith('/') ? target : path.posix.join(path.posix.dirname(prefix), target);
      return resolvesInTree(tree, path.posix.normalize(path.posix.join(base, ...parts.slice(i))).replace(/^\/+/, ''), hops + 1);
    }
  }
  return true;
}

/** Fails the build when a program or library left in the tree links a library the prunes removed. Kernel modules are ELF too, but not linked by ld.so. */
async function checkLibraries(tree: string): Promise<void> {
  const elves: string[] = [];
  for (const entry of await readdir(tree, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.relative(tree, path.join(entry.parentPath, entry.name));
    if (file.startsWith('usr/lib/modules/')) continue;
    const handle = await open(path.join(tree, file), 'r');
    const magic = Buffer.alloc(4);
    await handle.read(magic, 0, 4, 0).finally(() => handle.close());
    if (magic.toString('latin1') === '\x7fELF') elves.push(file);
  }
  const needs: ElfNeeds[] = [];
  for (let i = 0; i < elves.length; i += 200) {
    const chunk = elves.slice(i, i + 200);
    const out = (await $({ cwd: tree })`readelf -d --wide ${chunk}`.quiet().nothrow()).stdout;
    needs.push(...parseReadelfDynamic(out, chunk));
  }
  const has = new Map<string, boolean>();
  for (const elf of needs) {
    for (const library of elf.needed) {
      for (const dir of [...elf.runpath, ...LIBRARY_DIRS]) {
        const rel = path.posix.join(dir, library);
        if (!has.has(rel)) has.set(rel, await resolvesInTree(tree, rel));
      }
    }
  }
  const missing = unresolvedLibraries(needs, (rel) => has.get(rel) === true);
  if (missing.length > 0) {
    throw new BerthError('BUILD_STEP_FAILED', `The pruned root lacks libraries its programs link: ${missing.join(', ')}; keep the package or path that provides them (PRUNED_PACKAGES, PRUNED_PATHS in image-builder/src/steps/root-image.ts)`);
  }
}

export interface RootImage {
  file: string;
  verity: VerityParams;
  dataBytes: number;
  imageBytes: number;
  treeBytes: number;
  key: string;
  cached: boolean;
}

export interface RootInputs {
  rootfsTar: string;
  rootfsKey: string;
  nodeBinary: string;
  nodeKey: string;
  bundleFile: string;
  bundleKey: string;
  /** The native helpers' stage directory and the executables in it, installed at /usr/lib/berth/<name>. */
  nativeDir: string;
  nativeNames: string[];
  nativeKey: string;
  filesystem: RootFilesystem;
  /** The update signing public key (PEM) built into the image; without it the host never updates itself. */
  updateSigningKeyPem?: string;
}

/** The root image's inputs from the stages before it (the Debian root, the bundled Node, the init bundle, the native helpers), each with its cache key. */
export function rootInputsFrom(
  rootfs: { tar: string; key: string },
  node: { binary: string; key: string },
  bundle: { file: string; key: string },
  native: { dir: string; names: string[]; key: string },
  filesystem: RootFilesystem,
): RootInputs {
  return {
    rootfsTar: rootfs.tar,
    rootfsKey: rootfs.key,
    nodeBinary: node.binary,
    nodeKey: node.key,
    bundleFile: bundle.file,
    bundleKey: bundle.key,
    nativeDir: native.dir,
    nativeNames: native.names,
    nativeKey: native.key,
    filesystem,
  };
}

/** The Debian package list (name=version), kept in the image for inventory; packages pruned whole are not in the image, so not in the list. */
export function packageInventory(dpkgStatus: string, pruned: readonly string[] = []): string[] {
  const out: string[] = [];
  for (const stanza of dpkgStatus.split(/\n\n+/)) {
    const name = /^Package: (.+)$/m.exec(stanza)?.[1];
    const version = /^Version: (.+)$/m.exec(stanza)?.[1];
    const installed = /^Status: .* installed$/m.test(stanza);
    if (name && version && installed && !pruned.includes(name)) out.push(`${name}=${version}`);
  }
  return out.sort();
}

export function renderOsRelease(version: string): string {
  return [
    'NAME="berth"',
    'ID=berth',
    'ID_LIKE=debian',
    `VERSION="${version}"`,
    `VERSION_ID=${version}`,
    `PRETTY_NAME="berth ${version}"`,
    'HOME_URL="https://github.com/berth-os/berth"',
    '',
  ].join('\n');
}

interface OverlayModes {
  [relativePath: string]: { mode?: string; uid?: number; gid?: number };
}

async function applyOverlay(ctx: BuildContext, layer: string, tree: string): Promise<void> {
  const dir = path.join(ctx.repoRoot, 'overlays', layer);
  try {
    await stat(dir);
  } catch {
    throw new BerthError('PROFILE_INVALID', `Overlay layer '${layer}' does not exist: create overlays/${layer}/ or remove it from the profile's overlays`);
  }
  await cp(dir, tree, { recursive: true, force: true, verbatimSymlinks: true });
  let modes: OverlayModes = {};
  try {
    modes = (yaml.load(await readFile(path.join(ctx.repoRoot, 'overlays', `${layer}.modes.yaml`), 'utf8')) ?? {}) as OverlayModes;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  for (const [rel, spec] of Object.entries(modes)) {
    const target = path.join(tree, rel);
    if (spec.mode !== undefined) await chmod(target, Number.parseInt(spec.mode, 8));
    if (spec.uid !== undefined || spec.gid !== undefined) await chown(target, spec.uid ?? 0, spec.gid ?? 0);
  }
}

async function assembleTree(ctx: BuildContext, inputs: RootInputs, tree: string): Promise<void> {
  await mkdir(tree, { recursive: true });
  await $`tar -xpf ${inputs.rootfsTar} -C ${tree} --numeric-owner`;
  const status = await readFile(path.join(tree, 'var/lib/dpkg/status'), 'utf8');
  // Packages before paths: their lists are under var/, which PRUNED_PATHS removes.
  const prunedPackages = await removePrunedPackages(tree);
  for (const rel of PRUNED_PATHS) await rm(path.join(tree, rel), { recursive: true, force: true });
  await removeOrphanedScripts(tree);
  for (const dir of ['var', 'efi', 'run', 'tmp', 'proc', 'sys', 'dev']) await mkdir(path.join(tree, dir), { recursive: true });
  await chmod(path.join(tree, 'tmp'), 0o1777);

  const lib = path.join(tree, PATHS.libDir);
  await mkdir(path.join(lib, 'node/bin'), { recursive: true });
  await cp(inputs.nodeBinary, path.join(tree, PATHS.nodeBinary));
  await chmod(path.join(tree, PATHS.nodeBinary), 0o755);
  // The entry (PATHS.bundle) and the chunks it imports lazily, with their source maps.
  const bundleDir = path.dirname(inputs.bundleFile);
  for (const name of (await readdir(bundleDir)).filter(isBundleOutput)) await cp(path.join(bundleDir, name), path.join(path.dirname(path.join(tree, PATHS.bundle)), name));
  for (const name of inputs.nativeNames) {
    await cp(path.join(inputs.nativeDir, name), path.join(lib, name));
    await chmod(path.join(lib, name), 0o755);
  }
  // Only the public half: the private key never enters an image.
  if (inputs.updateSigningKeyPem !== undefined) await writeFile(path.join(tree, PATHS.updateSigningKey), inputs.updateSigningKeyPem, { mode: 0o644 });
  await writeFile(path.join(lib, 'packages.txt'), `${packageInventory(status, prunedPackages).join('\n')}\n`);
  const kernel = (await readdir(path.join(tree, 'usr/lib/modules')))[0] ?? 'unknown';
  await writeFile(
    path.join(tree, PATHS.buildInfo),
    `${JSON.stringify({ version: ctx.profile.version, profile: ctx.profile.name, suite: ctx.profile.suite, node: ctx.profile.node, kernel }, null, 2)}\n`,
  );
  await writeFile(path.join(tree, 'usr/lib/os-release'), renderOsRelease(ctx.profile.version));
  await rm(path.join(tree, 'etc/os-release'), { force: true });
  await symlink('../usr/lib/os-release', path.join(tree, 'etc/os-release'));
  for (const layer of ctx.profile.overlays) await applyOverlay(ctx, layer, tree);
  await checkLibraries(tree);
}

async function treeSize(tree: string): Promise<number> {
  const out = (await $`du -sb ${tree}`.quiet()).stdout;
  return Number(out.split(/\s/)[0]);
}

/**
 * How the squashfs root is compressed; bench:peer squashes the peer's root with the same options
 * so that the size row compares like with like.
 */
export const ROOT_SQUASHFS_COMPRESSION = ['-comp', 'zstd', '-Xcompression-level', '15', '-b', '256K'] as const;

async function makeFilesystem(fs: RootFilesystem, tree: string, file: string, epoch: number, uuid: string): Promise<void> {
  if (fs === 'erofs') {
    await $`mkfs.erofs --quiet -zlz4hc,9 -T${epoch} -U${uuid} ${file} ${tree}`;
  } else {
    // zstd 15: 109.5 MiB against 116.7 at level 9 and 116.3 at 12 (108.8 at 19), for 33 s of
    // the root stage instead of 9.6 s (57 s at 19), measured on the default root. zstd decompresses
    // at much the same speed whatever the level, so boots do not pay for it; the 256 KiB block
    // size, which does decide how much a page fault reads, is unchanged.
    await $`mksquashfs ${tree} ${file} -quiet -no-progress -noappend ${[...ROOT_SQUASHFS_COMPRESSION]} -mkfs-time ${epoch} -all-time ${epoch} -xattrs`;
  }
}

/** Appends the verity hash tree (no superblock: every parameter is on the command line). */
async function appendVerity(file: string, salt: string): Promise<{ verity: VerityParams; dataBytes: number }> {
  const size = (await stat(file)).size;
  const dataBytes = Math.ceil(size / BLOCK) * BLOCK;
  await truncate(file, dataBytes);
  const out = (
    await $`veritysetup format --no-superblock --hash=sha256 --data-block-size=${BLOCK} --hash-block-size=${BLOCK} --salt=${salt} --hash-offset=${dataBytes} ${file} ${file}`.quiet()
  ).stdout;
  const rootHash = /Root hash:\s*([0-9a-f]{64})/.exec(out)?.[1];
  if (!rootHash) throw new BerthError('BUILD_STEP_FAILED', `veritysetup printed no root hash:\n${out}`);
  const blocks = dataBytes / BLOCK;
  return { verity: { rootHash, dataBlocks: blocks, hashStartBlock: blocks, salt }, dataBytes };
}

export async function buildRootImage(ctx: BuildContext, inputs: RootInputs): Promise<RootImage> {
  const overlaysHash = await hashPaths(['overlays'], ctx.repoRoot);
  const key = hashInputs({
    stage: 'root',
    fs: inputs.filesystem,
    rootfs: inputs.rootfsKey,
    node: inputs.nodeKey,
    bundle: inputs.bundleKey,
    native: inputs.nativeKey,
    updateSigningKey: inputs.updateSigningKeyPem ?? null,
    overlaysHash,
    overlays: ctx.profile.overlays,
    version: ctx.profile.version,
    name: ctx.profile.name,
    epoch: ctx.epoch,
    code: await hashPaths(['image-builder/src/steps/root-image.ts'], ctx.repoRoot),
  });
  const result = await ctx.cache.stage('root', key, async (dir) => {
    const tree = path.join(dir, 'tree');
    await assembleTree(ctx, inputs, tree);
    const treeBytes = await treeSize(tree);
    const file = path.join(dir, 'root.img');
    const seed = createHash('sha256').update(key).digest('hex');
    const uuid = `${seed.slice(0, 8)}-${seed.slice(8, 12)}-${seed.slice(12, 16)}-${seed.slice(16, 20)}-${seed.slice(20, 32)}`;
    await makeFilesystem(inputs.filesystem, tree, file, ctx.epoch, uuid);
    const { verity, dataBytes } = await appendVerity(file, seed);
    await rm(tree, { recursive: true, force: true });
    const imageBytes = (await stat(file)).size;
    await writeFile(path.join(dir, 'root.json'), JSON.stringify({ verity, dataBytes, imageBytes, treeBytes }, null, 2));
  });
  const meta = JSON.parse(await readFile(path.join(result.dir, 'root.json'), 'utf8')) as Omit<RootImage, 'file' | 'key' | 'cached'>;
  return { ...meta, file: path.join(result.dir, 'root.img'), key, cached: result.cached };
}
