import t from 'tap';
import { steadyWriteRate, type RateSample } from '../../src/core/write-rate.ts';

const MiB = 1024 * 1024;

/** 1 MiB writes at `bps` after a burst of `burst` MiB that completes at once. */
function throttled(bps: number, writes: number, burst = 0, starveEvery = 0, starveMs = 0): RateSample[] {
  const samples: RateSample[] = [];
  let at = 0;
  let starved = 0;
  for (let i = 1; i <= writes; i++) {
    if (starveEvery > 0 && i % starveEvery === 0) {
      at += starveMs;
      starved += starveMs;
    }
    at += i <= burst ? 1 : (MiB / bps) * 1000;
    samples.push({ atMs: at, bytes: i * MiB, starvedMs: starved });
  }
  return samples;
}

void t.test('the burst io.max lets through at the start is outside the window', (t) => {
  const samples = throttled(5 * MiB, 40, 4);
  const whole = (40 * MiB) / ((samples.at(-1)?.atMs ?? 1) / 1000);
  t.ok(whole > 5.4 * MiB, 'bytes over elapsed overstates the limit');
  const rate = steadyWriteRate(samples, 2000);
  t.equal(rate.bytesPerSecond, 5 * MiB);
  t.ok(rate.windowMs > 5000 && rate.windowBytes < 40 * MiB);
  t.end();
});

void t.test('time the writer had nothing to write is not counted', (t) => {
  const rate = steadyWriteRate(throttled(5 * MiB, 60, 0, 5, 300), 2000);
  t.equal(rate.bytesPerSecond, 5 * MiB);
  t.ok(rate.starvedMs >= 300 * 9, `starved ${rate.starvedMs} ms`);
  t.end();
});

void t.test('a write shorter than the skip is measured from its start; none is zero', (t) => {
  t.equal(steadyWriteRate(throttled(5 * MiB, 5), 2000).bytesPerSecond, 5 * MiB);
  t.same(steadyWriteRate([], 2000), { bytesPerSecond: 0, windowBytes: 0, windowMs: 0, starvedMs: 0 });
  t.equal(steadyWriteRate([{ atMs: 0, bytes: 0, starvedMs: 0 }], 0).bytesPerSecond, 0);
  t.end();
});
