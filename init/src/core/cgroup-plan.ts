/**
 * The cgroup v2 layout as data: controllers enabled at the root, init in its own leaf
 * (init.scope; tini stays in the root cgroup), and berth.slice with every controller
 * delegated for services. Pure: returns the directory and file writes to perform.
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

/** The steps for `initPid`, given the controllers the root offers. */
export function planCgroups(available: readonly string[], initPid: number): CgroupStep[] {
  const controllers = WANTED_CONTROLLERS.filter((c) => available.includes(c));
  const enable = (dir: string): CgroupStep[] =>
    // One controller per write: a controller that cannot be enabled must not block the others.
    controllers.map((c) => ({ kind: 'write', path: `${dir}/cgroup.subtree_control`, value: `+${c}`, optional: true }));
  return [
    // The root cgroup is exempt from "no internal processes", so it may enable controllers with tini inside.
    ...enable(PATHS.cgroupRoot),
    { kind: 'mkdir', path: PATHS.cgroupInit },
    { kind: 'write', path: `${PATHS.cgroupInit}/cgroup.procs`, value: String(initPid), optional: false },
    { kind: 'mkdir', path: PATHS.cgroupServices },
    ...enable(PATHS.cgroupServices),
  ];
}

/** Controllers in WANTED_CONTROLLERS the kernel does not offer (for a warning). */
export function missingControllers(available: readonly string[]): string[] {
  return WANTED_CONTROLLERS.filter((c) => !available.includes(c));
}
