/**
 * The house's one retry policy: exponential backoff with optional jitter, the reset after a
 * healthy run, and which HTTP statuses are worth another try. Container restarts and registry
 * requests (runtime), update checks and FleetLock (updater), supervised daemons, the debug shell
 * and the config URL (init) each name a `BackoffPolicy` and ask this module for the delays.
 * Pure: randomness comes in as a number in [0, 1).
 */

/** How a sequence of retries waits. */
export interface BackoffPolicy {
  /** The delay before the first retry (attempt 0). */
  readonly initialMs: number;
  /** No delay is longer. */
  readonly maxMs: number;
  /** Each further attempt multiplies the delay by this. */
  readonly factor: number;
  /**
   * The share of each delay left to chance, so many hosts retrying the same server spread out:
   * 0 = none (exactly the exponential delay), 0.5 = "equal jitter" (between half and all of it),
   * 1 = "full jitter" (anything up to it).
   */
  readonly jitter: number;
  /** A run at least this long counts as healthy and starts the schedule over; absent: never. */
  readonly resetAfterMs?: number;
}

/**
 * The delay before retry `attempt` (0-based) under `policy`; `random` in [0, 1) places it within
 * the jitter (ignored when `jitter` is 0). Throws RangeError for a negative or fractional attempt.
 */
export function backoffDelayMs(policy: BackoffPolicy, attempt: number, random = 1): number {
  if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError(`attempt must be a non-negative integer, got ${attempt}`);
  // Cap the exponent before computing so huge attempt counts never reach Infinity.
  const ceiling = Math.min(policy.initialMs * Math.pow(policy.factor, Math.min(attempt, 64)), policy.maxMs);
  if (policy.jitter === 0) return ceiling;
  return Math.round(ceiling * (1 - policy.jitter) + ceiling * policy.jitter * random);
}

/** The first `count` delays of a jitter-free reading of `policy`, for status output and tests. */
export function backoffSchedule(policy: BackoffPolicy, count: number): number[] {
  return Array.from({ length: count }, (_, attempt) => backoffDelayMs(policy, attempt));
}

/**
 * The attempt number for the next retry after a run of `ranForMs` that ended in failure
 * number `attempt`: 0 again when the run lasted `resetAfterMs` (it was healthy), else `attempt`.
 */
export function attemptAfterRun(policy: BackoffPolicy, attempt: number, ranForMs: number): number {
  return policy.resetAfterMs !== undefined && ranForMs >= policy.resetAfterMs ? 0 : attempt;
}

/**
 * HTTP statuses worth another try: the server is starting, overloaded or asks us to come back
 * (5xx, 408 Request Timeout, 429 Too Many Requests), and 425 Too Early. RFC 8470 §5.2 says a
 * client that gets 425 for a request it sent in TLS early data SHOULD retry it automatically
 * (outside early data); Node's fetch never sends early data, so a 425 can only come from an
 * intermediary that replayed or deferred our request, and the same request later is correct.
 * Any other 4xx is final: the URL is wrong or not allowed, and waiting does not fix it.
 */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 425 || status === 429;
}
