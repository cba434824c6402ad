/**
 * The update bundle of a build (issue 4): splits out/<profile>/root.img (root image with
 * its verity tree appended, no superblock) into the image and the tree, compresses the
 * image with zstd and writes a signed bundle to out/<profile>/bundle/ with the updater's
 * createBundle. Effects: files under the build's out directory, the zstd binary.
 */
import { open, rm, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { $ } from 'zx';
import { BerthError } from '../../lib/errors.ts';
import { type BundleManifest, createBundle } from '../../updater/src/index.ts';
import type { BuildManifest } from './build.ts';

export const BUNDLE_DIR_NAME = 'bundle';

export interface EmitBundleInput {
  outDir: string;
  build: BuildManifest;
  privateKey: KeyObject;
  channel: string;
  minVersion: string;
  created: Date;
}

/** Copies `length` bytes of `from` starting at `start` into a new file `to`. */
async function copyRange(from: string, to: string, start: number, length: number): Promise<void> {
  const source = await open(from, 'r');
  const target = await open(to, 'w', 0o644);
  try {
    const buffer = Buffer.alloc(4 * 1024 * 1024);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await source.read(buffer, 0, Math.min(buffer.length, length - done), start + done);
      if (bytesRead === 0) throw new BerthError('BUILD_STEP_FAILED', `${from} ends after ${start + done} bytes, expected ${start + length}`);
      await target.write(buffer.subarray(0, bytesRead));
      done += bytesRead;
    }
  } finally {
    await source.close();
    await target.close();
  }
}

/** Writes out/<profile>/bundle/ (replacing an older one); returns its directory and manifest. */
export async function emitUpdateBundle(input: EmitBundleInput): Promise<{ dir: string; manifest: BundleManifest }> {
  const { outDir, build } = input;
  const work = path.join(outDir, 'bundle-work');
  const dir = path.join(outDir, BUNDLE_DIR_NAME);
  await rm(work, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const rootImg = path.join(outDir, 'root.img');
  const dataBytes = build.rootImage.dataBytes;
  const treeBytes = build.rootImage.sizeBytes - dataBytes;
  if (build.verity.hashStartBlock * 4096 !== dataBytes || treeBytes <= 0) {
    throw new BerthError('BUILD_STEP_FAILED', `root.img layout unexpected: data ${dataBytes} bytes, hash start block ${build.verity.hashStartBlock}, total ${build.rootImage.sizeBytes}`);
  }
  const image = path.join(work, 'root.img');
  const tree = path.join(work, 'root.verity');
  await copyRange(rootImg, image, 0, dataBytes);
  await copyRange(rootImg, tree, dataBytes, treeBytes);
  const compressed = path.join(work, 'root.img.zst');
  // -19 would take minutes on two cores; -6 with threads keeps a build fast and the download small.
  await $`zstd -q -6 -T0 --no-progress -o ${compressed} ${image}`;
  const manifest = await createBundle({
    outDir: dir,
    version: build.version,
    architecture: 'x86_64',
    channel: input.channel,
    minVersion: input.minVersion,
    created: input.created,
    privateKey: input.privateKey,
    rootFilesystem: build.rootFilesystem,
    files: { rootCompressed: compressed, rootImage: image, verityTree: tree, kernel: path.join(outDir, 'vmlinuz'), initrd: path.join(outDir, 'initrd.img') },
    verity: { rootHash: build.verity.rootHash, salt: build.verity.salt, dataBlocks: build.verity.dataBlocks, hashStartBlock: build.verity.hashStartBlock },
  });
  await rm(work, { recursive: true, force: true });
  return { dir, manifest };
}
