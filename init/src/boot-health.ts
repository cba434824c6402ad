/**
 * Whether this boot is good enough to bless its boot entry. On a host the verdict comes from
 * the updater's boot gate (src/update.ts: critical containers and services healthy for the
 * soak); createReadinessHealth, for tests and images without the wiring, calls a ready boot good.
 */

export type BootStatus = 'good' | 'bad' | 'indeterminate';

export interface BootVerdict {
  status: BootStatus;
  reason?: string;
}

export interface BootHealth {
  /** Resolves once the boot's status is known. */
  verdict(): Promise<BootVerdict>;
}

/** Every boot that reached readiness is good. */
export function createReadinessHealth(): BootHealth {
  return { verdict: () => Promise.resolve({ status: 'good' }) };
}
