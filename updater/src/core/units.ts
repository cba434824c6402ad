/**
 * Small parsers for the units the `update:` config section uses (sizes like `5M`,
 * durations like `3h`, percentages like `20%`). Local to the updater until lib/config
 * provides shared ones. Pure: every parser returns a value or a problem string.
 */

/** A parse result: the value, or a message saying what was expected. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  K: 1024,
  KI: 1024,
  KIB: 1024,
  M: 1024 ** 2,
  MI: 1024 ** 2,
  MIB: 1024 ** 2,
  G: 1024 ** 3,
  GI: 1024 ** 3,
  GIB: 1024 ** 3,
  T: 1024 ** 4,
  TI: 1024 ** 4,
  TIB: 1024 ** 4,
};

/**
 * Parses a byte size: a non-negative integer, or a number with a binary suffix
 * (`K`, `M`, `G`, `T`, optionally `i`/`iB`): `5M` is 5 MiB = 5242880 bytes.
 */
export function parseSize(input: unknown): Parsed<number> {
  const expected = 'expected a size such as 5M, 256M or 1G (binary units)';
  if (typeof input === 'number') {
    return Number.isSafeInteger(input) && input >= 0 ? { ok: true, value: input } : { ok: false, problem: expected };
  }
  if (typeof input !== 'string') return { ok: false, problem: expected };
  const match = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(input.trim());
  const multiplier = match ? SIZE_UNITS[(match[2] ?? '').toUpperCase()] : undefined;
  if (!match || multiplier === undefined) return { ok: false, problem: `${expected}, got ${JSON.stringify(input)}` };
  const value = Math.round(Number(match[1]) * multiplier);
  if (!Number.isSafeInteger(value)) return { ok: false, problem: `${expected}, got ${JSON.stringify(input)}` };
  return { ok: true, value };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration such as `90s`, `2m`, `1h30m` or `3h` into milliseconds. */
export function parseDuration(input: unknown): Parsed<number> {
  const expected = 'expected a duration such as 30s, 2m, 1h or 1h30m';
  if (typeof input !== 'string') return { ok: false, problem: expected };
  const text = input.trim();
  if (!/^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/.test(text)) {
    return { ok: false, problem: `${expected}, got ${JSON.stringify(input)}` };
  }
  let total = 0;
  for (const part of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) {
    total += Number(part[1]) * (DURATION_UNITS[part[2] ?? ''] ?? 0);
  }
  return { ok: true, value: Math.round(total) };
}

/** Parses a percentage `20%` (or a bare number) into a number of percent. */
export function parsePercent(input: unknown): Parsed<number> {
  const expected = 'expected a percentage such as 20%';
  if (typeof input === 'number') return Number.isFinite(input) ? { ok: true, value: input } : { ok: false, problem: expected };
  if (typeof input !== 'string') return { ok: false, problem: expected };
  const match = /^(\d+(?:\.\d+)?)\s*%$/.exec(input.trim());
  if (!match) return { ok: false, problem: `${expected}, got ${JSON.stringify(input)}` };
  return { ok: true, value: Number(match[1]) };
}

/** True for a plain object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Problems for keys of `value` not in `allowed`, each with its path: a typo is never ignored. */
export function unknownKeyProblems(value: Record<string, unknown>, allowed: readonly string[], path: string): string[] {
  return Object.keys(value)
    .filter((key) => !allowed.includes(key))
    .map((key) => `${path === '' ? key : `${path}.${key}`}: unknown key (expected one of ${allowed.join(', ')})`);
}
