/**
 * The real UpdateEffects of the agent, composed from the updater's modules: channel
 * check, download, verification and staging (ESP steps, slot write through the
 * throttled writer, read-back), reboot and health gates, blessing. Machine specifics
 * (mounting the ESP, finding the slot device, running the writer process in its
 * cgroup, rebooting, sampling health) come in as `EffectDeps`. Effects: files under
 * the state directory and the ESP, the slot device, HTTP.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError, describeError, isBerthError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { writeFileAtomically } from '../../lib/sys/atomic-file.ts';
import { otherSlot, parseBootEntryFileName, type Slot } from '../../lib/layout.ts';
import { parseBootEntry } from '../../lib/boot-entry.ts';
import type { UpdateEffects } from './agent.ts';
import { checkChannel, type ChannelObservation } from './channel.ts';
import { assertBundleApplies, BUNDLE_FILES, type Architecture, type BundleManifest } from './core/bundle-manifest.ts';
import { CHANNEL_SEEN_FILE_NAME, parseChannelSeen } from './core/release.ts';
import { checkDelayMs, retryDelayMs } from './core/schedule.ts';
import { entryPath, planBless, planMarkBad, planStage, type BootIdentity, type EspEntryFile, type HealthSample } from './core/slots.ts';
import type { UpdateEvent, UpdateState } from './core/state.ts';
import type { UpdateSettings } from '../../lib/config/sections/update.ts';
import { downloadBundle } from './download.ts';
import { isEspStep, listEntryNames, renameEntries, runEspStep } from './esp.ts';
import type { FleetLockClient } from './fleetlock.ts';
import { awaitRebootPermission, createGateTracker, releaseRebootLock, runHealthGate, type Clock, type GateTracker } from './gates.ts';
import type { GateFacts, RebootPolicy } from './core/reboot-gates.ts';
import { verifyManifest, type TrustedKey } from './signing.ts';
import { verifySlot, type VerifyRootStep, type WriteRootStep } from './slot-io.ts';

export interface EffectDeps {
  settings: UpdateSettings;
  booted: BootIdentity;
  architecture: Architecture;
  trustedKeys: readonly TrustedKey[];
  /** The agent's current state (for the bad versions). */
  state(): UpdateState;
  /** /var/lib/berth: downloads go to <stateDir>/update/<version>/. */
  stateDir: string;
  /** Mounts the ESP for the duration of `use` (init keeps it unmounted otherwise). */
  withEsp<T>(use: (espRoot: string) => Promise<T>): Promise<T>;
  /** The block device of a root slot and its size in bytes. */
  slotDevice(slot: Slot): Promise<{ path: string; size: number }>;
  /** Runs the slot writer (writeSlot) in its own throttled cgroup, e.g. a child process. */
  writeRoot(step: WriteRootStep, bundleDir: string, devicePath: string): Promise<void>;
  /** Reads the written slot back and verifies it, in the writer's cgroup on a host (default: verifySlot in this process). */
  verifyRoot?(step: VerifyRootStep, devicePath: string): Promise<void>;
  reboot(): Promise<void>;
  healthSample(): Promise<Omit<HealthSample, 'now'>>;
  fleetlock?: FleetLockClient;
  /** Sends the host report if it changed; run before each lock request (fleet-reporter.ts flush). */
  beforeLock?: () => Promise<void>;
  /** The booted release's soak, for the soak gate (default: passed). */
  soakState?: () => GateFacts['soak'];
  /** Approval and lock state, shared with status (default: a private one). */
  gateTracker?: GateTracker;
  /** The host's place in the fleet for waves (channel.ts rolloutPosition); without it waves are ignored. */
  rolloutPosition?: number;
  /** Told what each verified channel metadata says about this host (status). */
  observeChannel?: (observation: ChannelObservation) => void;
  clock: Clock;
  logger: Logger;
  fetch?: typeof fetch;
}

/** Errors after which a partial download is worth resuming. */
const TRANSIENT_DOWNLOAD_CODES = new Set(['UPDATER_PAYLOAD_TRUNCATED', 'UPDATER_TIMEOUT', 'UPDATER_SERVER_UNREACHABLE', 'UPDATER_HTTP_ERROR']);

function errorEvent(error: unknown): UpdateEvent {
  const code = isBerthError(error) ? error.code : 'UPDATER_INTERNAL';
  return { type: 'error', code, message: describeError(error), ...(TRANSIENT_DOWNLOAD_CODES.has(code) ? { keepDownload: true } : {}) };
}

async function readEntries(espRoot: string): Promise<EspEntryFile[]> {
  const names = await listEntryNames(espRoot);
  return Promise.all(
    names.map(async (name) => (parseBootEntryFileName(name) ? { name, text: await readFile(join(espRoot, entryPath(name)), 'utf8') } : { name })),
  );
}

/** Keeps only `version`'s directory under the update directory (a partial download of it resumes). */
async function removeOtherBundles(updateDir: string, version: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(updateDir);
  } catch {
    return;
  }
  for (const name of names) if (name !== version) await rm(join(updateDir, name), { recursive: true, force: true });
}

/** The gate policy of the `update:` settings. */
export function rebootPolicyOf(settings: UpdateSettings): RebootPolicy {
  return { gates: settings.gates, ...(settings.window ? { window: settings.window } : {}), pin: settings.pin };
}

export function createUpdateEffects(deps: EffectDeps): UpdateEffects {
  const { settings, booted, logger, clock } = deps;
  const updateDir = join(deps.stateDir, 'update');
  const bundleDir = (version: string): string => join(updateDir, version);
  const tracker = deps.gateTracker ?? createGateTracker();

  /** Every use of the bundle re-verifies its manifest from disk first. */
  const verifiedManifest = async (version: string, slot: Slot): Promise<BundleManifest> => {
    const dir = bundleDir(version);
    const manifest = verifyManifest(await readFile(join(dir, BUNDLE_FILES.manifest)), await readFile(join(dir, BUNDLE_FILES.signature)), deps.trustedKeys);
    const device = await deps.slotDevice(slot);
    assertBundleApplies(manifest, {
      architecture: deps.architecture,
      channel: settings.channel,
      runningVersion: booted.version,
      slotSize: device.size,
      allowDowngrade: settings.allowDowngrade,
      badVersions: deps.state().badVersions,
      expectedVersion: version,
    });
    return manifest;
  };

  return {
    async fetchChannel() {
      try {
        const seenFile = join(deps.stateDir, CHANNEL_SEEN_FILE_NAME);
        const seen = await readFile(seenFile, 'utf8').then(parseChannelSeen, (error: unknown) => {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
          throw error;
        });
        return await checkChannel({
          server: settings.server,
          channel: settings.channel,
          running: { slot: booted.slot, version: booted.version },
          badVersions: deps.state().badVersions,
          allowDowngrade: settings.allowDowngrade,
          pin: settings.pin,
          trustedKeys: deps.trustedKeys,
          now: clock.now(),
          maxMetadataAgeMs: settings.maxMetadataAgeMs,
          ...(seen ? { seen } : {}),
          rememberSeen: (next) => writeFileAtomically(seenFile, `${JSON.stringify(next)}\n`),
          ...(deps.rolloutPosition !== undefined ? { position: deps.rolloutPosition } : {}),
          ...(deps.observeChannel ? { observe: deps.observeChannel } : {}),
          ...(deps.fetch ? { fetch: deps.fetch } : {}),
        });
      } catch (error) {
        return errorEvent(error);
      }
    },

    async downloadBundle(version, bundleUrl) {
      try {
        // Only one bundle is kept on /var: an older partial one goes.
        await removeOtherBundles(updateDir, version);
        const manifest = await downloadBundle({ manifestUrl: bundleUrl, dir: bundleDir(version), trustedKeys: deps.trustedKeys, channel: settings.channel,
          ...(settings.throttle.downloadBps !== undefined ? { downloadBps: settings.throttle.downloadBps } : {}),
          ...(deps.fetch ? { fetch: deps.fetch } : {}),
        });
        if (manifest.version !== version) throw new BerthError('UPDATER_VERSION_MISMATCH', `Refusing bundle ${manifest.version}: the channel announced ${version}`);
        await verifiedManifest(version, otherSlot(booted.slot));
        return { type: 'download-finished' };
      } catch (error) {
        return errorEvent(error);
      }
    },

    async verifyAndStage(version, slot) {
      try {
        if (slot === booted.slot) throw new BerthError('UPDATER_SLOT_ACTIVE', `Refusing to stage slot ${slot}: it is the running slot`);
        const manifest = await verifiedManifest(version, slot);
        const device = await deps.slotDevice(slot);
        await deps.withEsp(async (espRoot) => {
          const entries = await readEntries(espRoot);
          const running = entries.find((e) => parseBootEntryFileName(e.name)?.slot === booted.slot && e.text !== undefined);
          const kernelArgs = running?.text ? parseBootEntry(running.text, entryPath(running.name)).kernelArgs : [];
          const plan = planStage({ bootedSlot: booted.slot, manifest, entries, kernelArgs });
          for (const step of plan.steps) {
            logger.info('Stage step', { step: step.kind, slot, ...('path' in step ? { path: step.path } : {}), ...('target' in step ? { path: step.target } : {}) });
            if (isEspStep(step)) await runEspStep({ espRoot, bundleDir: bundleDir(version) }, step);
            else if (step.kind === 'write-root') await deps.writeRoot(step, bundleDir(version), device.path);
            else if (deps.verifyRoot) await deps.verifyRoot(step, device.path);
            else await verifySlot(device.path, step);
          }
        });
        return { type: 'stage-finished', bootId: booted.bootId };
      } catch (error) {
        return errorEvent(error);
      }
    },

    async clearSlotEntry(slot) {
      if (slot === booted.slot) {
        logger.error('Refusing to clear the running slot entry', { slot });
        return;
      }
      await deps.withEsp(async (espRoot) => {
        for (const name of await listEntryNames(espRoot)) {
          if (parseBootEntryFileName(name)?.slot === slot) await runEspStep({ espRoot, bundleDir: updateDir }, { kind: 'remove-entry', slot, path: entryPath(name) });
        }
        await runEspStep({ espRoot, bundleDir: updateDir }, { kind: 'sync-esp' });
      });
    },

    async discardDownload() {
      await rm(updateDir, { recursive: true, force: true });
    },

    async awaitRebootPermission(signal) {
      const current = deps.state().current;
      await awaitRebootPermission(
        {
          policy: rebootPolicyOf(settings),
          ...(deps.fleetlock ? { fleetlock: deps.fleetlock } : {}),
          ...(deps.soakState ? { soak: deps.soakState } : {}),
          ...('target' in current ? { targetVersion: current.target.version } : {}),
          ...(deps.beforeLock ? { beforeLock: deps.beforeLock } : {}),
          tracker,
          clock,
          logger,
        },
        signal,
      );
      return { type: 'reboot-allowed' };
    },

    reboot: () => deps.reboot(),

    async runHealthGate(_slot, _version, signal) {
      // The soak plus ten minutes for the containers to come up at all.
      const result = await runHealthGate({ soakMs: settings.soakMs, timeoutMs: settings.soakMs + 600_000, sample: () => deps.healthSample(), clock }, signal);
      return result.passed ? { type: 'health-passed' } : { type: 'health-failed', reason: result.reason };
    },

    blessSlot: (slot) => deps.withEsp(async (espRoot) => renameEntries(espRoot, planBless(await listEntryNames(espRoot), slot))),

    markSlotBad: (slot) => deps.withEsp(async (espRoot) => renameEntries(espRoot, planMarkBad(await listEntryNames(espRoot), slot))),

    async releaseRebootLock(signal) {
      await releaseRebootLock(deps.fleetlock, clock, logger, signal);
      tracker.reset();
    },

    async waitForCheck(after, attempt, signal) {
      const delay = after === 'interval' ? checkDelayMs(settings.checkIntervalMs, clock.random()) : retryDelayMs(attempt, clock.random(), settings.checkIntervalMs);
      await clock.sleep(delay, signal);
      return { type: 'check-requested' };
    },
  };
}
