/**
 * Small helpers for the updater's validators: percentages (`20%`, which lib/config has no
 * parser for), plain-object checks and unknown-key problems for the JSON documents the
 * updater reads (manifests, channel files, journal), and problem lines for config
 * sections checked with lib/config. Sizes and durations come from lib/config. Pure.
 */
import type { Problem } from '../../../lib/config/validate.ts';

/** A parse result: the value, or a message saying what was expected. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/** Parses a percentage `20%` (or a bare number) into a number of percent. */
export function parsePercent(input: unknown): Parsed<number> {
  const expected = 'expected a percentage such as 20%';
  if (typeof input === 'number') return Number.isFinite(input) ? { ok: true, value: input } : { ok: false, problem: expected };
  if (typeof input !== 'string') return { ok: false, problem: expected };
  const match = /^(\d+(?:\.\d+)?)\s*%$/.exec(input.trim());
  if (!match) return { ok: false, problem: `${expected}, got ${JSON.stringify(input)}` };
  return { ok: true, value: Number(match[1]) };
}

/** Problems for keys of `value` not in `allowed`, each with its path: a typo is never ignored. */
export function unknownKeyProblems(value: Record<string, unknown>, allowed: readonly string[], path: string): string[] {
  return Object.keys(value)
    .filter((key) => !allowed.includes(key))
    .map((key) => `${path === '' ? key : `${path}.${key}`}: unknown key (expected one of ${allowed.join(', ')})`);
}

/** A lib/config problem as one `<section path>.<path>: <message>` line. */
export function problemLine(base: string, problem: Problem): string {
  const path = problem.path === '' ? base : problem.path.startsWith('[') ? `${base}${problem.path}` : `${base}.${problem.path}`;
  return `${path}: ${problem.message}`;
}
