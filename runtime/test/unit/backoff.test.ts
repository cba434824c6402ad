import t from 'tap';
import { backoffDelayMs, backoffSchedule } from '../../../lib/retry.ts';
import {
  DEFAULT_BACKOFF_POLICY,
  INITIAL_BACKOFF_STATE,
  recordExit,
  recordRunning,
  recordStart,
  type BackoffState,
} from '../../src/core/backoff.ts';

void t.test('100 ms doubling to a one-minute cap', (t) => {
  t.same(backoffSchedule(DEFAULT_BACKOFF_POLICY, 12), [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000]);
  t.equal(backoffDelayMs(DEFAULT_BACKOFF_POLICY, 10_000), 60_000, 'huge attempt counts stay at the cap');
  t.throws(() => backoffDelayMs(DEFAULT_BACKOFF_POLICY, -1), RangeError);
  t.throws(() => backoffDelayMs(DEFAULT_BACKOFF_POLICY, 1.5), RangeError);
  t.same(backoffSchedule({ ...DEFAULT_BACKOFF_POLICY, initialMs: 1000, factor: 3, maxMs: 5000 }, 4), [1000, 3000, 5000, 5000]);
  t.end();
});

/** Runs a crash loop: each run lasts `runMs`, then exits; returns the delays chosen. */
function crashLoop(runs: readonly number[]): { delays: number[]; resets: boolean[]; state: BackoffState } {
  let state: BackoffState = INITIAL_BACKOFF_STATE;
  let now = 1_000;
  const delays: number[] = [];
  const resets: boolean[] = [];
  for (const runMs of runs) {
    state = recordStart(state, now);
    now += runMs;
    const decision = recordExit(state, now);
    delays.push(decision.delayMs);
    resets.push(decision.wasReset);
    state = decision.state;
    now += decision.delayMs;
  }
  return { delays, resets, state };
}

void t.test('a crash-looping container backs off', (t) => {
  const { delays, state } = crashLoop(Array.from({ length: 11 }, () => 50));
  t.same(delays, [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000]);
  t.same(state, { attempt: 11, startedAtMs: undefined });
  t.end();
});

void t.test('10 s of running resets the schedule; 9.999 s does not', (t) => {
  const reset = crashLoop([50, 50, 50, 10_000, 50]);
  t.same(reset.delays, [100, 200, 400, 100, 200]);
  t.same(reset.resets, [false, false, false, true, false]);
  const almost = crashLoop([50, 50, 50, 9_999]);
  t.same(almost.delays, [100, 200, 400, 800]);
  t.end();
});

void t.test('health ticks report the reset early and keep the start time', (t) => {
  let state: BackoffState = { attempt: 5, startedAtMs: undefined };
  state = recordStart(state, 0);
  t.equal(recordRunning(state, 9_999), state, 'unchanged before 10 s');
  const after = recordRunning(state, 10_000);
  t.same(after, { attempt: 0, startedAtMs: 0 });
  t.equal(recordRunning(after, 20_000), after, 'stable once reset');
  t.same(recordExit(after, 30_000), { delayMs: 100, state: { attempt: 1, startedAtMs: undefined }, wasReset: false });
  t.end();
});

void t.test('an exit without a recorded start counts as an immediate crash', (t) => {
  t.same(recordExit(INITIAL_BACKOFF_STATE, 5), { delayMs: 100, state: { attempt: 1, startedAtMs: undefined }, wasReset: false });
  t.equal(recordExit({ attempt: 3, startedAtMs: undefined }, 99_999).delayMs, 800);
  t.end();
});
