/**
 * The `update.throttle` schema of the machine config: limits on the worker that writes a slot
 * (write bandwidth and IOPS, CPU share, memory cap) and on the bundle download. The cgroup plan
 * built from them is the updater's (updater/src/core/throttle.ts). Pure.
 */
import { byteSize, custom, integer, INVALID, object, validate, type Schema } from '../validate.ts';
import { problemLine } from '../problems.ts';

export interface ThrottleLimits {
  /** Bytes per second written to the disk. */
  writeBps?: number;
  writeIops?: number;
  /** Percent of one CPU (150 = one and a half CPUs). */
  cpuPercent?: number;
  memoryBytes?: number;
  /** Bytes per second of the bundle download, on the wire (updater/src/core/pacing.ts). */
  downloadBps?: number;
}

/** The smallest memory.max accepted: the writer needs room for its buffers. */
export const MIN_MEMORY_BYTES = 16 * 1024 * 1024;

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

const percent = custom<number>(
  'a share of one CPU from 1% to 10000%, such as "20%"',
  (value) => {
    const r = parsePercent(value);
    // The kernel needs a quota of at least 1 ms per period.
    return r.ok && typeof value === 'string' && r.value >= 1 && r.value <= 10_000 ? r.value : INVALID;
  },
  (value) => typeof value === 'string' || typeof value === 'number',
);

/** The schema of `update.throttle` (lib/config toolkit); absent keys mean no limit. */
export const throttleSchema: Schema<ThrottleLimits> = object({
  write_bps: byteSize({ min: 1 }).optional(),
  write_iops: integer({ min: 1 }).optional(),
  cpu: percent.optional(),
  memory: byteSize({ min: MIN_MEMORY_BYTES }).optional(),
  download_bps: byteSize({ min: 1024 }).optional(),
}).transform((t) => ({
  ...(t.write_bps !== undefined ? { writeBps: t.write_bps } : {}),
  ...(t.write_iops !== undefined ? { writeIops: t.write_iops } : {}),
  ...(t.cpu !== undefined ? { cpuPercent: t.cpu } : {}),
  ...(t.memory !== undefined ? { memoryBytes: t.memory } : {}),
  ...(t.download_bps !== undefined ? { downloadBps: t.download_bps } : {}),
}));

/** Validates `update.throttle` on its own; problems are `<path>: <message>` lines. */
export function parseThrottle(value: unknown, path = 'update.throttle'): { limits?: ThrottleLimits; problems: string[] } {
  const result = validate(throttleSchema, value ?? null);
  if (!result.ok) return { problems: result.problems.map((p) => problemLine(path, p)) };
  return { limits: result.value, problems: [] };
}
