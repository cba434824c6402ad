/**
 * Making and publishing update bundles on the build host: `createBundle` hashes the
 * build's root image (compressed and raw), verity hash tree, kernel and initrd, copies
 * them into a bundle directory and writes the signed manifest; `publishBundle` (behind
 * `berth publish <bundle> --channel <name> --to <dir> --signing-key <key>`) copies a bundle
 * into a static server directory and then atomically points `channels/<name>.json` at it,
 * signed and with an expiry (`writeChannel`). Effects:
 * files in the given directories only.
 */
import { copyFile, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { dirname, join } from 'node:path';
import { BerthError } from '../../lib/errors.ts';
import { writeFileAtomically } from '../../lib/sys/atomic-file.ts';
import { digestFile } from '../../lib/sys/file-digest.ts';
import {
  BUNDLE_FILES,
  MANIFEST_FORMAT,
  PAYLOAD_NAMES,
  VERITY_BLOCK_SIZE,
  parseManifest,
  type Architecture,
  type BundleManifest,
} from './core/bundle-manifest.ts';
import { channelMetadataPath, type ChannelMetadata } from './core/release.ts';
import type { Wave } from './core/rollout.ts';
import { keyIdOf, signChannelMetadata, signManifest, verifyChannelMetadata, verifyManifest, type TrustedKey } from './signing.ts';

/** Bundles and channel files are served to every client: readable by all. */
const PUBLIC_FILE = { mode: 0o644 } as const;

/** The filesystem of a root image: it names the root payload file (the manifest holds the path). */
export type RootFilesystemName = 'erofs' | 'squashfs';

/** Payload file names inside every bundle; the root's follows its filesystem (rootPayloadFileName). */
export const PAYLOAD_FILE_NAMES = {
  verity: 'root.verity',
  kernel: 'vmlinuz',
  initrd: 'initrd.img',
} as const;

/** `root.squashfs.zst` or `root.erofs.zst`: a bundle says what it carries without opening it. */
export function rootPayloadFileName(filesystem: RootFilesystemName): string {
  return `root.${filesystem}.zst`;
}

export interface CreateBundleInput {
  outDir: string;
  version: string;
  architecture: Architecture;
  channel: string;
  minVersion: string;
  created: Date;
  privateKey: KeyObject;
  /** The root image's filesystem; names the root payload file. */
  rootFilesystem: RootFilesystemName;
  files: {
    /** The root image compressed with zstd (what is downloaded). */
    rootCompressed: string;
    /** The same image uncompressed (what lands in the slot), for its size and sha256. */
    rootImage: string;
    verityTree: string;
    kernel: string;
    initrd: string;
  };
  verity: { rootHash: string; salt: string; dataBlocks: number; hashStartBlock: number };
}

/** Writes a signed bundle directory; returns its manifest. Refuses a non-empty outDir. */
export async function createBundle(input: CreateBundleInput): Promise<BundleManifest> {
  await mkdir(input.outDir, { recursive: true });
  if ((await readdir(input.outDir)).length > 0) {
    throw new BerthError('UPDATER_BUNDLE_EXISTS', `Refusing to write a bundle into ${input.outDir}: the directory is not empty`);
  }
  const [root, image, verity, kernel, initrd] = await Promise.all(
    [input.files.rootCompressed, input.files.rootImage, input.files.verityTree, input.files.kernel, input.files.initrd].map(digestFile),
  );
  if (!root || !image || !verity || !kernel || !initrd) throw new Error('unreachable: five digests');
  const rootPath = rootPayloadFileName(input.rootFilesystem);
  const manifest: BundleManifest = {
    format: MANIFEST_FORMAT,
    version: input.version,
    architecture: input.architecture,
    channel: input.channel,
    min_version: input.minVersion,
    created: input.created.toISOString(),
    payload: {
      root: { path: rootPath, ...root, compression: 'zstd', image_size: image.size, image_sha256: image.sha256 },
      verity: {
        path: PAYLOAD_FILE_NAMES.verity,
        ...verity,
        root_hash: input.verity.rootHash,
        salt: input.verity.salt,
        data_blocks: input.verity.dataBlocks,
        hash_start_block: input.verity.hashStartBlock,
        block_size: VERITY_BLOCK_SIZE,
      },
      kernel: { path: PAYLOAD_FILE_NAMES.kernel, ...kernel },
      initrd: { path: PAYLOAD_FILE_NAMES.initrd, ...initrd },
    },
  };
  // Signing validates the manifest first, so nothing is copied for a bad one.
  const signed = signManifest(manifest, input.privateKey);
  await copyFile(input.files.rootCompressed, join(input.outDir, rootPath));
  await copyFile(input.files.verityTree, join(input.outDir, PAYLOAD_FILE_NAMES.verity));
  await copyFile(input.files.kernel, join(input.outDir, PAYLOAD_FILE_NAMES.kernel));
  await copyFile(input.files.initrd, join(input.outDir, PAYLOAD_FILE_NAMES.initrd));
  await writeFileAtomically(join(input.outDir, BUNDLE_FILES.manifest), signed.manifestBytes, PUBLIC_FILE);
  await writeFileAtomically(join(input.outDir, BUNDLE_FILES.signature), signed.signatureBytes, PUBLIC_FILE);
  return manifest;
}

export interface PublishInput {
  bundleDir: string;
  channel: string;
  /** The static server directory. */
  toDir: string;
  /** Release time written to the channel file, and the signing time of its metadata. */
  now: Date;
  /** Signs the channel metadata: the key of the bundles, whose public half is in the image. */
  privateKey: KeyObject;
  /** How long hosts accept the metadata (default DEFAULT_METADATA_VALIDITY_MS). */
  validForMs?: number;
  /** The rollout plan (rollout.ts); absent: every host at once, or the plan already published for this version. */
  waves?: readonly Wave[];
  /** When given, the bundle must verify with one of these keys before it is published. */
  trustedKeys?: readonly TrustedKey[];
}

/** `berth publish --expires-in` default: publish again (e.g. daily from cron) well before. */
export const DEFAULT_METADATA_VALIDITY_MS = 3 * 86_400_000;

export interface ChannelWrite {
  toDir: string;
  channel: string;
  now: Date;
  privateKey: KeyObject;
  validForMs?: number;
}

/**
 * The channel's current metadata as this publisher signed it, or undefined when there is none
 * (or it is not ours: another key, unreadable). Expiry does not matter here.
 */
export async function readPublishedChannel(write: Pick<ChannelWrite, 'toDir' | 'channel' | 'privateKey'>): Promise<ChannelMetadata | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(write.toDir, channelMetadataPath(write.channel)));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const own = createPublicKey(write.privateKey);
  try {
    return verifyChannelMetadata(bytes, [{ keyId: keyIdOf(own), key: own }], write.channel);
  } catch {
    return undefined;
  }
}

/**
 * Signs and writes `<to>/channels/<channel>.json` in one rename: `change` turns the current
 * metadata (undefined for a new channel) into the next, without published/expires, which are
 * set here (now, now + validity).
 */
export async function writeChannel(
  write: ChannelWrite,
  change: (previous: ChannelMetadata | undefined) => Omit<ChannelMetadata, 'published' | 'expires'>,
): Promise<{ channel: ChannelMetadata; channelPath: string }> {
  const previous = await readPublishedChannel(write);
  const channelPath = join(write.toDir, channelMetadataPath(write.channel));
  const validFor = write.validForMs ?? DEFAULT_METADATA_VALIDITY_MS;
  const channel: ChannelMetadata = { ...change(previous), published: write.now.toISOString(), expires: new Date(write.now.getTime() + validFor).toISOString() };
  await mkdir(dirname(channelPath), { recursive: true });
  await writeFileAtomically(channelPath, signChannelMetadata(channel, write.privateKey), PUBLIC_FILE);
  return { channel, channelPath };
}

export interface Published {
  manifest: BundleManifest;
  channel: ChannelMetadata;
  channelPath: string;
}

/**
 * `berth publish --halt/--resume`: re-signs the channel with `halt` added to and `resume`
 * removed from its halted versions. Throws UPDATER_PUBLISH_NO_CHANNEL when the channel has no
 * metadata signed by this key yet.
 */
export async function changeHalts(write: ChannelWrite, halt: readonly string[], resume: readonly string[]): Promise<{ channel: ChannelMetadata; channelPath: string }> {
  if (!(await readPublishedChannel(write))) {
    throw new BerthError('UPDATER_PUBLISH_NO_CHANNEL', `Cannot halt or resume on channel ${write.channel}: ${join(write.toDir, channelMetadataPath(write.channel))} is missing or not signed by this key; publish a bundle first`);
  }
  return writeChannel(write, (previous) => {
    const { published: _published, expires: _expires, halted, ...rest } = previous as ChannelMetadata;
    const next = [...new Set([...(halted ?? []), ...halt])].filter((v) => !resume.includes(v));
    return { ...rest, ...(next.length > 0 ? { halted: next } : {}) };
  });
}

/**
 * Copies the bundle to `<to>/bundles/<version>/` (checking every payload against the
 * manifest), then replaces `<to>/channels/<channel>.json` in one rename: a client never
 * sees a channel pointing at an incomplete bundle. Re-publishing the same bundle is
 * fine; another bundle under an already published version is refused.
 */
export async function publishBundle(input: PublishInput): Promise<Published> {
  const manifestBytes = await readFile(join(input.bundleDir, BUNDLE_FILES.manifest));
  const signatureBytes = await readFile(join(input.bundleDir, BUNDLE_FILES.signature));
  const manifest = input.trustedKeys ? verifyManifest(manifestBytes, signatureBytes, input.trustedKeys) : parseManifest(manifestBytes);
  const target = join(input.toDir, 'bundles', manifest.version);

  try {
    const existing = await readFile(join(target, BUNDLE_FILES.manifest));
    if (!existing.equals(manifestBytes)) {
      throw new BerthError('UPDATER_PUBLISH_CONFLICT', `Refusing to publish ${manifest.version}: ${target} already holds a different bundle of that version; build a new version`);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }

  for (const name of PAYLOAD_NAMES) {
    const entry = manifest.payload[name];
    const digest = await digestFile(join(input.bundleDir, entry.path));
    if (digest.size !== entry.size || digest.sha256 !== entry.sha256) {
      throw new BerthError('UPDATER_HASH_MISMATCH', `Refusing to publish ${manifest.version}: ${entry.path} does not match its manifest entry`);
    }
  }

  // Copy into a staging directory and rename it into place, so a bundle directory is
  // either complete or absent.
  const staging = `${target}.partial`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  for (const name of PAYLOAD_NAMES) await copyFile(join(input.bundleDir, manifest.payload[name].path), join(staging, manifest.payload[name].path));
  await writeFileAtomically(join(staging, BUNDLE_FILES.signature), signatureBytes, PUBLIC_FILE);
  await writeFileAtomically(join(staging, BUNDLE_FILES.manifest), manifestBytes, PUBLIC_FILE);
  await rm(target, { recursive: true, force: true });
  await rename(staging, target);

  const written = await writeChannel(
    { toDir: input.toDir, channel: input.channel, now: input.now, privateKey: input.privateKey, ...(input.validForMs !== undefined ? { validForMs: input.validForMs } : {}) },
    (previous) => ({
      channel: input.channel,
      version: manifest.version,
      bundle_url: `../bundles/${manifest.version}/${BUNDLE_FILES.manifest}`,
      // Publishing the same version again refreshes the signature, not the release time (the waves count from it).
      released: previous?.version === manifest.version ? previous.released : input.now.toISOString(),
      min_version: manifest.min_version,
      ...(input.waves ? { waves: [...input.waves] } : previous?.version === manifest.version && previous.waves ? { waves: previous.waves } : {}),
      ...(previous?.halted && previous.halted.length > 0 ? { halted: previous.halted } : {}),
    }),
  );
  return { manifest, ...written };
}
