/**
 * The throttle plan for the worker that writes a slot: `update.throttle` from the
 * machine config (write bandwidth and IOPS, CPU share, memory cap) and the disk's
 * major:minor become cgroup v2 directory creations and file writes, as data. The
 * shell executes them, then moves the worker into the group. Pure.
 */
import { type ThrottleLimits } from '../../../lib/config/sections/update-throttle.ts';

export { MIN_MEMORY_BYTES, parsePercent, parseThrottle, throttleSchema, type ThrottleLimits } from '../../../lib/config/sections/update-throttle.ts';

/** The whole disk holding the slot: the kernel's io.max refuses partitions. */
export interface BlockDevice {
  major: number;
  minor: number;
}

export type CgroupStep = { kind: 'mkdir'; path: string } | { kind: 'write'; path: string; value: string };

/** The CFS period cpu.max uses, in microseconds (the kernel default). */
export const CPU_PERIOD_US = 100_000;

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
