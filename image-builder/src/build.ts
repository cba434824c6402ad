/**
 * `berth build`: runs the stages in order, each cached by a content hash of its inputs,
 * prints a progress line with elapsed time per stage, and writes out/<profile>/ with
 * disk.raw, disk.qcow2, the boot artifacts and manifest.json.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { digestFile } from '../../lib/sys/file-digest.ts';
import { BuildCache } from './cache.ts';
import type { BuildProfile } from './profile/profile.ts';
import type { BuildContext } from './steps/context.ts';
import { buildRootfs } from './steps/rootfs.ts';
import { fetchNode, NODE_DEBUG_FILE } from './steps/node.ts';
import { bundleBerth } from './steps/bundle.ts';
import { buildNative } from './steps/native.ts';
import { buildRootImage, rootInputsFrom, type RootFilesystem } from './steps/root-image.ts';
import { buildInitramfs } from './steps/initramfs.ts';
import { buildDisk } from './steps/disk.ts';

export interface BuildOptions {
  profile: BuildProfile;
  repoRoot: string;
  outRoot: string;
  /** Stage cache; default <outRoot>/cache. Builds of several profiles or versions can share one. */
  cacheDir?: string;
  epoch: number;
  filesystem?: RootFilesystem;
  /** The update signing public key (PEM) to build into the root. */
  updateSigningKeyPem?: string;
  log?: (line: string) => void;
}

export interface ArtifactInfo {
  path: string;
  size: number;
  sha256: string;
}

export interface BuildManifest {
  version: string;
  profile: string;
  suite: string;
  kernel: string;
  node: string;
  sourceDateEpoch: number;
  rootFilesystem: RootFilesystem;
  artifacts: Record<string, ArtifactInfo>;
  partitions: Array<{ label: string; index: number; startBytes: number; sizeBytes: number; uuid: string }>;
  verity: { rootHash: string; dataBlocks: number; hashStartBlock: number; salt: string };
  rootImage: { sizeBytes: number; dataBytes: number; treeBytes: number };
  stageKeys: Record<string, string>;
}

async function artifact(outDir: string, file: string): Promise<ArtifactInfo> {
  const { size, sha256 } = await digestFile(file);
  return { path: path.relative(outDir, file), size, sha256 };
}

export async function buildImage(options: BuildOptions): Promise<{ outDir: string; manifest: BuildManifest }> {
  const log = options.log ?? ((line: string) => console.log(line));
  const ctx: BuildContext = {
    profile: options.profile,
    repoRoot: options.repoRoot,
    cache: new BuildCache(options.cacheDir ?? path.join(options.outRoot, 'cache')),
    epoch: options.epoch,
    log,
  };
  const stages = 9;
  let n = 0;
  const timed = async <T extends { cached?: boolean }>(name: string, run: () => Promise<T>): Promise<T> => {
    n += 1;
    const started = performance.now();
    log(`[${n}/${stages}] ${name} …`);
    const result = await run();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    log(`[${n}/${stages}] ${name} ${result.cached ? 'cached' : 'done'} (${seconds}s)`);
    return result;
  };
  const filesystem = options.filesystem ?? ctx.profile.rootFilesystem;
  const rootfs = await timed('root filesystem (mmdebstrap)', () => buildRootfs(ctx));
  const node = await timed(`bundled Node ${ctx.profile.node}`, () => fetchNode(ctx));
  const bundle = await timed('init bundle (esbuild)', () => bundleBerth(ctx));
  const native = await timed('native helpers (gcc -static)', () => buildNative(ctx));
  const root = await timed(`overlays + root image (${filesystem} + dm-verity)`, () =>
    buildRootImage(ctx, {
      ...rootInputsFrom(rootfs, node, bundle, native, filesystem),
      ...(options.updateSigningKeyPem !== undefined ? { updateSigningKeyPem: options.updateSigningKeyPem } : {}),
    }),
  );
  const initramfs = await timed('initramfs', () => buildInitramfs(ctx, rootfs.tar, rootfs.key));
  const outDir = path.join(options.outRoot, ctx.profile.name);
  await mkdir(outDir, { recursive: true });
  const disk = await timed('EFI system partition + GPT disk', async () => ({
    ...(await buildDisk(ctx, outDir, {
      rootImage: root.file,
      rootImageBytes: root.imageBytes,
      verity: root.verity,
      kernel: initramfs.kernel,
      initrd: initramfs.initrd,
    })),
    cached: false,
  }));
  n = stages - 1;
  const manifest = await timed('manifest', async () => {
    for (const [from, to] of [[root.file, 'root.img'], [initramfs.kernel, 'vmlinuz'], [initramfs.initrd, 'initrd.img'], [node.debugFile, NODE_DEBUG_FILE]] as const) {
      await copyFile(from, path.join(outDir, to));
    }
    const artifacts: Record<string, ArtifactInfo> = {};
    for (const name of ['disk.raw', 'disk.qcow2', 'root.img', 'vmlinuz', 'initrd.img', 'esp.img']) {
      artifacts[name] = await artifact(outDir, path.join(outDir, name));
    }
    const result: BuildManifest = {
      version: ctx.profile.version,
      profile: ctx.profile.name,
      suite: ctx.profile.suite,
      kernel: initramfs.kernelVersion,
      node: ctx.profile.node,
      sourceDateEpoch: ctx.epoch,
      rootFilesystem: filesystem,
      artifacts,
      partitions: disk.plan.partitions.map((p) => ({ label: p.label, index: p.index, startBytes: p.startBytes, sizeBytes: p.sizeBytes, uuid: p.uuid })),
      verity: root.verity,
      rootImage: { sizeBytes: root.imageBytes, dataBytes: root.dataBytes, treeBytes: root.treeBytes },
      stageKeys: { rootfs: rootfs.key, node: node.key, bundle: bundle.key, native: native.key, root: root.key, initramfs: initramfs.key },
    };
    await writeFile(path.join(outDir, 'manifest.json'), `${JSON.stringify(result, null, 2)}\n`);
    return Object.assign(result, { cached: false });
  });
  const { cached: _cached, ...clean } = manifest;
  return { outDir, manifest: clean };
}
