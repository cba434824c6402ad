/**
 * The cgroup v2 layout as data: controllers enabled at the root, init in its own leaf
 * (init.scope, memory.max INIT_SCOPE_MEMORY_MAX_BYTES; berth-pid1 stays in the root cgroup), and berth.slice with every controller
 * delegated for services, capped (memory.max, pids.max) below what the host has so that
 * init keeps memory and tasks whatever the services do. Pure: returns the directory and
 * file writes to perform.
 */
import { PATHS } from '../../../lib/layout.ts';

export const WANTED_CONTROLLERS = ['cpu', 'io', 'memory', 'pids'] as const;

export type CgroupStep =
  | { kind: 'mkdir'; path: string }
  /** Each write is one syscall; `optional` failures are warnings (a controller the kernel lacks). */
  | { kind: 'write'; path: string; value: string; optional: boolean };

/** Parses cgroup.controllers ("cpuset cpu io memory pids"). */
export function parseControllers(text: string): string[] {
  return text.split(/\s+/).filter((c) => c !== '');
}

/** What the host has, as /proc tells it: the caps of berth.slice are derived from it. */
export interface HostResources {
  /** MemTotal of /proc/meminfo, bytes. */
  memTotalBytes: number;
  /** kernel.pid_max. */
  pidMax: number;
  /** kernel.threads-max: the kernel's own cap on tasks (from RAM), often below pid_max. */
  threadsMax: number;
}

const MIB = 1024 * 1024;
/** Memory berth.slice leaves to init, the kernel and berth-pid1: an eighth of RAM, at least 192 MiB, at most 1 GiB ... */
export const INIT_MEMORY_HEADROOM = { share: 1 / 8, minBytes: 192 * MIB, maxBytes: 1024 * MIB } as const;
/** ... and tasks: an eighth of the kernel's task limit, at least 256, at most 4096. */
export const INIT_TASK_HEADROOM = { share: 1 / 8, min: 256, max: 4096 } as const;

const clamp = (value: number, min: number, max: number): number => Math.min(Math.max(value, min), max);

/**
 * berth.slice's memory.max and pids.max: what the host has minus a headroom for init (PID 1's
 * Node takes about 80 MiB, more while it pulls and unpacks), berth-pid1 and the kernel. A container
 * fork bomb or memory leak then hits the slice's limit (its OOM kill stays inside the slice)
 * instead of the kernel's, so init can still fork probes, answer the API and reboot. The
 * headroom is never more than half of what there is.
 */
export function servicesLimits(resources: HostResources): { memoryMaxBytes: number; pidsMax: number } {
  const mem = resources.memTotalBytes;
  const memHeadroom = Math.min(clamp(Math.floor(mem * INIT_MEMORY_HEADROOM.share), INIT_MEMORY_HEADROOM.minBytes, INIT_MEMORY_HEADROOM.maxBytes), Math.floor(mem / 2));
  const tasks = Math.min(resources.pidMax, resources.threadsMax);
  const taskHeadroom = Math.min(clamp(Math.floor(tasks * INIT_TASK_HEADROOM.share), INIT_TASK_HEADROOM.min, INIT_TASK_HEADROOM.max), Math.floor(tasks / 2));
  // memory.max is rounded down to whole pages by the kernel anyway; keep it a multiple of 1 MiB.
  return { memoryMaxBytes: Math.floor((mem - memHeadroom) / MIB) * MIB, pidsMax: tasks - taskHeadroom };
}

/**
 * init.scope's memory.max: 448 MiB (never more than half of RAM). init's Node takes about
 * 80 MiB and its V8 old space is capped at 192 MiB (image-builder/initramfs/init), so a
 * runaway init normally ends in V8's heap-limit abort; memory outside the heap (buffers,
 * the status probe child) that runs away hits this limit, and the kernel's OOM kill then
 * stays inside init.scope: berth-pid1 restarts init, no container is chosen.
 */
export const INIT_SCOPE_MEMORY_MAX_BYTES = 448 * MIB;

/** init.scope's memory.max for a host with `memTotalBytes` of RAM. */
export function initScopeMemoryMax(memTotalBytes: number): number {
  return Math.min(INIT_SCOPE_MEMORY_MAX_BYTES, Math.floor(memTotalBytes / 2 / MIB) * MIB);
}

/** MemTotal from /proc/meminfo ("MemTotal:  2030000 kB"), bytes; undefined if missing. */
export function parseMemTotal(meminfo: string): number | undefined {
  const match = /^MemTotal:\s+(\d+)\s+kB$/m.exec(meminfo);
  return match === null ? undefined : Number(match[1]) * 1024;
}

/** A /proc/sys integer (pid_max, threads-max); undefined unless a positive integer. */
export function parseProcInteger(text: string): number | undefined {
  const value = Number(text.trim());
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/**
 * The steps for `initPid`, given the controllers the root offers and, when known, the host's
 * resources (berth.slice's memory.max and pids.max; without them the slice is uncapped).
 */
export function planCgroups(available: readonly string[], initPid: number, resources?: HostResources): CgroupStep[] {
  const controllers = WANTED_CONTROLLERS.filter((c) => available.includes(c));
  const enable = (dir: string): CgroupStep[] =>
    // One controller per write: a controller that cannot be enabled must not block the others.
    controllers.map((c) => ({ kind: 'write', path: `${dir}/cgroup.subtree_control`, value: `+${c}`, optional: true }));
  return [
    // The root cgroup is exempt from "no internal processes", so it may enable controllers with berth-pid1 inside.
    ...enable(PATHS.cgroupRoot),
    { kind: 'mkdir', path: PATHS.cgroupInit },
    { kind: 'write', path: `${PATHS.cgroupInit}/cgroup.procs`, value: String(initPid), optional: false },
    ...(resources !== undefined && controllers.includes('memory')
      ? [{ kind: 'write', path: `${PATHS.cgroupInit}/memory.max`, value: String(initScopeMemoryMax(resources.memTotalBytes)), optional: true } as const]
      : []),
    { kind: 'mkdir', path: PATHS.cgroupServices },
    ...enable(PATHS.cgroupServices),
    ...servicesCaps(controllers, resources),
  ];
}

function servicesCaps(controllers: readonly string[], resources: HostResources | undefined): CgroupStep[] {
  if (resources === undefined) return [];
  const limits = servicesLimits(resources);
  const steps: CgroupStep[] = [];
  if (controllers.includes('memory')) steps.push({ kind: 'write', path: `${PATHS.cgroupServices}/memory.max`, value: String(limits.memoryMaxBytes), optional: true });
  if (controllers.includes('pids')) steps.push({ kind: 'write', path: `${PATHS.cgroupServices}/pids.max`, value: String(limits.pidsMax), optional: true });
  return steps;
}

/** Controllers in WANTED_CONTROLLERS the kernel does not offer (for a warning). */
export function missingControllers(available: readonly string[]): string[] {
  return WANTED_CONTROLLERS.filter((c) => !available.includes(c));
}
