/**
 * The update state machine as a pure reducer: (state, event) → next state and the
 * effects to run, as data. Phases: idle → checking → downloading → verifying → staged
 * → rebooting → confirming → succeeded | rolled-back | failed. The shell journals the
 * next state (fsync + rename) before it runs any effect, and replays a state's effects
 * after a restart (`agent-started`), so every effect must be idempotent. Illegal
 * transitions throw UPDATER_ILLEGAL_TRANSITION. Pure.
 */
import { BerthError } from '../../../lib/errors.ts';
import type { Slot } from '../../../lib/layout.ts';
import { detectBootOutcome, type BootIdentity } from './slots.ts';

export type UpdatePhase = UpdatePhaseState['phase'];

export const UPDATE_PHASES: readonly UpdatePhase[] = [
  'idle',
  'checking',
  'downloading',
  'verifying',
  'staged',
  'rebooting',
  'confirming',
  'succeeded',
  'rolled-back',
  'failed',
];

/** Phases an update ends in; from each, the next check starts a new one. */
export const FINAL_PHASES: readonly UpdatePhase[] = ['succeeded', 'rolled-back', 'failed'];

/** The release being installed and what it replaces. */
export interface UpdateTarget {
  version: string;
  /** URL of the bundle's manifest.json. */
  bundleUrl: string;
  /** The inactive slot being written. */
  slot: Slot;
  /** The slot and version that ran when the update began: the fallback. */
  from: { slot: Slot; version: string };
}

export interface ErrorSummary {
  code: string;
  message: string;
}

export type UpdatePhaseState =
  | { phase: 'idle' }
  | { phase: 'checking' }
  | { phase: 'downloading'; target: UpdateTarget }
  /** Verifies the downloaded bundle, then runs the stage plan (write, read back, ESP, entry). */
  | { phase: 'verifying'; target: UpdateTarget }
  /** The new entry is on the ESP; `bootId` is the boot in which it was written. */
  | { phase: 'staged'; target: UpdateTarget; bootId: string }
  /** A reboot was decided in boot `bootId`: to try the new slot, or away from it after a failed health gate. */
  | { phase: 'rebooting'; target: UpdateTarget; bootId: string; reason: 'update' | 'health-failed'; healthReason?: string }
  /** The new slot runs (boot `bootId`) and goes through the health gate. */
  | { phase: 'confirming'; target: UpdateTarget; bootId: string }
  | { phase: 'succeeded'; slot: Slot; version: string }
  | { phase: 'rolled-back'; slot: Slot; version: string; bootedSlot: Slot; bootedVersion: string; reason: 'boot-failed' | 'health-failed'; detail?: string }
  | { phase: 'failed'; error: ErrorSummary; during: 'checking' | 'downloading' | 'verifying'; version?: string };

export interface UpdateState {
  current: UpdatePhaseState;
  /** Versions that rolled back here: never installed again automatically. */
  badVersions: readonly string[];
  /** Consecutive failures, for retry backoff; reset by a successful check. */
  failures: number;
}

export type UpdateEvent =
  /** The check interval elapsed, or an operator asked for a check. */
  | { type: 'check-requested' }
  | { type: 'check-no-update'; reason: string }
  | { type: 'check-found-update'; version: string; bundleUrl: string; slot: Slot; from: { slot: Slot; version: string } }
  /** Manifest verified, payloads downloaded in full. */
  | { type: 'download-finished' }
  /** The stage plan completed; the new entry is written. */
  | { type: 'stage-finished'; bootId: string }
  /** The reboot strategy allows rebooting now (window open, lock held, operator said so). */
  | { type: 'reboot-allowed' }
  | { type: 'health-passed' }
  | { type: 'health-failed'; reason: string }
  /** A step failed. `keepDownload` keeps partial downloads for resuming (transport errors). */
  | { type: 'error'; code: string; message: string; keepDownload?: boolean }
  /** The agent (re)started: after boot, after a crash, after a power cut. */
  | { type: 'agent-started'; booted: BootIdentity };

export type UpdateEffect =
  | { type: 'fetch-channel' }
  | { type: 'download-bundle'; version: string; bundleUrl: string }
  | { type: 'discard-download' }
  /** Verify the bundle, then run planStage() for `slot` (which clears its entry first). */
  | { type: 'verify-and-stage'; version: string; slot: Slot }
  /** Make sure `slot` has no boot entry: an unverified slot must never be bootable. */
  | { type: 'clear-slot-entry'; slot: Slot }
  /** Wait for the reboot strategy (window, FleetLock pre-reboot, operator); then send reboot-allowed. */
  | { type: 'await-reboot-permission' }
  | { type: 'reboot' }
  | { type: 'start-health-gate'; slot: Slot; version: string }
  | { type: 'bless-slot'; slot: Slot }
  | { type: 'mark-slot-bad'; slot: Slot }
  /** FleetLock steady-state (no-op for other strategies). */
  | { type: 'release-reboot-lock' }
  /** Arm the next check: after the (jittered) interval, or after a backoff of `attempt` failures. */
  | { type: 'schedule-check'; after: 'interval' | 'retry'; attempt: number };

export interface Transition {
  state: UpdateState;
  effects: UpdateEffect[];
}

/** The state of a host that has never updated. */
export function initialUpdateState(): UpdateState {
  return { current: { phase: 'idle' }, badVersions: [], failures: 0 };
}

function illegal(state: UpdateState, event: UpdateEvent): never {
  throw new BerthError('UPDATER_ILLEGAL_TRANSITION', `Update event '${event.type}' is not valid in phase '${state.current.phase}'`);
}

function withPhase(state: UpdateState, current: UpdatePhaseState, changes: Partial<Omit<UpdateState, 'current'>> = {}): UpdateState {
  return { ...state, ...changes, current };
}

function rolledBack(
  state: UpdateState,
  target: UpdateTarget,
  booted: BootIdentity,
  reason: 'boot-failed' | 'health-failed',
  detail: string | undefined,
): Transition {
  const badVersions = state.badVersions.includes(target.version) ? state.badVersions : [...state.badVersions, target.version];
  return enter(
    state,
    { phase: 'rolled-back', slot: target.slot, version: target.version, bootedSlot: booted.slot, bootedVersion: booted.version, reason, ...(detail !== undefined ? { detail } : {}) },
    { badVersions, failures: 0 },
  );
}

/** The effects that belong to being in a phase: run on entry, and again after a restart. */
function entryEffects(current: UpdatePhaseState, failures: number): UpdateEffect[] {
  switch (current.phase) {
    case 'idle':
      return [{ type: 'schedule-check', after: 'interval', attempt: 0 }];
    case 'checking':
      return [{ type: 'fetch-channel' }];
    case 'downloading':
      return [{ type: 'download-bundle', version: current.target.version, bundleUrl: current.target.bundleUrl }];
    case 'verifying':
      return [{ type: 'verify-and-stage', version: current.target.version, slot: current.target.slot }];
    case 'staged':
      return [{ type: 'await-reboot-permission' }];
    case 'rebooting':
      return current.reason === 'health-failed' ? [{ type: 'mark-slot-bad', slot: current.target.slot }, { type: 'reboot' }] : [{ type: 'reboot' }];
    case 'confirming':
      return [{ type: 'start-health-gate', slot: current.target.slot, version: current.target.version }];
    case 'succeeded':
      return [{ type: 'bless-slot', slot: current.slot }, { type: 'release-reboot-lock' }, { type: 'discard-download' }, { type: 'schedule-check', after: 'interval', attempt: 0 }];
    case 'rolled-back':
      // The bad slot's entry goes, so no later reboot (or manual pick) can start it again.
      return [{ type: 'clear-slot-entry', slot: current.slot }, { type: 'release-reboot-lock' }, { type: 'discard-download' }, { type: 'schedule-check', after: 'interval', attempt: 0 }];
    case 'failed':
      return [{ type: 'schedule-check', after: 'retry', attempt: failures }];
  }
}

function enter(state: UpdateState, current: UpdatePhaseState, changes: Partial<Omit<UpdateState, 'current'>> = {}, before: UpdateEffect[] = []): Transition {
  const next = withPhase(state, current, changes);
  return { state: next, effects: [...before, ...entryEffects(current, next.failures)] };
}

/** After a restart in a phase past staging: what did the machine boot? */
function resumeAfterBoot(state: UpdateState, booted: BootIdentity): Transition {
  const c = state.current;
  if (c.phase !== 'staged' && c.phase !== 'rebooting' && c.phase !== 'confirming') return illegal(state, { type: 'agent-started', booted });
  const outcome = detectBootOutcome(c.target, c.bootId, booted);
  if (outcome === 'same-boot') return { state, effects: entryEffects(c, state.failures) };
  if (outcome === 'booted-fallback') {
    const healthFailed = c.phase === 'rebooting' && c.reason === 'health-failed';
    return rolledBack(state, c.target, booted, healthFailed ? 'health-failed' : 'boot-failed', healthFailed ? c.healthReason : undefined);
  }
  if (c.phase === 'rebooting' && c.reason === 'health-failed') {
    // The condemned slot came up again (the rename did not reach the disk): condemn it
    // again; the boot counter bounds this to BOOT_TRIES boots.
    return enter(state, { ...c, bootId: booted.bootId });
  }
  return enter(state, { phase: 'confirming', target: c.target, bootId: booted.bootId });
}

/**
 * After a restart while downloading or verifying. Normally the work restarts (downloads
 * resume, the stage plan clears the entry first). But if the machine now runs the
 * target slot, either the power went out after the new entry was written and before
 * the journal said so (the new version booted: confirm it), or the running slot
 * changed under the agent: the target is now active and must never be written.
 */
function resumeBeforeStaged(
  state: UpdateState,
  c: Extract<UpdatePhaseState, { phase: 'downloading' | 'verifying' }>,
  booted: BootIdentity,
): Transition {
  if (booted.slot !== c.target.slot) return { state, effects: entryEffects(c, state.failures) };
  if (c.phase === 'verifying' && booted.version === c.target.version) {
    return enter(state, { phase: 'confirming', target: c.target, bootId: booted.bootId });
  }
  const error = { code: 'UPDATER_SLOT_ACTIVE', message: `Slot ${c.target.slot} became the running slot while ${c.target.version} was being installed into it; starting over` };
  return enter(state, { phase: 'failed', error, during: c.phase, version: c.target.version }, { failures: state.failures + 1 }, [{ type: 'discard-download' }]);
}

/** The reducer. Throws UPDATER_ILLEGAL_TRANSITION for an event the phase does not accept. */
export function reduceUpdate(state: UpdateState, event: UpdateEvent): Transition {
  const c = state.current;
  if (event.type === 'agent-started') {
    switch (c.phase) {
      case 'staged':
      case 'rebooting':
      case 'confirming':
        return resumeAfterBoot(state, event.booted);
      case 'downloading':
      case 'verifying':
        return resumeBeforeStaged(state, c, event.booted);
      default:
        return { state, effects: entryEffects(c, state.failures) };
    }
  }
  if (event.type === 'error') {
    if (c.phase !== 'checking' && c.phase !== 'downloading' && c.phase !== 'verifying') return illegal(state, event);
    const failed: UpdatePhaseState = {
      phase: 'failed',
      error: { code: event.code, message: event.message },
      during: c.phase,
      ...(c.phase === 'checking' ? {} : { version: c.target.version }),
    };
    const cleanup: UpdateEffect[] = [];
    if (c.phase === 'verifying') cleanup.push({ type: 'clear-slot-entry', slot: c.target.slot });
    if (c.phase !== 'checking' && event.keepDownload !== true) cleanup.push({ type: 'discard-download' });
    return enter(state, failed, { failures: state.failures + 1 }, cleanup);
  }
  switch (c.phase) {
    case 'idle':
    case 'succeeded':
    case 'rolled-back':
    case 'failed':
      if (event.type === 'check-requested') return enter(state, { phase: 'checking' });
      break;
    case 'checking':
      if (event.type === 'check-no-update') return enter(state, { phase: 'idle' }, { failures: 0 });
      if (event.type === 'check-found-update') {
        if (event.slot === event.from.slot) {
          throw new BerthError('UPDATER_SLOT_ACTIVE', `Refusing to install ${event.version} into slot ${event.slot}: it is the running slot`);
        }
        const target: UpdateTarget = { version: event.version, bundleUrl: event.bundleUrl, slot: event.slot, from: event.from };
        return enter(state, { phase: 'downloading', target });
      }
      break;
    case 'downloading':
      if (event.type === 'download-finished') return enter(state, { phase: 'verifying', target: c.target });
      break;
    case 'verifying':
      if (event.type === 'stage-finished') {
        return enter(state, { phase: 'staged', target: c.target, bootId: event.bootId }, { failures: 0 });
      }
      break;
    case 'staged':
      if (event.type === 'reboot-allowed') return enter(state, { phase: 'rebooting', target: c.target, bootId: c.bootId, reason: 'update' });
      break;
    case 'rebooting':
      break;
    case 'confirming':
      if (event.type === 'health-passed') return enter(state, { phase: 'succeeded', slot: c.target.slot, version: c.target.version }, { failures: 0 });
      if (event.type === 'health-failed') {
        return enter(state, { phase: 'rebooting', target: c.target, bootId: c.bootId, reason: 'health-failed', healthReason: event.reason });
      }
      break;
  }
  return illegal(state, event);
}

/** The agent's status for `berth status` and the management API. */
export interface UpdateStatus {
  phase: UpdatePhase;
  version?: string;
  slot?: Slot;
  error?: ErrorSummary;
  badVersions: readonly string[];
  failures: number;
}

export function describeUpdateState(state: UpdateState): UpdateStatus {
  const c = state.current;
  const base = { phase: c.phase, badVersions: state.badVersions, failures: state.failures };
  switch (c.phase) {
    case 'idle':
    case 'checking':
      return base;
    case 'succeeded':
    case 'rolled-back':
      return { ...base, version: c.version, slot: c.slot };
    case 'failed':
      return { ...base, error: c.error, ...(c.version !== undefined ? { version: c.version } : {}) };
    default:
      return { ...base, version: c.target.version, slot: c.target.slot };
  }
}
