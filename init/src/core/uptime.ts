/**
 * Time since kernel start, from /proc/uptime ("12.34 45.67": seconds up, seconds idle).
 * Pure: parses the text.
 */

/** Milliseconds since kernel start, or undefined when the text is not /proc/uptime. */
export function parseUptimeMs(text: string): number | undefined {
  const first = text.trim().split(/\s+/)[0];
  if (first === undefined || !/^\d+(\.\d+)?$/.test(first)) return undefined;
  return Math.round(Number(first) * 1000);
}
