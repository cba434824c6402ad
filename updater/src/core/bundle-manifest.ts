/**
 * The update bundle manifest: what a bundle contains (root image, verity hash tree,
 * kernel, initrd, each with size and sha256), for which architecture, channel and
 * version, and which running versions it may replace. Owns validation (every problem
 * with its path), the canonical byte form that is signed, and the checks that decide
 * whether a verified bundle applies to this host. Pure: signing lives in ../signing.ts.
 */
import { BerthError } from '../../../lib/errors.ts';
import { compareVersions, isChannelName, isSemVer } from './release.ts';
import { isRecord } from '../../../lib/record.ts';
import { unknownKeyProblems } from './units.ts';

export const MANIFEST_FORMAT = 1;

/** dm-verity data and hash block size berth images use. */
export const VERITY_BLOCK_SIZE = 4096;

/** File names inside a bundle directory. */
export const BUNDLE_FILES = {
  manifest: 'manifest.json',
  signature: 'manifest.json.sig',
} as const;

export type Architecture = 'x86_64' | 'aarch64';
export const ARCHITECTURES: readonly Architecture[] = ['x86_64', 'aarch64'];

/** One file of the bundle, next to the manifest. */
export interface PayloadFile {
  /** Plain file name inside the bundle directory. */
  path: string;
  size: number;
  /** Lowercase hex sha256 of the file as stored in the bundle. */
  sha256: string;
}

/** The root filesystem (erofs), compressed with zstd. */
export interface RootPayload extends PayloadFile {
  compression: 'zstd';
  /** Size and sha256 of the decompressed image, as written to the slot. */
  image_size: number;
  image_sha256: string;
}

/** The dm-verity hash tree, written into the slot at `hash_start_block`. */
export interface VerityPayload extends PayloadFile {
  root_hash: string;
  salt: string;
  data_blocks: number;
  hash_start_block: number;
  block_size: number;
}

export interface BundlePayload {
  root: RootPayload;
  verity: VerityPayload;
  kernel: PayloadFile;
  initrd: PayloadFile;
}

export type PayloadName = keyof BundlePayload;
export const PAYLOAD_NAMES: readonly PayloadName[] = ['root', 'verity', 'kernel', 'initrd'];

export interface BundleManifest {
  format: typeof MANIFEST_FORMAT;
  version: string;
  architecture: Architecture;
  channel: string;
  /** The oldest running version this bundle may replace. */
  min_version: string;
  /** ISO 8601 build time. */
  created: string;
  payload: BundlePayload;
}

const MANIFEST_KEYS = ['format', 'version', 'architecture', 'channel', 'min_version', 'created', 'payload'];
const FILE_KEYS = ['path', 'size', 'sha256'];
const ROOT_KEYS = [...FILE_KEYS, 'compression', 'image_size', 'image_sha256'];
const VERITY_KEYS = [...FILE_KEYS, 'root_hash', 'salt', 'data_blocks', 'hash_start_block', 'block_size'];

const isSha256 = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
const isSize = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isFileName = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/.test(v);

function checkFile(value: unknown, path: string, keys: readonly string[], problems: string[]): value is Record<string, unknown> {
  if (!isRecord(value)) {
    problems.push(`${path}: expected an object with ${keys.join(', ')}`);
    return false;
  }
  problems.push(...unknownKeyProblems(value, keys, path));
  if (!isFileName(value.path)) problems.push(`${path}.path: expected a plain file name inside the bundle (no '/' or leading '.')`);
  if (!isSize(value.size)) problems.push(`${path}.size: expected a size in bytes (non-negative integer)`);
  if (!isSha256(value.sha256)) problems.push(`${path}.sha256: expected 64 lowercase hex digits`);
  return true;
}

/** Every problem of a manifest document, each with its path; empty when valid. */
export function validateManifest(value: unknown): string[] {
  const problems: string[] = [];
  if (!isRecord(value)) return ['(root): expected a JSON object'];
  problems.push(...unknownKeyProblems(value, MANIFEST_KEYS, ''));
  if (value.format !== MANIFEST_FORMAT) problems.push(`format: expected ${MANIFEST_FORMAT}`);
  if (!isSemVer(value.version)) problems.push('version: expected a semantic version such as "2.1.0"');
  if (!ARCHITECTURES.includes(value.architecture as Architecture)) problems.push(`architecture: expected one of ${ARCHITECTURES.join(', ')}`);
  if (!isChannelName(value.channel)) problems.push('channel: expected a channel name such as "stable"');
  if (!isSemVer(value.min_version)) problems.push('min_version: expected a semantic version');
  else if (isSemVer(value.version) && compareVersions(value.min_version, value.version) > 0) problems.push('min_version: must not be newer than version');
  if (typeof value.created !== 'string' || Number.isNaN(Date.parse(value.created))) problems.push('created: expected an ISO 8601 time');

  const payload = value.payload;
  if (!isRecord(payload)) {
    problems.push(`payload: expected an object with ${PAYLOAD_NAMES.join(', ')}`);
    return problems;
  }
  problems.push(...unknownKeyProblems(payload, PAYLOAD_NAMES, 'payload'));
  for (const name of PAYLOAD_NAMES) if (payload[name] === undefined) problems.push(`payload.${name}: missing`);

  const root = payload.root;
  if (root !== undefined && checkFile(root, 'payload.root', ROOT_KEYS, problems)) {
    if (root.compression !== 'zstd') problems.push('payload.root.compression: expected "zstd"');
    if (!isSize(root.image_size)) problems.push('payload.root.image_size: expected a size in bytes');
    if (!isSha256(root.image_sha256)) problems.push('payload.root.image_sha256: expected 64 lowercase hex digits');
  }
  const verity = payload.verity;
  if (verity !== undefined && checkFile(verity, 'payload.verity', VERITY_KEYS, problems)) {
    if (!isSha256(verity.root_hash)) problems.push('payload.verity.root_hash: expected 64 lowercase hex digits (sha256 verity)');
    if (typeof verity.salt !== 'string' || !/^(?:[0-9a-f]{2}){0,256}$/.test(verity.salt)) problems.push('payload.verity.salt: expected lowercase hex');
    if (verity.block_size !== VERITY_BLOCK_SIZE) problems.push(`payload.verity.block_size: expected ${VERITY_BLOCK_SIZE}`);
    if (!isSize(verity.data_blocks) || verity.data_blocks === 0) problems.push('payload.verity.data_blocks: expected a positive integer');
    if (!isSize(verity.hash_start_block)) problems.push('payload.verity.hash_start_block: expected a non-negative integer');
    else if (isSize(verity.data_blocks) && verity.hash_start_block < verity.data_blocks) {
      problems.push('payload.verity.hash_start_block: must not overlap the data blocks (>= data_blocks)');
    }
    if (isRecord(root) && isSize(root.image_size) && isSize(verity.data_blocks) && root.image_size > verity.data_blocks * VERITY_BLOCK_SIZE) {
      problems.push('payload.root.image_size: larger than payload.verity.data_blocks covers');
    }
  }
  if (payload.kernel !== undefined) checkFile(payload.kernel, 'payload.kernel', FILE_KEYS, problems);
  if (payload.initrd !== undefined) checkFile(payload.initrd, 'payload.initrd', FILE_KEYS, problems);

  const names = PAYLOAD_NAMES.map((n) => payload[n]).filter(isRecord).map((f) => f.path).filter(isFileName);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) problems.push(`payload: file '${duplicate}' is named by two entries`);
  if (names.includes(BUNDLE_FILES.manifest) || names.includes(BUNDLE_FILES.signature)) problems.push('payload: a payload file may not be named like the manifest or its signature');
  return problems;
}

/**
 * Parses manifest bytes that have already been signature-checked. Throws
 * UPDATER_MANIFEST_INVALID naming every bad field.
 */
export function parseManifest(bytes: Uint8Array | string, source = 'bundle manifest'): BundleManifest {
  let value: unknown;
  try {
    value = JSON.parse(typeof bytes === 'string' ? bytes : new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new BerthError('UPDATER_MANIFEST_INVALID', `Refusing ${source}: it is not UTF-8 JSON`, { cause: error });
  }
  const problems = validateManifest(value);
  if (problems.length > 0) throw new BerthError('UPDATER_MANIFEST_INVALID', `Refusing ${source}: ${problems.join('; ')}`);
  return value as BundleManifest;
}

function canonicalValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalValue);
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) if (value[key] !== undefined) out[key] = canonicalValue(value[key]);
    return out;
  }
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new BerthError('UPDATER_MANIFEST_INVALID', `Cannot serialise manifest: number ${value} is not a safe integer`);
  }
  return value;
}

/**
 * The canonical form that is signed: JSON with keys sorted at every level, no
 * whitespace, integers only, UTF-8, no trailing newline. Validates first, so a
 * malformed manifest is never signed.
 */
export function canonicalManifestBytes(manifest: BundleManifest): Uint8Array {
  const problems = validateManifest(manifest);
  if (problems.length > 0) throw new BerthError('UPDATER_MANIFEST_INVALID', `Refusing to serialise manifest: ${problems.join('; ')}`);
  return new TextEncoder().encode(JSON.stringify(canonicalValue(manifest)));
}

/** Bytes a slot must hold: the data blocks plus the hash tree after them. */
export function slotBytesNeeded(manifest: BundleManifest): number {
  const { verity, root } = manifest.payload;
  return Math.max(verity.hash_start_block * verity.block_size + verity.size, root.image_size);
}

export interface HostFacts {
  architecture: Architecture;
  /** The channel this host follows (`update.channel`): a bundle signed for another is refused. */
  channel: string;
  runningVersion: string;
  /** Size of the inactive root partition in bytes. */
  slotSize: number;
  allowDowngrade: boolean;
  badVersions: readonly string[];
  /** The version the channel announced: a verified manifest must match it. */
  expectedVersion?: string;
}

/**
 * Refuses a verified manifest signed for another channel than the one this host follows:
 * the channel is inside the signature, so a bundle published (or mirrored) onto the wrong
 * channel, such as a beta build on stable, never installs. Throws UPDATER_WRONG_CHANNEL.
 */
export function assertBundleChannel(manifest: BundleManifest, channel: string): void {
  if (manifest.channel !== channel) {
    throw new BerthError(
      'UPDATER_WRONG_CHANNEL',
      `Refusing bundle ${manifest.version}: it is signed for channel ${manifest.channel}, this host follows channel ${channel}; publish a bundle built with --channel ${channel}, or change update.channel`,
    );
  }
}

/**
 * Checks a verified manifest against this host. Throws the first failure with its own
 * code: UPDATER_WRONG_CHANNEL, UPDATER_VERSION_MISMATCH, UPDATER_WRONG_ARCHITECTURE, UPDATER_VERSION_BAD,
 * UPDATER_DOWNGRADE_REFUSED, UPDATER_BELOW_MIN_VERSION, UPDATER_PAYLOAD_TOO_LARGE.
 */
export function assertBundleApplies(manifest: BundleManifest, host: HostFacts): void {
  const name = `bundle ${manifest.version}`;
  assertBundleChannel(manifest, host.channel);
  if (host.expectedVersion !== undefined && compareVersions(host.expectedVersion, manifest.version) !== 0) {
    throw new BerthError('UPDATER_VERSION_MISMATCH', `Refusing ${name}: the channel announced version ${host.expectedVersion}; check the server's channel file`);
  }
  if (manifest.architecture !== host.architecture) {
    throw new BerthError('UPDATER_WRONG_ARCHITECTURE', `Refusing ${name}: built for ${manifest.architecture}, this host is ${host.architecture}`);
  }
  if (host.badVersions.some((bad) => isSemVer(bad) && compareVersions(bad, manifest.version) === 0)) {
    throw new BerthError('UPDATER_VERSION_BAD', `Refusing ${name}: it rolled back on this host before`);
  }
  const order = compareVersions(manifest.version, host.runningVersion);
  if (order === 0) {
    throw new BerthError('UPDATER_ALREADY_RUNNING', `Refusing ${name}: this host already runs it`);
  }
  if (order < 0 && !host.allowDowngrade) {
    throw new BerthError('UPDATER_DOWNGRADE_REFUSED', `Refusing ${name}: older than the running ${host.runningVersion}; set update.allow_downgrade to allow it`);
  }
  if (compareVersions(host.runningVersion, manifest.min_version) < 0) {
    throw new BerthError('UPDATER_BELOW_MIN_VERSION', `Refusing ${name}: it replaces ${manifest.min_version} or newer, this host runs ${host.runningVersion}; install an intermediate release first`);
  }
  const needed = slotBytesNeeded(manifest);
  if (needed > host.slotSize) {
    throw new BerthError('UPDATER_PAYLOAD_TOO_LARGE', `Refusing ${name}: the root needs ${needed} bytes, the slot holds ${host.slotSize}`);
  }
}
