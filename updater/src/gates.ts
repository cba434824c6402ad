/**
 * The two waits of an update, as effect implementations the agent calls: the reboot
 * gate (strategy immediate, window, fleetlock or manual) before rebooting into a staged
 * slot, and the health gate (init up, critical containers healthy for the soak period)
 * before blessing it. Time, sleeping and randomness are injected. Effects: FleetLock
 * requests and whatever `sample` does.
 */
import { BerthError, describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { retryDelayMs } from './core/schedule.ts';
import { evaluateHealthGate, type HealthGateState, type HealthSample } from './core/slots.ts';
import type { RebootStrategy } from './core/update-config.ts';
import { evaluateWindow, type RebootWindow } from './core/window.ts';
import type { FleetLockClient, FleetLockResult } from './fleetlock.ts';

export interface Clock {
  now(): Date;
  /** Resolves after `ms`, rejects when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  random(): number;
}

/** Real time, for main.ts. */
export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason as Error);
      const timer = setTimeout(resolve, ms);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      }, { once: true });
    }),
  random: () => Math.random(),
};

/** Re-check a window at least this often, so a clock step (NTP) cannot make it missed. */
const WINDOW_RECHECK_MS = 15 * 60_000;
/** FleetLock retries back off to at most this. */
const FLEETLOCK_MAX_RETRY_MS = 5 * 60_000;

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

export interface RebootGateOptions {
  strategy: RebootStrategy;
  window?: RebootWindow;
  fleetlock?: FleetLockClient;
  clock: Clock;
  logger: Logger;
}

/**
 * Resolves when the strategy allows a reboot now. `manual` never resolves on its own:
 * the operator's "reboot now" reaches the agent as a reboot-allowed event, which aborts
 * this wait through `signal`.
 */
export async function awaitRebootPermission(options: RebootGateOptions, signal: AbortSignal): Promise<void> {
  const { clock, logger } = options;
  switch (options.strategy) {
    case 'immediate':
      return;
    case 'manual':
      logger.info('Update staged, waiting for an operator to reboot');
      await new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
      return;
    case 'window': {
      const window = options.window;
      if (!window) throw new BerthError('UPDATER_CONFIG', 'Reboot strategy "window" needs update.window');
      for (;;) {
        const now = clock.now();
        const status = evaluateWindow(window, now);
        if (status.inside) return;
        logger.info('Waiting for the reboot window', { opens_at: status.opensAt.toISOString(), time_zone: window.timeZone });
        await clock.sleep(Math.min(status.opensAt.getTime() - now.getTime(), WINDOW_RECHECK_MS), signal);
      }
    }
    case 'fleetlock': {
      const client = options.fleetlock;
      if (!client) throw new BerthError('UPDATER_CONFIG', 'Reboot strategy "fleetlock" needs update.fleetlock');
      return await retryUntilFleetLockAgrees(() => client.preReboot(), (fields) => logger.info('Reboot lock not granted', fields), clock, logger, signal);
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
