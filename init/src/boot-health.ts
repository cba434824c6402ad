/**
 * Whether this boot is good enough to bless its boot entry. One interface so the
 * runtime can later decide by critical containers and a soak time; today a boot that
 * reached readiness is good.
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
