/**
 * The guest clock of the runtime's lifecycle log lines: milliseconds since kernel start, the
 * clock of init's `t_ms` fields, so a boot chart places container events beside init's stages.
 * Effects: reads /proc/uptime once; afterwards only the monotonic clock.
 */
import { readFileSync } from 'node:fs';

/**
 * A clock of milliseconds since kernel start: /proc/uptime (10 ms resolution) read once, then
 * advanced by the monotonic clock, so differences between the runtime's own lines are exact.
 * Returns undefined where /proc/uptime cannot be read.
 */
export function createUptimeClock(
  readUptime: () => string = () => readFileSync('/proc/uptime', 'utf8'),
  monotonicMs: () => number = () => performance.now(),
): (() => number) | undefined {
  let text: string;
  try {
    text = readUptime();
  } catch {
    return undefined;
  }
  const seconds = text.trim().split(/\s+/)[0];
  if (seconds === undefined || !/^\d+(\.\d+)?$/.test(seconds)) return undefined;
  const offsetMs = Number(seconds) * 1000 - monotonicMs();
  return () => Math.round(offsetMs + monotonicMs());
}
