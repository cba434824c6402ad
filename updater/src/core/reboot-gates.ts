/**
 * The reboot decision as a conjunction of gates (`update.strategy`): a maintenance window, a
 * FleetLock lock, the soak of the booted release and an operator's approval, plus the version
 * pin that decides which releases may be taken at all. Parses the strategy forms, evaluates
 * every gate at an instant, and says what the agent does next (reboot, take the lock, wait
 * until when). Pure: the instant and the facts the shell observed come in as parameters.
 */
import { type GateName, type VersionPin } from '../../../lib/config/sections/update.ts';
import type { HaltInfo } from '../../../lib/fleet/protocol.ts';
import { compareVersions, parseSemVer } from '../../../lib/semver.ts';
import { retryDelayMs } from './schedule.ts';
import { evaluateWindow, type RebootWindow } from './window.ts';

export { describeGates, GATE_NAMES, gatesOf, parsePin, REBOOT_STRATEGIES, type GateName, type RebootStrategy, type VersionPin } from '../../../lib/config/sections/update.ts';


/** Whether the pin lets the host take `version`; the reason when it does not. */
export function pinAllows(pin: VersionPin, version: string): { allowed: true } | { allowed: false; reason: string } {
  const parsed = parseSemVer(version);
  if (!parsed) return { allowed: false, reason: `${version} is not a semantic version` };
  if (pin.prefix) {
    const [major, minor] = pin.prefix;
    if (parsed.major !== major || (minor !== undefined && parsed.minor !== minor)) return { allowed: false, reason: `${version} is outside pin ${pin.pin ?? pin.prefix.join('.')}` };
  }
  if (pin.maxVersion !== undefined && compareVersions(version, pin.maxVersion) > 0) return { allowed: false, reason: `${version} is above max_version ${pin.maxVersion}` };
  return { allowed: true };
}

export function isPinned(pin: VersionPin): boolean {
  return pin.prefix !== undefined || pin.maxVersion !== undefined;
}

/** What the shell observed, at `now`. */
export interface GateFacts {
  now: Date;
  /** The booted release's soak (the boot gate): passed, failed, or still running until about `endsAt`. */
  soak: { state: 'passed' } | { state: 'failed'; reason: string } | { state: 'running'; endsAt?: Date };
  /** An operator approved the reboot (`berth ctl update approve`). */
  approved: boolean;
  /**
   * The FleetLock lock: not asked for yet, held, refused by the server (or unreachable), or
   * refused because a berth coordinator halted the version this host moves to (`version_halted`).
   */
  lock: { state: 'not-requested' } | { state: 'held' } | { state: 'refused'; reason: string } | { state: 'halted'; halt: HaltInfo };
  /** The version staged or about to be, for the pin; undefined when none is known. */
  targetVersion?: string;
}

export interface RebootPolicy {
  gates: readonly GateName[];
  window?: RebootWindow;
  pin: VersionPin;
}

/** One gate at one instant, as status shows it. */
export interface GateReport {
  gate: GateName | 'pin';
  holds: boolean;
  /** Why it holds or not, for people. */
  detail: string;
  /** When it next opens (or closes, while it holds); undefined when that is not a matter of time. */
  opensAt?: Date;
  closesAt?: Date;
}

function windowReport(window: RebootWindow | undefined, now: Date): GateReport {
  if (!window) return { gate: 'window', holds: false, detail: 'no update.window configured' };
  const status = evaluateWindow(window, now);
  if (status.inside) return { gate: 'window', holds: true, detail: `open (${window.timeZone})`, closesAt: status.closesAt };
  return { gate: 'window', holds: false, detail: `closed (${window.timeZone})`, opensAt: status.opensAt, closesAt: status.closesAt };
}

/**
 * Every configured gate at `facts.now`, in check order, then the pin when one is set. The
 * lock's next opening is the window's when both are configured: it is asked for only then.
 */
export function evaluateGates(policy: RebootPolicy, facts: GateFacts): GateReport[] {
  const reports: GateReport[] = [];
  let windowStatus: GateReport | undefined;
  for (const gate of policy.gates) {
    switch (gate) {
      case 'window':
        windowStatus = windowReport(policy.window, facts.now);
        reports.push(windowStatus);
        break;
      case 'soak': {
        const s = facts.soak;
        if (s.state === 'passed') reports.push({ gate, holds: true, detail: 'the booted release passed its soak' });
        else if (s.state === 'failed') reports.push({ gate, holds: false, detail: `the booted release failed its soak: ${s.reason}` });
        else reports.push({ gate, holds: false, detail: 'the booted release is soaking', ...(s.endsAt ? { opensAt: s.endsAt } : {}) });
        break;
      }
      case 'manual':
        reports.push(facts.approved ? { gate, holds: true, detail: 'approved by an operator' } : { gate, holds: false, detail: "waiting for an operator: 'berth ctl update approve' (or 'apply', which overrides every gate)" });
        break;
      case 'fleetlock': {
        const lock = facts.lock;
        const opensAt = windowStatus && !windowStatus.holds ? windowStatus.opensAt : undefined;
        if (lock.state === 'held') reports.push({ gate, holds: true, detail: 'lock held' });
        else if (lock.state === 'refused') reports.push({ gate, holds: false, detail: `lock refused: ${lock.reason}`, ...(opensAt ? { opensAt } : {}) });
        else if (lock.state === 'halted') reports.push({ gate, holds: false, detail: describeHalt(lock.halt) });
        else reports.push({ gate, holds: false, detail: 'lock requested only once every other gate holds', ...(opensAt ? { opensAt } : {}) });
        break;
      }
    }
  }
  if (isPinned(policy.pin)) {
    const text = [policy.pin.pin ? `pin ${policy.pin.pin}` : undefined, policy.pin.maxVersion ? `max_version ${policy.pin.maxVersion}` : undefined].filter(Boolean).join(', ');
    if (facts.targetVersion === undefined) reports.push({ gate: 'pin', holds: true, detail: `${text}; no release to judge yet` });
    else {
      const verdict = pinAllows(policy.pin, facts.targetVersion);
      reports.push(verdict.allowed ? { gate: 'pin', holds: true, detail: `${facts.targetVersion} fits ${text}` } : { gate: 'pin', holds: false, detail: verdict.reason });
    }
  }
  return reports;
}

/** What the agent does next while staged. */
export type RebootDecision =
  | { kind: 'reboot' }
  /** Every other gate holds: ask the FleetLock server now. */
  | { kind: 'take-lock' }
  /** A lock is held but another gate closed (the window ended): give it back, then wait. */
  | { kind: 'release-lock'; blocking: GateName[] }
  /** Wait; `until` is the earliest instant a closed gate opens by the clock (undefined: only events open them). */
  | { kind: 'wait'; blocking: (GateName | 'pin')[]; until?: Date };

/** The next step from the gate reports (evaluateGates). */
export function decideReboot(reports: readonly GateReport[], lock: GateFacts['lock']): RebootDecision {
  const closed = reports.filter((r) => !r.holds && r.gate !== 'fleetlock');
  const hasLockGate = reports.some((r) => r.gate === 'fleetlock');
  if (closed.length > 0) {
    if (lock.state === 'held') return { kind: 'release-lock', blocking: closed.map((r) => r.gate).filter((g): g is GateName => g !== 'pin') };
    // Look again when the first closed gate opens by the clock; the others may have moved by then.
    const times = closed.map((r) => r.opensAt?.getTime()).filter((ms): ms is number => ms !== undefined);
    return { kind: 'wait', blocking: closed.map((r) => r.gate), ...(times.length > 0 ? { until: new Date(Math.min(...times)) } : {}) };
  }
  if (hasLockGate && lock.state !== 'held') return { kind: 'take-lock' };
  return { kind: 'reboot' };
}

/** How long a halted version waits before the lock is asked for again (the halt may have been lifted). */
export const HALT_RECHECK_MS = 5 * 60_000;
/** FleetLock retries back off to at most this. */
export const FLEETLOCK_MAX_RETRY_MS = 5 * 60_000;

/** The gate's words for a halt: which version, who halted it, since when, why, and what lifts it. */
export function describeHalt(halt: HaltInfo): string {
  const by = halt.by === 'policy' ? 'the fleet halt policy' : 'an operator';
  return `${halt.version} halted by ${by} since ${halt.since}: ${halt.reason}; not rebooting into it (it is not marked bad), asking again every ${HALT_RECHECK_MS / 60_000} min until 'berth fleet resume ${halt.version}'`;
}

/**
 * The wait before the next pre-reboot after `attempt` unanswered or refused ones: a halted
 * version is asked about at a slow, fixed pace (only a resume changes the answer); anything else
 * backs off up to 5 minutes. `random` in [0, 1) is the jitter.
 */
export function nextLockRequestInMs(lock: GateFacts['lock'], attempt: number, random: number): number {
  if (lock.state === 'halted') return HALT_RECHECK_MS;
  return retryDelayMs(attempt, random, FLEETLOCK_MAX_RETRY_MS);
}
