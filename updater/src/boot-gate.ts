/**
 * The one health gate and the one blessing of a boot. Init asks it for the boot's
 * verdict and the update agent asks it in `confirming`; both get the same run of the
 * gate (init up, critical containers healthy for the soak) and the same blessing, so a
 * boot is judged and blessed exactly once whoever asks first. Effects: whatever
 * `sample` and `bless` do.
 */
import type { Clock, HealthGateResult } from './gates.ts';
import { runHealthGate } from './gates.ts';
import type { HealthSample } from './core/slots.ts';

/** How long after the soak the containers get to come up at all before the gate fails. */
export const GATE_GRACE_MS = 600_000;

export interface BootGateOptions {
  soakMs: number;
  /** Default: soak + GATE_GRACE_MS. */
  timeoutMs?: number;
  intervalMs?: number;
  sample(): Promise<Omit<HealthSample, 'now'>>;
  /** Blesses the booted slot's entry (mounts the ESP, renames). */
  bless(): Promise<void>;
  clock: Clock;
}

export interface BootGate {
  /** The gate's result for this boot (runs it on the first call). */
  result(): Promise<HealthGateResult>;
  /** Blesses once; later calls get the same promise. */
  bless(): Promise<void>;
}

export function createBootGate(options: BootGateOptions): BootGate {
  let result: Promise<HealthGateResult> | undefined;
  let blessing: Promise<void> | undefined;
  return {
    result() {
      result ??= runHealthGate(
        {
          soakMs: options.soakMs,
          timeoutMs: options.timeoutMs ?? options.soakMs + GATE_GRACE_MS,
          ...(options.intervalMs !== undefined ? { intervalMs: options.intervalMs } : {}),
          sample: () => options.sample(),
          clock: options.clock,
        },
        new AbortController().signal,
      );
      return result;
    },
    bless() {
      blessing ??= options.bless();
      // A failed blessing may be retried (the agent replays its phase).
      blessing.catch(() => {
        blessing = undefined;
      });
      return blessing;
    },
  };
}
