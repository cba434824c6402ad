/**
 * Release choice: reads a channel's metadata (`channels/<name>.json`, written by
 * `berth publish`) and decides whether the host should install its release, refusing
 * downgrades unless allowed, versions recorded as bad after a rollback, and releases
 * that cannot replace the running version. Semver parsing and precedence live in
 * lib/semver.ts (re-exported here for the updater's modules). Pure.
 */
import { BerthError } from '../../../lib/errors.ts';
import { isRecord } from '../../../lib/record.ts';
import { compareVersions, isSemVer } from '../../../lib/semver.ts';
import { pinAllows, type VersionPin } from './reboot-gates.ts';
import { isHalted, placeInRollout, validateWaves, type Wave, type WavePlacement } from './rollout.ts';
import { unknownKeyProblems } from './units.ts';

export { compareVersions, isSemVer, parseSemVer, type SemVer } from '../../../lib/semver.ts';

/**
 * The metadata of one channel, as signed: the `signed` text inside `channels/<name>.json`
 * (format 2, an envelope with the signature; signing.ts). Format 1 was the same fields
 * without a signature, `published` or `expires`; hosts refuse it.
 */
export interface ChannelMetadata {
  channel: string;
  /** The newest release on the channel. */
  version: string;
  /** Where its bundle's manifest lives: absolute, or relative to the channel file. */
  bundle_url: string;
  /** ISO 8601 release time: when `version` was first published on the channel. */
  released: string;
  /** Copied from the bundle manifest: the oldest running version it may replace. */
  min_version?: string;
  /** ISO 8601: when this metadata was signed. */
  published: string;
  /** ISO 8601: hosts refuse the metadata from then on (a mirror cannot freeze them on it). */
  expires: string;
  /** The rollout plan of `version` (rollout.ts); absent: every host at once. */
  waves?: Wave[];
  /** Versions no host may take any more (`berth publish --halt`). */
  halted?: string[];
}

/** The format of the envelope `channels/<name>.json`; the version hosts accept. */
export const CHANNEL_FORMAT = 2;

const CHANNEL_KEYS = ['channel', 'version', 'bundle_url', 'released', 'min_version', 'published', 'expires', 'waves', 'halted'] as const;

/** Channel names are path segments on a static server: keep them plain. */
export function isChannelName(name: unknown): name is string {
  return typeof name === 'string' && /^[a-z0-9][a-z0-9._-]{0,62}$/.test(name);
}

/** The path of a channel's metadata below the server root. */
export function channelMetadataPath(channel: string): string {
  if (!isChannelName(channel)) throw new BerthError('UPDATER_CHANNEL_INVALID', `Channel name '${String(channel)}' is not valid: use lowercase letters, digits, '.', '_' and '-'`);
  return `channels/${channel}.json`;
}

const isTime = (value: unknown): value is string => typeof value === 'string' && !Number.isNaN(Date.parse(value));

/** Every problem of the signed channel metadata, each with its path. */
export function validateChannelMetadata(value: unknown): string[] {
  if (!isRecord(value)) return ['(root): expected a JSON object'];
  const problems = unknownKeyProblems(value, CHANNEL_KEYS, '');
  if (!isChannelName(value.channel)) problems.push('channel: expected a channel name such as "stable"');
  if (!isSemVer(value.version)) problems.push('version: expected a semantic version such as "2.1.0"');
  if (typeof value.bundle_url !== 'string' || value.bundle_url === '') problems.push('bundle_url: expected a URL or a path relative to the channel file');
  if (!isTime(value.released)) problems.push('released: expected an ISO 8601 time');
  if (value.min_version !== undefined && !isSemVer(value.min_version)) problems.push('min_version: expected a semantic version');
  if (!isTime(value.published)) problems.push('published: expected an ISO 8601 time');
  if (!isTime(value.expires)) problems.push('expires: expected an ISO 8601 time');
  else if (isTime(value.published) && Date.parse(value.expires) <= Date.parse(value.published)) problems.push('expires: must be after published');
  if (value.waves !== undefined) problems.push(...validateWaves(value.waves));
  if (value.halted !== undefined && (!Array.isArray(value.halted) || !value.halted.every(isSemVer))) problems.push('halted: expected a list of semantic versions');
  return problems;
}

/**
 * Parses the signed text of a channel's metadata (call only after its signature verified).
 * Throws UPDATER_CHANNEL_INVALID listing every problem, or when it describes another channel
 * than the one asked for.
 */
export function parseChannelMetadata(text: string, expectedChannel: string, source = 'channel metadata'): ChannelMetadata {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BerthError('UPDATER_CHANNEL_INVALID', `Cannot read ${source}: it is not JSON`, { cause: error });
  }
  const problems = validateChannelMetadata(value);
  if (problems.length > 0) throw new BerthError('UPDATER_CHANNEL_INVALID', `Refusing ${source}: ${problems.join('; ')}`);
  const metadata = value as ChannelMetadata;
  if (metadata.channel !== expectedChannel) {
    throw new BerthError('UPDATER_CHANNEL_INVALID', `Refusing ${source}: it describes channel '${metadata.channel}', not '${expectedChannel}'`);
  }
  return metadata;
}

export { DEFAULT_MAX_METADATA_AGE_MS } from '../../../lib/config/sections/update.ts';

/**
 * Refuses metadata that has expired, or was signed longer than `maxAgeMs` before `now`
 * (UPDATER_CHANNEL_EXPIRED): a mirror or an attacker on the path can hold back new releases
 * only until then.
 */
export function assertChannelFresh(metadata: ChannelMetadata, now: Date, maxAgeMs: number, source = 'channel metadata'): void {
  const expires = Date.parse(metadata.expires);
  const published = Date.parse(metadata.published);
  if (now.getTime() >= expires) {
    throw new BerthError('UPDATER_CHANNEL_EXPIRED', `Refusing ${source}: it expired at ${metadata.expires} (signed ${metadata.published}); the publisher must run berth publish again, or a mirror serves stale metadata`);
  }
  if (now.getTime() - published > maxAgeMs) {
    throw new BerthError('UPDATER_CHANNEL_EXPIRED', `Refusing ${source}: signed ${metadata.published}, longer ago than update.max_metadata_age (${Math.round(maxAgeMs / 3_600_000)} h); the publisher must run berth publish again, or a mirror serves stale metadata`);
  }
}

/**
 * The newest channel metadata a host accepted (its `published` time), kept on /var in
 * `CHANNEL_SEEN_FILE_NAME` beside the journal: metadata signed before it is a replay.
 */
export interface ChannelSeen {
  channel: string;
  published: string;
}

/** The file in the state directory (/var/lib/berth) that holds `ChannelSeen`. */
export const CHANNEL_SEEN_FILE_NAME = 'update-channel-seen.json';

/** Parses the file's text; undefined when it is not a `ChannelSeen` (a damaged file protects nothing). */
export function parseChannelSeen(text: string): ChannelSeen | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(value) || typeof value.channel !== 'string' || !isTime(value.published)) return undefined;
  return { channel: value.channel, published: value.published };
}

/**
 * Refuses metadata signed before the newest this host accepted for the same channel
 * (UPDATER_CHANNEL_REPLAYED): a mirror that kept an older signed file cannot serve it again to
 * hold a host back before it expires. The same file again (equal `published`) is fine; `seen`
 * of another channel (the host switched channels) says nothing about this one.
 */
export function assertChannelNotReplayed(metadata: ChannelMetadata, seen: ChannelSeen | undefined, source = 'channel metadata'): void {
  if (seen === undefined || seen.channel !== metadata.channel) return;
  if (Date.parse(metadata.published) < Date.parse(seen.published)) {
    throw new BerthError(
      'UPDATER_CHANNEL_REPLAYED',
      `Refusing ${source}: signed ${metadata.published}, before the newest metadata this host accepted (signed ${seen.published}); the mirror serves an old copy, point update.server at an up-to-date one`,
    );
  }
}

/** What to remember after accepting `metadata`: undefined when `seen` is as new already. */
export function nextChannelSeen(metadata: ChannelMetadata, seen: ChannelSeen | undefined): ChannelSeen | undefined {
  if (seen !== undefined && seen.channel === metadata.channel && Date.parse(seen.published) >= Date.parse(metadata.published)) return undefined;
  return { channel: metadata.channel, published: metadata.published };
}

/** Renders channel metadata as `berth publish` signs it (stable key order, no whitespace). */
export function renderChannelMetadata(metadata: ChannelMetadata): string {
  const ordered: Record<string, unknown> = {};
  for (const key of CHANNEL_KEYS) if (metadata[key] !== undefined) ordered[key] = metadata[key];
  return JSON.stringify(ordered);
}

/** Resolves a channel's bundle URL against the URL of the channel file itself. */
export function resolveBundleUrl(serverUrl: string, metadata: ChannelMetadata): string {
  const base = serverUrl.endsWith('/') ? serverUrl : `${serverUrl}/`;
  const channelUrl = new URL(channelMetadataPath(metadata.channel), base);
  return new URL(metadata.bundle_url, channelUrl).href;
}

export interface ReleaseChoiceInput {
  channel: ChannelMetadata;
  /** The version of the booted slot. */
  runningVersion: string;
  /** Versions that rolled back on this host: never installed again automatically. */
  badVersions: readonly string[];
  allowDowngrade: boolean;
  /** `pin` / `max_version` of the config (reboot-gates.ts). */
  pin?: VersionPin;
  /** For waves: the time of the check and the host's place in the fleet (its seed's hash, [0, 1)). */
  rollout?: { now: Date; position: number };
}

export type ReleaseDecision =
  | { kind: 'update'; version: string; isDowngrade: boolean; placement?: WavePlacement }
  | { kind: 'none'; reason: 'up-to-date' | 'known-bad' | 'downgrade-refused' | 'below-min-version' | 'pinned' | 'halted' | 'waiting-for-wave'; version: string; placement?: WavePlacement };

/** Decides whether to install the channel's release. */
export function chooseRelease(input: ReleaseChoiceInput): ReleaseDecision {
  const { version } = input.channel;
  const order = compareVersions(version, input.runningVersion);
  if (order === 0) return { kind: 'none', reason: 'up-to-date', version };
  if (input.badVersions.some((bad) => isSemVer(bad) && compareVersions(bad, version) === 0)) {
    return { kind: 'none', reason: 'known-bad', version };
  }
  if (order < 0 && !input.allowDowngrade) return { kind: 'none', reason: 'downgrade-refused', version };
  if (input.pin && !pinAllows(input.pin, version).allowed) return { kind: 'none', reason: 'pinned', version };
  if (isHalted(input.channel.halted, version, (a, b) => isSemVer(a) && compareVersions(a, b) === 0)) return { kind: 'none', reason: 'halted', version };
  const minVersion = input.channel.min_version;
  if (minVersion !== undefined && compareVersions(input.runningVersion, minVersion) < 0) {
    return { kind: 'none', reason: 'below-min-version', version };
  }
  const waves = input.channel.waves;
  if (waves !== undefined && input.rollout !== undefined) {
    const placement = placeInRollout(waves, new Date(input.channel.released), input.rollout.position);
    if (input.rollout.now.getTime() < placement.eligibleAt.getTime()) return { kind: 'none', reason: 'waiting-for-wave', version, placement };
    return { kind: 'update', version, isDowngrade: order < 0, placement };
  }
  return { kind: 'update', version, isDowngrade: order < 0 };
}
