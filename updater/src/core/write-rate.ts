/**
 * The slot writer's rate as io.max sees it, from the writer's own timeline (one sample
 * after each write returned). Two things distort a plain bytes/elapsed figure: io.max lets
 * the first slice through at once (a burst at the start), and a writer whose decompressor
 * falls behind leaves the device idle (the throttle is not what limits it then). So the
 * steady rate counts only writes completed after `skipMs`, and divides by the time a
 * write was in flight. Pure.
 */

/** A point of the timeline: after a write returned. */
export interface RateSample {
  /** Milliseconds since the write started. */
  atMs: number;
  /** Bytes written so far. */
  bytes: number;
  /** Milliseconds so far with no write in flight (the source had nothing ready). */
  starvedMs: number;
}

export interface SteadyRate {
  /** Bytes per second over the window, idle time excluded; 0 when the window is empty. */
  bytesPerSecond: number;
  /** Bytes and milliseconds the window covers (starved time included in windowMs). */
  windowBytes: number;
  windowMs: number;
  starvedMs: number;
}

/**
 * The rate between the first sample at or after `skipMs` and the last sample. A write
 * too short to have a window after `skipMs` is measured from its start instead.
 */
export function steadyWriteRate(samples: readonly RateSample[], skipMs: number): SteadyRate {
  const last = samples[samples.length - 1];
  if (last === undefined) return { bytesPerSecond: 0, windowBytes: 0, windowMs: 0, starvedMs: 0 };
  const first = samples.find((s) => s.atMs >= skipMs && s !== last) ?? { atMs: 0, bytes: 0, starvedMs: 0 };
  const windowBytes = last.bytes - first.bytes;
  const windowMs = last.atMs - first.atMs;
  const starvedMs = last.starvedMs - first.starvedMs;
  const busyMs = windowMs - starvedMs;
  return { bytesPerSecond: busyMs > 0 ? Math.round((windowBytes / busyMs) * 1000) : 0, windowBytes, windowMs: Math.round(windowMs), starvedMs: Math.round(starvedMs) };
}
