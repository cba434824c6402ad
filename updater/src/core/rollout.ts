/**
 * Staged rollouts (waves) and halts from the signed channel metadata: the ready-made wave
 * plans of `berth publish --waves`, the check of a plan, where a host's seed places it, and
 * when it may take a release. A wave is (fraction of the fleet, offset from the release time);
 * the hosts of a wave are spread evenly from its offset to the next wave's, those of the last
 * wave all start at its offset. Pure: the host's position comes in as a number in [0, 1)
 * (a hash of its seed, computed by the shell).
 */

/** One wave of a rollout plan, as the metadata carries it. */
export interface Wave {
  /** Share of the fleet in this wave, (0, 1]; the shares of a plan add up to 1. */
  fraction: number;
  /** Seconds after the release time at which the wave starts. */
  after_s: number;
}

export type WavePlanName = 'default' | 'fast' | 'now';
export const WAVE_PLAN_NAMES: readonly WavePlanName[] = ['default', 'fast', 'now'];

const HOUR = 3600;

/** The ready-made plans of `berth publish --waves`. */
export const WAVE_PLANS: Readonly<Record<WavePlanName, readonly Wave[]>> = {
  // 1 % canaries, then a tenth, then two halves over two days.
  default: [
    { fraction: 0.01, after_s: 0 },
    { fraction: 0.09, after_s: 4 * HOUR },
    { fraction: 0.4, after_s: 24 * HOUR },
    { fraction: 0.5, after_s: 48 * HOUR },
  ],
  fast: [
    { fraction: 0.1, after_s: 0 },
    { fraction: 0.4, after_s: 1 * HOUR },
    { fraction: 0.5, after_s: 4 * HOUR },
  ],
  now: [{ fraction: 1, after_s: 0 }],
};

export const MAX_WAVES = 20;

/** Every problem of a plan, each with its path below `path`. */
export function validateWaves(value: unknown, path = 'waves'): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_WAVES) return [`${path}: expected a list of 1 to ${MAX_WAVES} waves { fraction, after_s }`];
  const problems: string[] = [];
  let sum = 0;
  let previous = -1;
  value.forEach((wave: unknown, i) => {
    const at = `${path}[${i}]`;
    if (typeof wave !== 'object' || wave === null || Array.isArray(wave)) {
      problems.push(`${at}: expected { fraction, after_s }`);
      return;
    }
    const w = wave as Record<string, unknown>;
    for (const key of Object.keys(w)) if (key !== 'fraction' && key !== 'after_s') problems.push(`${at}.${key}: unknown key (expected fraction, after_s)`);
    if (typeof w.fraction !== 'number' || !(w.fraction > 0 && w.fraction <= 1)) problems.push(`${at}.fraction: expected a share of the fleet in (0, 1]`);
    else sum += w.fraction;
    if (typeof w.after_s !== 'number' || !Number.isSafeInteger(w.after_s) || w.after_s < 0) problems.push(`${at}.after_s: expected whole seconds after the release, 0 or more`);
    else {
      if (w.after_s <= previous) problems.push(`${at}.after_s: waves must start in order, each after the one before`);
      previous = w.after_s;
    }
  });
  if (problems.length === 0 && Math.abs(sum - 1) > 1e-9) problems.push(`${path}: the fractions add up to ${sum}, expected 1 (every host is in one wave)`);
  return problems;
}

/** Where a host stands in a rollout of one release. */
export interface WavePlacement {
  /** 1-based wave number. */
  wave: number;
  waves: number;
  /** When the host may take the release. */
  eligibleAt: Date;
}

/**
 * The wave of the host at `position` (its seed's hash in [0, 1)) and when it becomes eligible:
 * the wave's start plus its place inside the wave times the time until the next wave starts.
 */
export function placeInRollout(waves: readonly Wave[], released: Date, position: number): WavePlacement {
  const u = Math.min(Math.max(position, 0), 1 - Number.EPSILON);
  let start = 0;
  for (let i = 0; i < waves.length; i++) {
    const wave = waves[i] as Wave;
    const end = i === waves.length - 1 ? 1 : start + wave.fraction;
    if (u < end) {
      const next = waves[i + 1];
      const within = (u - start) / (end - start);
      const spreadS = next ? (next.after_s - wave.after_s) * within : 0;
      return { wave: i + 1, waves: waves.length, eligibleAt: new Date(released.getTime() + Math.floor((wave.after_s + spreadS) * 1000)) };
    }
    start = end;
  }
  // Unreachable for a valid plan (the last wave ends at 1); the last wave's start is the safe answer.
  const last = waves[waves.length - 1];
  return { wave: waves.length, waves: waves.length, eligibleAt: new Date(released.getTime() + (last?.after_s ?? 0) * 1000) };
}

/** Whether `version` is halted by the metadata's `halted` list (semver equality is the caller's). */
export function isHalted(halted: readonly string[] | undefined, version: string, equal: (a: string, b: string) => boolean): boolean {
  return (halted ?? []).some((h) => equal(h, version));
}
