/**
 * The check: fetch `channels/<name>.json` from the update server and turn it into the
 * reducer's next event (no update, or the release to install into the inactive slot).
 * Effects: one HTTP GET.
 */
import { otherSlot, type Slot } from '../../lib/layout.ts';
import { channelMetadataPath, chooseRelease, parseChannelMetadata, resolveBundleUrl } from './core/release.ts';
import type { VersionPin } from './core/reboot-gates.ts';
import type { UpdateEvent } from './core/state.ts';
import { fetchDocument } from './download.ts';

export interface CheckOptions {
  /** Server base URL (update.server). */
  server: string;
  channel: string;
  running: { slot: Slot; version: string };
  badVersions: readonly string[];
  allowDowngrade: boolean;
  pin?: VersionPin;
  idleTimeoutMs?: number;
  fetch?: typeof fetch;
}

/** Fetches the channel and decides; throws the download module's typed errors or UPDATER_CHANNEL_INVALID. */
export async function checkChannel(options: CheckOptions): Promise<Extract<UpdateEvent, { type: 'check-no-update' | 'check-found-update' }>> {
  const base = options.server.endsWith('/') ? options.server : `${options.server}/`;
  const url = new URL(channelMetadataPath(options.channel), base).href;
  const text = new TextDecoder().decode(await fetchDocument(options.fetch ?? fetch, url, options.idleTimeoutMs ?? 60_000));
  const metadata = parseChannelMetadata(text, options.channel, url);
  const decision = chooseRelease({ channel: metadata, runningVersion: options.running.version, badVersions: options.badVersions, allowDowngrade: options.allowDowngrade, ...(options.pin ? { pin: options.pin } : {}) });
  if (decision.kind === 'none') return { type: 'check-no-update', reason: `${decision.reason} (${decision.version})` };
  return {
    type: 'check-found-update',
    version: decision.version,
    bundleUrl: resolveBundleUrl(base, metadata),
    slot: otherSlot(options.running.slot),
    from: options.running,
  };
}
