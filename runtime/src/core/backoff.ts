/**
 * The restart backoff schedule of supervised containers as a pure state machine: the
 * first restart waits 100 ms, each further one doubles up to a one-minute cap, and a run
 * that stays up for 10 s resets the schedule. The delays are lib/retry.ts's; this module keeps
 * the per-container state. Time comes in as millisecond timestamps.
 */
import { attemptAfterRun, backoffDelayMs, type BackoffPolicy } from '../../../lib/retry.ts';

/** Docker's and berth's schedule: 100 ms doubling to 1 min, reset after 10 s up (no jitter: one host, one container). */
export const DEFAULT_BACKOFF_POLICY = {
  initialMs: 100,
  maxMs: 60_000,
  factor: 2,
  jitter: 0,
  resetAfterMs: 10_000,
} as const satisfies BackoffPolicy;

/** A restart policy always has its reset. */
type RestartBackoff = BackoffPolicy & { readonly resetAfterMs: number };

export interface BackoffState {
  /** Restarts since the last reset (0 = the next failure restarts after the initial delay). */
  attempt: number;
  /** When the current run started, or undefined while not running. */
  startedAtMs: number | undefined;
}

export const INITIAL_BACKOFF_STATE: Readonly<BackoffState> = { attempt: 0, startedAtMs: undefined };

/** The container started running at `nowMs`. */
export function recordStart(state: BackoffState, nowMs: number): BackoffState {
  return { attempt: state.attempt, startedAtMs: nowMs };
}

/**
 * The container is healthy-running at `nowMs`: once it has been up for `resetAfterMs`
 * the schedule starts again from the initial delay. Call on health ticks; `recordExit`
 * applies the same rule, so calling this is only needed to report the reset early.
 */
export function recordRunning(state: BackoffState, nowMs: number, policy: RestartBackoff = DEFAULT_BACKOFF_POLICY): BackoffState {
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
export function recordExit(state: BackoffState, nowMs: number, policy: RestartBackoff = DEFAULT_BACKOFF_POLICY): BackoffDecision {
  const ranMs = state.startedAtMs === undefined ? 0 : nowMs - state.startedAtMs;
  const attempt = attemptAfterRun(policy, state.attempt, ranMs);
  return {
    delayMs: backoffDelayMs(policy, attempt),
    state: { attempt: attempt + 1, startedAtMs: undefined },
    wasReset: attempt !== state.attempt,
  };
}
