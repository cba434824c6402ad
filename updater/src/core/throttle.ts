/**
 * The throttle plan for the worker that writes a slot: `update.throttle` from the
 * machine config (write bandwidth and IOPS, CPU share, memory cap) and the disk's
 * major:minor become cgroup v2 directory creations and file writes, as data. The
 * shell executes them, then moves the worker into the group. Pure.
 */
import { byteSize, custom, integer, INVALID, object, validate, type Schema } from '../../../lib/config/validate.ts';
import { parsePercent, problemLine } from './units.ts';

export interface ThrottleLimits {
  /** Bytes per second written to the disk. */
  writeBps?: number;
  writeIops?: number;
  /** Percent of one CPU (150 = one and a half CPUs). */
  cpuPercent?: number;
  memoryBytes?: number;
  /** Bytes per second of the bundle download, on the wire (core/pacing.ts). */
  downloadBps?: number;
}

/** The whole disk holding the slot: the kernel's io.max refuses partitions. */
export interface BlockDevice {
  major: number;
  minor: number;
}

export type CgroupStep = { kind: 'mkdir'; path: string } | { kind: 'write'; path: string; value: string };

/** The CFS period cpu.max uses, in microseconds (the kernel default). */
export const CPU_PERIOD_US = 100_000;
/** The smallest memory.max accepted: the writer needs room for its buffers. */
export const MIN_MEMORY_BYTES = 16 * 1024 * 1024;

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

/** The io.max line: `MAJ:MIN wbps=<n|max> wiops=<n|max>`. */
export function ioMaxLine(device: BlockDevice, limits: ThrottleLimits): string {
  return `${device.major}:${device.minor} wbps=${limits.writeBps ?? 'max'} wiops=${limits.writeIops ?? 'max'}`;
}

/** The cpu.max line: `<quota|max> <period>` in microseconds. */
export function cpuMaxLine(limits: ThrottleLimits): string {
  const quota = limits.cpuPercent === undefined ? 'max' : String(Math.round((limits.cpuPercent / 100) * CPU_PERIOD_US));
  return `${quota} ${CPU_PERIOD_US}`;
}

export interface ThrottlePlanInput {
  limits: ThrottleLimits;
  device: BlockDevice;
  /** The cgroup2 mount, e.g. /sys/fs/cgroup. */
  cgroupRoot: string;
  /** The worker's group below the root, e.g. `berth.slice/update-apply`. */
  group: string;
}

/**
 * The steps that prepare the worker's group: enable the io, cpu and memory controllers
 * on every ancestor (a child can only use controllers its parent delegates), create the
 * group, then write every limit — always all three files, `max` where unset, so a
 * group left from an earlier run with other limits never keeps them.
 */
export function planThrottle(input: ThrottlePlanInput): CgroupStep[] {
  const { device } = input;
  if (![device.major, device.minor].every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw new RangeError(`Invalid block device ${device.major}:${device.minor}`);
  }
  const parts = input.group.split('/').filter((p) => p !== '');
  if (parts.length === 0 || parts.some((p) => p === '.' || p === '..')) throw new RangeError(`Invalid cgroup '${input.group}'`);
  const root = input.cgroupRoot.replace(/\/+$/, '');
  const steps: CgroupStep[] = [];
  for (let depth = 0; depth < parts.length; depth++) {
    const ancestor = [root, ...parts.slice(0, depth)].join('/');
    steps.push({ kind: 'write', path: `${ancestor}/cgroup.subtree_control`, value: '+cpu +io +memory' });
    if (depth + 1 < parts.length) steps.push({ kind: 'mkdir', path: [root, ...parts.slice(0, depth + 1)].join('/') });
  }
  const group = [root, ...parts].join('/');
  steps.push(
    { kind: 'mkdir', path: group },
    { kind: 'write', path: `${group}/io.max`, value: ioMaxLine(device, input.limits) },
    { kind: 'write', path: `${group}/cpu.max`, value: cpuMaxLine(input.limits) },
    { kind: 'write', path: `${group}/memory.max`, value: String(input.limits.memoryBytes ?? 'max') },
  );
  return steps;
}
