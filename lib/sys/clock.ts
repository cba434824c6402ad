/**
 * The one Clock interface every component takes time through (init's Sys, the updater's gates
 * and pacing), and the real implementation. Components that need less take a `Pick` of it, so a
 * fake written for one fits all. Effects: timers, `performance.now()`, `Math.random()`.
 */

export interface Clock {
  /** Monotonic milliseconds (arbitrary origin): for intervals and deadlines. */
  monotonicMs(): number;
  /** Wall-clock time: for timestamps, windows and signatures' ages. */
  now(): Date;
  /** Resolves after `ms`; with `signal`, rejects with its reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** A number in [0, 1), for jitter. */
  random(): number;
}

/** Real time. */
export const systemClock: Clock = {
  monotonicMs: () => performance.now(),
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal === undefined) {
        setTimeout(resolve, ms);
        return;
      }
      if (signal.aborted) return reject(signal.reason as Error);
      const timer = setTimeout(resolve, ms);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(signal.reason as Error);
        },
        { once: true },
      );
    }),
  random: () => Math.random(),
};
