/**
 * When the agent next checks the channel: the configured interval with jitter (so a
 * fleet does not hit the server in lockstep), and exponential backoff with jitter
 * after failures. Pure: randomness comes in as a number in [0, 1).
 */

/** Jitter of the check interval: ±10 %. */
export const CHECK_JITTER = 0.1;
export const RETRY_BASE_MS = 30_000;
export const RETRY_MAX_MS = 3_600_000;

/** Delay until the next regular check: `intervalMs` ± 10 %. */
export function checkDelayMs(intervalMs: number, random: number): number {
  return Math.round(intervalMs * (1 + CHECK_JITTER * (2 * random - 1)));
}

/**
 * Delay before retry number `attempt` (1 = first retry): 30 s doubling up to 1 h,
 * then between half and all of that ("equal jitter"), never longer than `capMs`.
 */
export function retryDelayMs(attempt: number, random: number, capMs = RETRY_MAX_MS): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  const ceiling = Math.min(RETRY_BASE_MS * 2 ** exponent, RETRY_MAX_MS, capMs);
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}
