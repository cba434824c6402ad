/**
 * The restart backoff schedule of supervised containers as a pure state machine: the
 * first restart waits 100 ms, each further one doubles up to a one-minute cap, and a run
 * that stays up for 10 s resets the schedule. Time comes in as millisecond timestamps.
 */

export interface BackoffPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  factor: number;
  /** A run at least this long counts as healthy and resets the schedule. */
  resetAfterMs: number;
}

/** Docker's and berth's schedule: 100 ms doubling to 1 min, reset after 10 s up. */
export const DEFAULT_BACKOFF_POLICY: Readonly<BackoffPolicy> = {
  initialDelayMs: 100,
  maxDelayMs: 60_000,
  factor: 2,
  resetAfterMs: 10_000,
};

export interface BackoffState {
  /** Restarts since the last reset (0 = the next failure restarts after the initial delay). */
  attempt: number;
  /** When the current run started, or undefined while not running. */
  startedAtMs: number | undefined;
}

export const INITIAL_BACKOFF_STATE: Readonly<BackoffState> = { attempt: 0, startedAtMs: undefined };

/** The delay before restart number `attempt` (0-based) under `policy`. */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF_POLICY): number {
  if (!Number.isInteger(attempt) || attempt < 0) throw new RangeError(`attempt must be a non-negative integer, got ${attempt}`);
  // Cap the exponent before computing so huge attempt counts never reach Infinity.
  const delay = policy.initialDelayMs * Math.pow(policy.factor, Math.min(attempt, 64));
  return Math.min(delay, policy.maxDelayMs);
}

/** The container started running at `nowMs`. */
export function recordStart(state: BackoffState, nowMs: number): BackoffState {
  return { attempt: state.attempt, startedAtMs: nowMs };
}

/**
 * The container is healthy-running at `nowMs`: once it has been up for `resetAfterMs`
 * the schedule starts again from the initial delay. Call on health ticks; `recordExit`
 * applies the same rule, so calling this is only needed to report the reset early.
 */
export function recordRunning(state: BackoffState, nowMs: number, policy: BackoffPolicy = DEFAULT_BACKOFF_POLICY): BackoffState {
  if (state.startedAtMs !== undefined && nowMs - state.startedAtMs >= policy.resetAfterMs && state.attempt !== 0) {
    return { attempt: 0, startedAtMs: state.startedAtMs };
  }
  return state;
}

export interface BackoffDecision {
  /** How long to wait before starting the container again. */
  delayMs: number;
  /** The state to keep until the next start. */
  state: BackoffState;
  /** True when this exit came after a healthy run and the schedule was reset. */
  wasReset: boolean;
}

/**
 * The container exited at `nowMs` and its restart policy wants it back: returns how long
 * to wait and the next state. A run of at least `resetAfterMs` resets the schedule first.
 */
export function recordExit(state: BackoffState, nowMs: number, policy: BackoffPolicy = DEFAULT_BACKOFF_POLICY): BackoffDecision {
  const ranMs = state.startedAtMs === undefined ? 0 : nowMs - state.startedAtMs;
  const wasReset = ranMs >= policy.resetAfterMs && state.attempt !== 0;
  const attempt = ranMs >= policy.resetAfterMs ? 0 : state.attempt;
  return {
    delayMs: backoffDelayMs(attempt, policy),
    state: { attempt: attempt + 1, startedAtMs: undefined },
    wasReset,
  };
}

/** The first `count` delays of the schedule, for status output and tests. */
export function backoffSchedule(count: number, policy: BackoffPolicy = DEFAULT_BACKOFF_POLICY): number[] {
  return Array.from({ length: count }, (_, attempt) => backoffDelayMs(attempt, policy));
}
