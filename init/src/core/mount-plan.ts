/**
 * The mount table of a berth machine as data: what init mounts, in which order, with
 * which options, and the util-linux argv for each. Pure; init/src/mounts.ts runs it.
 */
import { PATHS } from '../../../lib/layout.ts';
import { isMountedAt, type MountInfoEntry } from './mountinfo.ts';

export interface MountSpec {
  /** Device or pseudo-source (`proc`, `tmpfs`, `/dev/vda4`). */
  source: string;
  target: string;
  fsType: string;
  options: readonly string[];
  /**
   * Create the mount point when missing. Only for targets on writable filesystems
   * (devtmpfs, tmpfs, /var): the root is read-only, its mount points ship in the image.
   */
  createTarget: boolean;
}

/** Facts the plan depends on. */
export interface MountFacts {
  /** /sys/firmware/efi exists (booted through UEFI), so efivarfs can be mounted. */
  hasEfi: boolean;
  /** Block device of the data partition, e.g. /dev/vda4. */
  dataDevice: string;
}

const API_NO_EXEC = ['nosuid', 'nodev', 'noexec'] as const;

/** Kernel API filesystems and tmpfs, mounted before anything else. */
export function apiFilesystemMounts(): MountSpec[] {
  return [
    { source: 'proc', target: '/proc', fsType: 'proc', options: API_NO_EXEC, createTarget: false },
    { source: 'sysfs', target: '/sys', fsType: 'sysfs', options: API_NO_EXEC, createTarget: false },
    { source: 'devtmpfs', target: '/dev', fsType: 'devtmpfs', options: ['nosuid', 'mode=0755'], createTarget: false },
    // gid 5 is Debian's tty group.
    { source: 'devpts', target: '/dev/pts', fsType: 'devpts', options: ['nosuid', 'noexec', 'gid=5', 'mode=0620', 'ptmxmode=0666'], createTarget: true },
    { source: 'tmpfs', target: '/dev/shm', fsType: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'], createTarget: true },
    { source: 'tmpfs', target: '/run', fsType: 'tmpfs', options: ['nosuid', 'nodev', 'mode=0755'], createTarget: false },
    { source: 'tmpfs', target: '/tmp', fsType: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'], createTarget: false },
    {
      source: 'cgroup2',
      target: PATHS.cgroupRoot,
      fsType: 'cgroup2',
      // nsdelegate: cgroup namespaces are delegation boundaries (containers);
      // memory_recursiveprot: memory.min/low protect whole subtrees (init.scope, services).
      options: [...API_NO_EXEC, 'nsdelegate', 'memory_recursiveprot'],
      createTarget: false,
    },
  ];
}

/** efivarfs, only when the machine booted through UEFI (needs the efivarfs module). */
export function efiMounts(hasEfi: boolean): MountSpec[] {
  if (!hasEfi) return [];
  return [{ source: 'efivarfs', target: PATHS.efivars, fsType: 'efivarfs', options: API_NO_EXEC, createTarget: false }];
}

/** The data partition at /var. No nosuid/nodev: container root filesystems live below it. */
export function varMount(dataDevice: string): MountSpec {
  return { source: dataDevice, target: PATHS.varDir, fsType: 'ext4', options: ['noatime'], createTarget: false };
}

/** Directories on /var that must exist before the /etc overlay is mounted. */
export const ETC_OVERLAY_DIRS = [PATHS.etcOverlayUpper, PATHS.etcOverlayWork] as const;

/**
 * A writable /etc: the root's /etc is the lower layer, the upper layer lives on /var,
 * so edits survive reboots and an update of the root brings new defaults underneath.
 */
export function etcOverlayMount(): MountSpec {
  return {
    source: 'overlay',
    target: '/etc',
    fsType: 'overlay',
    options: ['lowerdir=/etc', `upperdir=${PATHS.etcOverlayUpper}`, `workdir=${PATHS.etcOverlayWork}`],
    createTarget: false,
  };
}

/** Where the ESP goes when the root lacks /efi (a tmpfs, so the mount point can be made). */
export const ESP_FALLBACK_MOUNT = PATHS.espFallbackMount;

/**
 * The EFI system partition, mounted only while the boot entry is blessed: at /efi, or
 * at ESP_FALLBACK_MOUNT when the read-only root has no /efi directory.
 */
export function espMount(espDevice: string, hasEfiDir = true): MountSpec {
  return {
    source: espDevice,
    target: hasEfiDir ? PATHS.espMount : ESP_FALLBACK_MOUNT,
    fsType: 'vfat',
    options: ['nosuid', 'nodev', 'noexec', 'umask=0077'],
    createTarget: !hasEfiDir,
  };
}

/** The whole mount table in boot order (for documentation and snapshot tests). */
export function fullMountPlan(facts: MountFacts): MountSpec[] {
  return [...apiFilesystemMounts(), varMount(facts.dataDevice), ...efiMounts(facts.hasEfi), etcOverlayMount()];
}

/** The specs of `plan` whose target has nothing mounted on it yet, in plan order. */
export function pendingMounts(plan: readonly MountSpec[], mounted: readonly MountInfoEntry[]): MountSpec[] {
  return plan.filter((spec) => !isMountedAt(mounted, spec.target));
}

/** `mount` argv (util-linux) for a spec. */
export function mountArgv(spec: MountSpec): string[] {
  const argv = ['-t', spec.fsType];
  if (spec.options.length > 0) argv.push('-o', spec.options.join(','));
  argv.push(spec.source, spec.target);
  return argv;
}

/** fstab(5) escapes for a field: space, tab, newline and backslash as octal. */
function fstabField(value: string): string {
  return value.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** An fstab(5) for `mount --all --fstab`: the specs in order, no dump, no fsck pass. */
export function fstabText(specs: readonly MountSpec[]): string {
  return specs.map((spec) => [spec.source, spec.target, spec.fsType, spec.options.length > 0 ? spec.options.join(',') : 'defaults'].map(fstabField).join(' ') + ' 0 0\n').join('');
}

/** `mount` argv that mounts every entry of `fstabPath` not mounted yet, in order, going on past one that fails. */
export function mountAllArgv(fstabPath: string): string[] {
  return ['--all', '--fstab', fstabPath];
}

/**
 * Whether `pending` can go to one `mount --all`: its fstab is written to /run (mounted, and not
 * about to be mounted over), and no pending target lies inside another, whose mount point would
 * have to be created after that one is mounted.
 */
export function canMountTogether(pending: readonly MountSpec[], mounted: readonly MountInfoEntry[]): boolean {
  if (pending.length < 2 || !isMountedAt(mounted, '/run')) return false;
  const inside = (child: string, parent: string) => parent === '/' || child === parent || child.startsWith(`${parent}/`);
  if (pending.some((spec) => inside('/run', spec.target))) return false;
  return !pending.some((a) => pending.some((b) => a !== b && inside(a.target, b.target)));
}

/** `umount` argv; lazy detaches a busy mount instead of failing. */
export function umountArgv(target: string, lazy = false): string[] {
  return lazy ? ['-l', target] : [target];
}

/** `mount` argv that remounts `target` read-only (the fallback when it is busy). */
export function remountReadOnlyArgv(target: string): string[] {
  return ['-o', 'remount,ro', target];
}
