/**
 * The check: fetch `channels/<name>.json` from the update server, refuse it unless signed by
 * a key of the image and fresh, and turn it into the reducer's next event (no update, or the release to install into the inactive slot).
 * Effects: one HTTP GET.
 */
import { otherSlot, type Slot } from '../../lib/layout.ts';
import { createHash } from 'node:crypto';
import { assertChannelFresh, assertChannelNotReplayed, channelMetadataPath, nextChannelSeen, type ChannelSeen, chooseRelease, compareVersions, isSemVer, resolveBundleUrl } from './core/release.ts';
import type { VersionPin } from './core/reboot-gates.ts';
import type { UpdateEvent } from './core/state.ts';
import { fetchDocument } from './download.ts';
import { verifyChannelMetadata, type TrustedKey } from './signing.ts';

/** What the last verified channel metadata said about this host (status). */
export interface ChannelObservation {
  version: string;
  /** `update`, or why not (release.ts ReleaseDecision reasons). */
  decision: string;
  wave?: number;
  waves?: number;
  eligibleAt?: Date;
  halted: readonly string[];
  /** The running version is halted: the host stays on it and says so. */
  isRunningHalted: boolean;
  expires: string;
}

/**
 * A host's place in the fleet for waves, in [0, 1): a hash of its seed (`update.seed` or the
 * machine id), so it is stable across boots and evenly spread over a fleet.
 */
export function rolloutPosition(seed: string): number {
  const digest = createHash('sha256').update(`berth-rollout:${seed}`).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

export interface CheckOptions {
  /** Server base URL (update.server). */
  server: string;
  channel: string;
  running: { slot: Slot; version: string };
  badVersions: readonly string[];
  allowDowngrade: boolean;
  pin?: VersionPin;
  /** The keys built into the image: the channel metadata must be signed by one. */
  trustedKeys: readonly TrustedKey[];
  now: Date;
  /** update.max_metadata_age. */
  maxMetadataAgeMs: number;
  /** The newest metadata this host accepted before (from /var): older metadata is refused as a replay. */
  seen?: ChannelSeen;
  /** Keeps the newest accepted metadata (on /var), called before the metadata is used. */
  rememberSeen?: (seen: ChannelSeen) => Promise<void>;
  /** The host's place in the fleet for waves (rolloutPosition of its seed). */
  position?: number;
  /** Told what the verified metadata says about this host: for status. */
  observe?: (observation: ChannelObservation) => void;
  idleTimeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * Fetches the channel, verifies its signature and freshness, and decides; throws the download
 * module's typed errors, verifyChannelMetadata's, UPDATER_CHANNEL_EXPIRED or
 * UPDATER_CHANNEL_REPLAYED. A refused channel downloads nothing.
 */
export async function checkChannel(options: CheckOptions): Promise<Extract<UpdateEvent, { type: 'check-no-update' | 'check-found-update' }>> {
  const base = options.server.endsWith('/') ? options.server : `${options.server}/`;
  const url = new URL(channelMetadataPath(options.channel), base).href;
  const bytes = await fetchDocument(options.fetch ?? fetch, url, options.idleTimeoutMs ?? 60_000);
  // Signature first, then freshness, then no replay, then the release: nothing of unverified or stale metadata is used.
  const source = `channel metadata ${url}`;
  const metadata = verifyChannelMetadata(bytes, options.trustedKeys, options.channel, source);
  assertChannelFresh(metadata, options.now, options.maxMetadataAgeMs, source);
  assertChannelNotReplayed(metadata, options.seen, source);
  const newer = nextChannelSeen(metadata, options.seen);
  // Remembered before anything acts on it: after a crash the host still refuses the older file.
  if (newer !== undefined) await options.rememberSeen?.(newer);
  const decision = chooseRelease({
    channel: metadata,
    runningVersion: options.running.version,
    badVersions: options.badVersions,
    allowDowngrade: options.allowDowngrade,
    ...(options.pin ? { pin: options.pin } : {}),
    ...(options.position !== undefined ? { rollout: { now: options.now, position: options.position } } : {}),
  });
  const halted = metadata.halted ?? [];
  options.observe?.({
    version: metadata.version,
    decision: decision.kind === 'none' ? decision.reason : 'update',
    ...(decision.placement ? { wave: decision.placement.wave, waves: decision.placement.waves, eligibleAt: decision.placement.eligibleAt } : {}),
    halted,
    isRunningHalted: halted.some((h) => isSemVer(h) && compareVersions(h, options.running.version) === 0),
    expires: metadata.expires,
  });
  if (decision.kind === 'none') {
    const wave = decision.placement ? `; wave ${decision.placement.wave} of ${decision.placement.waves}, eligible at ${decision.placement.eligibleAt.toISOString()}` : '';
    return { type: 'check-no-update', reason: `${decision.reason} (${decision.version}${wave})` };
  }
  return {
    type: 'check-found-update',
    version: decision.version,
    bundleUrl: resolveBundleUrl(base, metadata),
    slot: otherSlot(options.running.slot),
    from: options.running,
  };
}
