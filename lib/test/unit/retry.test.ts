import t from 'tap';
import { attemptAfterRun, backoffDelayMs, backoffSchedule, isRetryableStatus, type BackoffPolicy } from '../../retry.ts';

const policy: BackoffPolicy = { initialMs: 1000, maxMs: 10_000, factor: 2, jitter: 0, resetAfterMs: 5000 };

void t.test('exponential delays up to the cap, huge attempts included', (t) => {
  t.same(backoffSchedule(policy, 6), [1000, 2000, 4000, 8000, 10_000, 10_000]);
  t.equal(backoffDelayMs(policy, 1_000_000), 10_000);
  t.throws(() => backoffDelayMs(policy, -1), RangeError);
  t.throws(() => backoffDelayMs(policy, 0.5), RangeError);
  t.end();
});

void t.test('jitter places the delay within its share of the ceiling', (t) => {
  const equal = { ...policy, jitter: 0.5 };
  t.same([0, 0.5, 1].map((random) => backoffDelayMs(equal, 2, random)), [2000, 3000, 4000]);
  const full = { ...policy, jitter: 1 };
  t.same([0, 0.25, 1].map((random) => backoffDelayMs(full, 3, random)), [0, 2000, 8000]);
  t.equal(backoffDelayMs(policy, 2, 0), 4000, 'no jitter: random is ignored');
  t.end();
});

void t.test('a healthy run starts the schedule over', (t) => {
  t.equal(attemptAfterRun(policy, 4, 4999), 4);
  t.equal(attemptAfterRun(policy, 4, 5000), 0);
  t.equal(attemptAfterRun({ initialMs: 1000, maxMs: 10_000, factor: 2, jitter: 0 }, 4, 1e9), 4, 'no reset without resetAfterMs');
  t.end();
});

void t.test('retryable statuses: 5xx, 408, 425 (RFC 8470), 429; other 4xx are final', (t) => {
  t.same([500, 502, 503, 599, 408, 425, 429].map(isRetryableStatus), [true, true, true, true, true, true, true]);
  t.same([200, 400, 401, 403, 404, 410, 422].map(isRetryableStatus), [false, false, false, false, false, false, false]);
  t.end();
});
