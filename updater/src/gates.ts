/**
 * The two waits of an update, as effect implementations the agent calls: the reboot
 * gates (window, fleetlock, soak, manual, pin: core/reboot-gates.ts) before rebooting into
 * a staged slot, and the health gate (init up, critical containers healthy for the soak period)
 * before blessing it. Time, sleeping and randomness are injected. Effects: FleetLock
 * requests and whatever `sample` does.
 */
import { BerthError, describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import type { Clock as LibClock } from '../../lib/sys/clock.ts';
import { retryDelayMs } from './core/schedule.ts';
import { evaluateHealthGate, type HealthGateState, type HealthSample } from './core/slots.ts';
import { decideReboot, evaluateGates, FLEETLOCK_MAX_RETRY_MS, nextLockRequestInMs, type GateFacts, type GateReport, type RebootPolicy } from './core/reboot-gates.ts';
import type { FleetLockClient, FleetLockResult } from './fleetlock.ts';

/** What the gates need of time (lib/sys/clock.ts; the host passes its systemClock). */
export type Clock = Pick<LibClock, 'now' | 'sleep' | 'random'>;

/** Re-check a window at least this often, so a clock step (NTP) cannot make it missed. */
const WINDOW_RECHECK_MS = 15 * 60_000;

/**
 * Calls `request` until the FleetLock server says yes, backing off between tries;
 * a refusal goes to `onRefused`, an unreachable server is logged as a warning.
 */
async function retryUntilFleetLockAgrees(
  request: () => Promise<FleetLockResult>,
  onRefused: (fields: { kind: string; reason: string; status: number }) => void,
  clock: Clock,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await request();
      if (result.ok) return;
      onRefused({ kind: result.kind, reason: result.value, status: result.status });
    } catch (error) {
      logger.warn('FleetLock server unreachable', { error: describeError(error) });
    }
    await clock.sleep(retryDelayMs(attempt, clock.random(), FLEETLOCK_MAX_RETRY_MS), signal);
  }
}

/**
 * What the gate loop knows beyond the clock, shared with status: an operator's approval (the
 * manual gate) and the FleetLock lock as last seen. `approve()` wakes a waiting loop.
 */
export interface GateTracker {
  approved: boolean;
  lock: GateFacts['lock'];
  approve(): void;
  /** Aborts when approve() is called (a fresh signal after each approval). */
  wakeSignal(): AbortSignal;
  /** Forgets the approval and the lock state (a new update starts from closed gates). */
  reset(): void;
}

export function createGateTracker(): GateTracker {
  let wake = new AbortController();
  const tracker: GateTracker = {
    approved: false,
    lock: { state: 'not-requested' },
    approve() {
      tracker.approved = true;
      wake.abort(new Error('approved'));
      wake = new AbortController();
    },
    wakeSignal: () => wake.signal,
    reset() {
      tracker.approved = false;
      tracker.lock = { state: 'not-requested' };
    },
  };
  return tracker;
}

export interface RebootGateOptions {
  policy: RebootPolicy;
  fleetlock?: FleetLockClient;
  /** The booted release's soak (the boot gate); default: passed. */
  soak?: () => GateFacts['soak'];
  /** The staged version, for the pin. */
  targetVersion?: string;
  /**
   * Runs before each lock request: sends the host report if it changed, since a berth
   * coordinator takes the version a host moves to (and so a halt) from its last report.
   */
  beforeLock?: () => Promise<void>;
  tracker?: GateTracker;
  clock: Clock;
  logger: Logger;
}

/** The facts of `options` at the clock's now. */
export function observeGates(options: Omit<RebootGateOptions, 'logger' | 'fleetlock'>, tracker: GateTracker): GateReport[] {
  return evaluateGates(options.policy, {
    now: options.clock.now(),
    soak: options.soak?.() ?? { state: 'passed' },
    approved: tracker.approved,
    lock: tracker.lock,
    ...(options.targetVersion !== undefined ? { targetVersion: options.targetVersion } : {}),
  });
}

/** Sleeps `ms` unless `signal` aborts (rejects) or the tracker is woken (resolves early). */
async function sleepOrWake(clock: Clock, ms: number, signal: AbortSignal, tracker: GateTracker): Promise<void> {
  const wake = tracker.wakeSignal();
  try {
    await clock.sleep(ms, AbortSignal.any([signal, wake]));
  } catch (error) {
    if (signal.aborted) throw error;
  }
}

/**
 * Resolves when every gate of the policy holds (reboot-gates.ts decides, this loop acts): it
 * waits for the closed gates by the clock (re-checking at least every 15 minutes, so a clock
 * step cannot make a window missed) or for an operator's approval, asks the FleetLock server
 * only once every other gate holds, and gives the lock back if another gate closes (the
 * window ends) before the reboot. `berth ctl update apply` reaches the agent as a
 * reboot-allowed event, which aborts this wait through `signal`.
 */
export async function awaitRebootPermission(options: RebootGateOptions, signal: AbortSignal): Promise<void> {
  const { clock, logger } = options;
  const tracker = options.tracker ?? createGateTracker();
  let lockAttempt = 0;
  let lastWaitLine = '';
  for (;;) {
    const reports = observeGates(options, tracker);
    const decision = decideReboot(reports, tracker.lock);
    switch (decision.kind) {
      case 'reboot':
        if (reports.length > 0) logger.info('Reboot gates hold', { gates: reports.map((r) => r.gate).join(',') });
        return;
      case 'take-lock': {
        const client = options.fleetlock;
        if (!client) throw new BerthError('UPDATER_CONFIG', 'Reboot gate "fleetlock" needs update.fleetlock');
        lockAttempt += 1;
        const before = tracker.lock;
        try {
          if (options.beforeLock) await options.beforeLock();
          const result = await client.preReboot();
          if (result.ok) {
            if (before.state === 'halted') logger.info('Fleet halt lifted: the coordinator grants the reboot lock again', { version: before.halt.version });
            tracker.lock = { state: 'held' };
            logger.info('Reboot lock taken');
            // Loop: the other gates are checked again now that the lock is ours.
            continue;
          }
          if (result.halt) {
            // Not a full semaphore: the fleet stopped this version. It is not marked bad; the
            // lock is asked for again at a slow pace, and a resume lets the host go on.
            const halt = result.halt;
            if (before.state !== 'halted' || before.halt.version !== halt.version || before.halt.since !== halt.since) {
              logger.warn('Version halted by the fleet: not rebooting into it', { version: halt.version, by: halt.by, since: halt.since, reason: halt.reason, target: options.targetVersion });
            }
            tracker.lock = { state: 'halted', halt };
          } else {
            tracker.lock = { state: 'refused', reason: `${result.kind}: ${result.value}` };
            logger.info('Reboot lock not granted', { kind: result.kind, reason: result.value, status: result.status });
          }
        } catch (error) {
          if (signal.aborted) throw error;
          tracker.lock = { state: 'refused', reason: `server unreachable: ${describeError(error)}` };
          logger.warn('FleetLock server unreachable', { error: describeError(error) });
        }
        await sleepOrWake(clock, nextLockRequestInMs(tracker.lock, lockAttempt, clock.random()), signal, tracker);
        continue;
      }
      case 'release-lock':
        logger.info('Reboot lock given back: a gate closed before the reboot', { blocking: decision.blocking.join(',') });
        if (options.fleetlock) await releaseRebootLock(options.fleetlock, clock, logger, signal);
        tracker.lock = { state: 'not-requested' };
        lockAttempt = 0;
        continue;
      case 'wait': {
        const line = decision.blocking.join(',');
        if (line !== lastWaitLine) {
          lastWaitLine = line;
          const window = reports.find((r) => r.gate === 'window' && !r.holds);
          logger.info('Waiting for reboot gates', {
            blocking: line,
            ...(decision.until ? { until: decision.until.toISOString() } : {}),
            ...(window?.opensAt ? { window_opens_at: window.opensAt.toISOString(), time_zone: options.policy.window?.timeZone } : {}),
          });
        }
        const now = clock.now().getTime();
        const ms = decision.until ? Math.max(1000, Math.min(decision.until.getTime() - now, WINDOW_RECHECK_MS)) : WINDOW_RECHECK_MS;
        await sleepOrWake(clock, ms, signal, tracker);
        continue;
      }
    }
  }
}

/** FleetLock steady-state, retried until the server confirms (as Zincati does at start). */
export async function releaseRebootLock(client: FleetLockClient | undefined, clock: Clock, logger: Logger, signal: AbortSignal): Promise<void> {
  if (!client) return;
  await retryUntilFleetLockAgrees(() => client.steadyState(), (fields) => logger.warn('Reboot lock not released', fields), clock, logger, signal);
}

export interface HealthGateOptions {
  soakMs: number;
  /** Give up when the soak has not completed this long after the gate started. */
  timeoutMs: number;
  /** How often to sample (default 5 s). */
  intervalMs?: number;
  /** Whether init is up and which critical containers are not healthy. */
  sample(): Promise<Omit<HealthSample, 'now'>>;
  clock: Clock;
}

export type HealthGateResult = { passed: true } | { passed: false; reason: string };

/** Samples health until the soak completes (pass) or the timeout passes (fail). */
export async function runHealthGate(options: HealthGateOptions, signal: AbortSignal): Promise<HealthGateResult> {
  let state: HealthGateState = { startedAt: options.clock.now().getTime() };
  for (;;) {
    let sample: Omit<HealthSample, 'now'>;
    try {
      sample = await options.sample();
    } catch (error) {
      // A failing probe counts as unhealthy, never as healthy.
      sample = { initUp: false, unhealthyCritical: [`(health probe failed: ${describeError(error)})`] };
    }
    const result = evaluateHealthGate(state, { ...sample, now: options.clock.now().getTime() }, options);
    if (result.decision === 'bless') return { passed: true };
    if (result.decision === 'fail') return { passed: false, reason: result.reason };
    state = result.state;
    await options.clock.sleep(options.intervalMs ?? 5000, signal);
  }
}
