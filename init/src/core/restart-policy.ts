/**
 * When to restart a supervised daemon (dhcpcd, chronyd, ip monitor) that exited: 1 s,
 * doubling to 60 s while it keeps dying young; a run of 30 s or more (healthy) starts over.
 * The delays are lib/retry.ts's. Pure.
 */
import type { BackoffPolicy } from '../../../lib/retry.ts';

/** The supervised daemons' restart schedule (no jitter: they restart against no shared server). */
export const RESTART_POLICY = { initialMs: 1000, maxMs: 60_000, factor: 2, jitter: 0, resetAfterMs: 30_000 } as const satisfies BackoffPolicy;
