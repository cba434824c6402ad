/**
 * When to restart a supervised daemon (dhcpcd, chronyd, ip monitor) that exited: 1 s,
 * doubling to 60 s while it keeps dying young; a run of 30 s or more starts over. Pure.
 */

export const RESTART_MIN_MS = 1000;
export const RESTART_MAX_MS = 60_000;
/** A daemon that ran this long counts as healthy: the next restart is quick again. */
export const RESTART_STABLE_MS = 30_000;

/** Delay before restarting a daemon that exited after `ranForMs`, given the previous delay. */
export function nextRestartDelayMs(previousDelayMs: number | undefined, ranForMs: number): number {
  if (previousDelayMs === undefined || ranForMs >= RESTART_STABLE_MS) return RESTART_MIN_MS;
  return Math.min(previousDelayMs * 2, RESTART_MAX_MS);
}
