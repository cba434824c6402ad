/**
 * Orderly shutdown as data: stop the debug shell, services (grace period, then
 * SIGKILL) and host daemons (dhcpcd, chronyd), close the log file, sync, unmount what lives on writable disks (/etc
 * overlay, everything on /var, /efi), say so, then power off or reboot. Pure: the
 * plan is computed from what is mounted right now; init/src/shutdown.ts runs it.
 */
import { PATHS } from '../../../lib/layout.ts';
import { isPathWithin, type MountInfoEntry } from './mountinfo.ts';

export type PowerAction = 'poweroff' | 'reboot';

/** What asked for the shutdown; logged, and it decides the power action. */
export type ShutdownTrigger =
  | 'SIGTERM'
  | 'SIGPWR'
  | 'SIGINT'
  | 'SIGUSR1'
  | 'SIGUSR2'
  | 'power-button'
  | 'api-reboot'
  | 'api-poweroff'
  | 'boot-failed'
  | 'unexpected-error'
  | 'unhealthy'
  | 'update';

/**
 * Signals init handles (berth-pid1 forwards them). SIGUSR1/SIGUSR2 are what busybox `halt` and
 * `poweroff` send to PID 1, so those commands work from a shell.
 */
export const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGPWR', 'SIGINT', 'SIGUSR1', 'SIGUSR2'] as const;

/**
 * SIGTERM, SIGPWR, busybox halt/poweroff and the power button power off; SIGINT is
 * ctrl-alt-del (the kernel signals PID 1 once /proc/sys/kernel/ctrl-alt-del is 0) and
 * reboots, as do failures, so systemd-boot's counter gets its chance to fall back to
 * the other slot.
 */
export function powerActionFor(trigger: ShutdownTrigger): PowerAction {
  switch (trigger) {
    case 'SIGTERM':
    case 'SIGPWR':
    case 'SIGUSR1':
    case 'SIGUSR2':
    case 'power-button':
    case 'api-poweroff':
      return 'poweroff';
    case 'SIGINT':
    case 'api-reboot':
    case 'boot-failed':
    case 'unexpected-error':
    case 'unhealthy':
    case 'update':
      return 'reboot';
  }
}

/** What to do when a target is busy. */
export type BusyFallback = 'remount-ro' | 'lazy';

export type ShutdownStep =
  | { kind: 'stop-debug-shell' }
  | { kind: 'stop-services'; graceMs: number }
  | { kind: 'stop-daemons' }
  | { kind: 'close-logs' }
  | { kind: 'sync' }
  | { kind: 'unmount'; target: string; onBusy: BusyFallback }
  | { kind: 'log-complete'; action: PowerAction }
  | { kind: 'power'; action: PowerAction };

export interface ShutdownInputs {
  action: PowerAction;
  mounted: readonly MountInfoEntry[];
  graceMs: number;
}

export const DEFAULT_GRACE_MS = 10_000;

function unmountGroup(target: string): number | undefined {
  if (isPathWithin(target, '/etc')) return 0; // its upper layer lives on /var
  if (isPathWithin(target, PATHS.varDir)) return 1;
  if (isPathWithin(target, PATHS.espMount)) return 2;
  return undefined;
}

/** The mounts to take down, in order: /etc tree, /var tree, /efi tree; within each, the newest first. */
export function unmountOrder(mounted: readonly MountInfoEntry[]): string[] {
  const picked = mounted
    .map((entry, index) => ({ target: entry.target, index, group: unmountGroup(entry.target) }))
    .filter((m): m is { target: string; index: number; group: number } => m.group !== undefined);
  picked.sort((x, y) => x.group - y.group || y.index - x.index);
  const seen = new Set<string>();
  return picked.map((m) => m.target).filter((target) => !seen.has(target) && seen.add(target));
}

export function planShutdown(inputs: ShutdownInputs): ShutdownStep[] {
  const unmounts: ShutdownStep[] = unmountOrder(inputs.mounted).map((target) => ({
    kind: 'unmount',
    target,
    // Read-only keeps the ext4 journal clean when something still holds /var open;
    // a stacked mount is detached instead so the filesystem below can go.
    onBusy: target === PATHS.varDir || target === PATHS.espMount ? 'remount-ro' : 'lazy',
  }));
  return [
    { kind: 'stop-debug-shell' },
    { kind: 'stop-services', graceMs: inputs.graceMs },
    // After the services (containers may still resolve names or need the lease), before /var goes.
    { kind: 'stop-daemons' },
    { kind: 'close-logs' },
    { kind: 'sync' },
    ...unmounts,
    { kind: 'log-complete', action: inputs.action },
    { kind: 'power', action: inputs.action },
  ];
}
