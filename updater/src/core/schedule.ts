/**
 * When the agent next checks the channel: the configured interval with jitter (so a
 * fleet does not hit the server in lockstep), and exponential backoff with jitter
 * after failures (lib/retry.ts's backoff, equal jitter). Pure: randomness comes in as a number
 * in [0, 1).
 */
import { backoffDelayMs, type BackoffPolicy } from '../../../lib/retry.ts';

/** Jitter of the check interval: ±10 %. */
export const CHECK_JITTER = 0.1;
/** Retries after a failed check or FleetLock call: 30 s doubling up to 1 h, equal jitter. */
export const UPDATE_RETRY = { initialMs: 30_000, maxMs: 3_600_000, factor: 2, jitter: 0.5 } as const satisfies BackoffPolicy;

/** Delay until the next regular check: `intervalMs` ± 10 %. */
export function checkDelayMs(intervalMs: number, random: number): number {
  return Math.round(intervalMs * (1 + CHECK_JITTER * (2 * random - 1)));
}

/**
 * Delay before retry number `attempt` (1 = first retry): 30 s doubling up to 1 h,
 * then between half and all of that ("equal jitter"), never longer than `capMs`.
 */
export function retryDelayMs(attempt: number, random: number, capMs: number = UPDATE_RETRY.maxMs): number {
  return backoffDelayMs({ ...UPDATE_RETRY, maxMs: Math.min(UPDATE_RETRY.maxMs, capMs) }, Math.max(attempt, 1) - 1, random);
}
