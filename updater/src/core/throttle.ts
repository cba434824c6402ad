/**
 * The throttle plan for the worker that writes a slot: `update.throttle` from the
 * machine config (write bandwidth and IOPS, CPU share, memory cap) and the disk's
 * major:minor become cgroup v2 directory creations and file writes, as data. The
 * shell executes them, then moves the worker into the group. Pure.
 */
import { parsePercent, parseSize, isRecord, unknownKeyProblems } from './units.ts';

export interface ThrottleLimits {
  /** Bytes per second written to the disk. */
  writeBps?: number;
  writeIops?: number;
  /** Percent of one CPU (150 = one and a half CPUs). */
  cpuPercent?: number;
  memoryBytes?: number;
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

const THROTTLE_KEYS = ['write_bps', 'write_iops', 'cpu', 'memory'];

/** Parses `update.throttle`; every problem carries its path. Absent keys mean no limit. */
export function parseThrottle(value: unknown, path = 'update.throttle'): { limits?: ThrottleLimits; problems: string[] } {
  if (value === undefined) return { limits: {}, problems: [] };
  if (!isRecord(value)) return { problems: [`${path}: expected { write_bps, write_iops, cpu, memory }`] };
  const problems = unknownKeyProblems(value, THROTTLE_KEYS, path);
  const limits: ThrottleLimits = {};
  if (value.write_bps !== undefined) {
    const r = parseSize(value.write_bps);
    if (!r.ok) problems.push(`${path}.write_bps: ${r.problem}`);
    else if (r.value <= 0) problems.push(`${path}.write_bps: expected more than 0`);
    else limits.writeBps = r.value;
  }
  if (value.write_iops !== undefined) {
    if (typeof value.write_iops !== 'number' || !Number.isSafeInteger(value.write_iops) || value.write_iops <= 0) {
      problems.push(`${path}.write_iops: expected a positive integer`);
    } else limits.writeIops = value.write_iops;
  }
  if (value.cpu !== undefined) {
    const r = parsePercent(value.cpu);
    if (!r.ok) problems.push(`${path}.cpu: ${r.problem}`);
    // The kernel needs a quota of at least 1 ms per period.
    else if (r.value < 1 || r.value > 10_000) problems.push(`${path}.cpu: expected 1% to 10000% (100% = one CPU)`);
    else limits.cpuPercent = r.value;
  }
  if (value.memory !== undefined) {
    const r = parseSize(value.memory);
    if (!r.ok) problems.push(`${path}.memory: ${r.problem}`);
    else if (r.value < MIN_MEMORY_BYTES) problems.push(`${path}.memory: expected at least 16M`);
    else limits.memoryBytes = r.value;
  }
  return problems.length > 0 ? { problems } : { limits, problems };
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
