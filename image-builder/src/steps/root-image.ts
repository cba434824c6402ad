/**
 * Stages 4 and 5: assemble the root tree (Debian root minus what a container host does
 * not run, plus bundled Node, berth's bundle, os-release and the overlays), then make
 * the compressed read-only filesystem and append its dm-verity hash tree.
 * Effects: extracts into a work directory, runs mkfs.erofs/mksquashfs and veritysetup.
 */
import { createHash } from 'node:crypto';
import { chmod, chown, cp, mkdir, open, readdir, readFile, rm, stat, truncate, writeFile, symlink } from 'node:fs/promises';
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
];

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

/** The Debian package list (name=version), kept in the image for inventory. */
export function packageInventory(dpkgStatus: string): string[] {
  const out: string[] = [];
  for (const stanza of dpkgStatus.split(/\n\n+/)) {
    const name = /^Package: (.+)$/m.exec(stanza)?.[1];
    const version = /^Version: (.+)$/m.exec(stanza)?.[1];
    const installed = /^Status: .* installed$/m.test(stanza);
    if (name && version && installed) out.push(`${name}=${version}`);
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
  await writeFile(path.join(lib, 'packages.txt'), `${packageInventory(status).join('\n')}\n`);
  const kernel = (await readdir(path.join(tree, 'usr/lib/modules')))[0] ?? 'unknown';
  await writeFile(
    path.join(tree, PATHS.buildInfo),
    `${JSON.stringify({ version: ctx.profile.version, profile: ctx.profile.name, suite: ctx.profile.suite, node: ctx.profile.node, kernel }, null, 2)}\n`,
  );
  await writeFile(path.join(tree, 'usr/lib/os-release'), renderOsRelease(ctx.profile.version));
  await rm(path.join(tree, 'etc/os-release'), { force: true });
  await symlink('../usr/lib/os-release', path.join(tree, 'etc/os-release'));
  for (const layer of ctx.profile.overlays) await applyOverlay(ctx, layer, tree);
}

async function treeSize(tree: string): Promise<number> {
  const out = (await $`du -sb ${tree}`.quiet()).stdout;
  return Number(out.split(/\s/)[0]);
}

async function makeFilesystem(fs: RootFilesystem, tree: string, file: string, epoch: number, uuid: string): Promise<void> {
  if (fs === 'erofs') {
    await $`mkfs.erofs --quiet -zlz4hc,9 -T${epoch} -U${uuid} ${file} ${tree}`;
  } else {
    // zstd 15: 109.5 MiB against 116.7 at level 9 and 116.3 at 12 (108.8 at 19), for 33 s of
    // the root stage instead of 9.6 s (57 s at 19), measured on the default root. zstd decompresses
    // at much the same speed whatever the level, so boots do not pay for it; the 256 KiB block
    // size, which does decide how much a page fault reads, is unchanged.
    await $`mksquashfs ${tree} ${file} -quiet -no-progress -noappend -comp zstd -Xcompression-level 15 -b 256K -mkfs-time ${epoch} -all-time ${epoch} -xattrs`;
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
