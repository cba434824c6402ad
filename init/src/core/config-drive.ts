/**
 * The config drive as data: a vfat or iso9660 volume labelled CIDATA or cidata (the
 * cloud-init NoCloud convention) found in `blkid -o export` output, the read-only mount
 * that reads it, the kernel modules that mount needs, and which file on it is berth's
 * config. A NoCloud `user-data` is accepted only when it is a berth config: berth does
 * not run cloud-init. Pure.
 */
import { BerthError } from '../../../lib/errors.ts';
import type { MountSpec } from './mount-plan.ts';
import { PATHS } from '../../../lib/layout.ts';

/** Volume labels of a config drive (cloud-init's NoCloud accepts both spellings). */
export const CONFIG_DRIVE_LABELS: readonly string[] = ['CIDATA', 'cidata'];

export type ConfigDriveFsType = 'vfat' | 'iso9660';

/** Where the drive is mounted, read-only, while its config is read (tmpfs). */
export const CONFIG_DRIVE_MOUNT = PATHS.configDriveMount;

/** Files on the drive, in the order they are looked for. */
export const CONFIG_DRIVE_FILES = { berth: 'berth.yaml', userData: 'user-data' } as const;

/** The first line that marks a NoCloud user-data as a berth config. */
export const BERTH_USER_DATA_MARKER = '#berth-config';

/**
 * Loaded before the drives are listed: sr_mod makes a CD-ROM (QEMU `-cdrom`, a cloud's
 * config drive on SATA) a block device blkid can probe. Without udev nothing loads it.
 */
export const CONFIG_DRIVE_SEARCH_MODULES: readonly string[] = ['sr_mod'];

/**
 * The modules a mount of `fsType` needs. vfat: the Debian kernel's defaults are codepage 437 and
 * iocharset ascii; iso9660: isofs, and utf8 for Joliet names (NLS_DEFAULT).
 */
export function configDriveModules(fsType: ConfigDriveFsType): string[] {
  return fsType === 'vfat' ? ['vfat', 'nls_cp437', 'nls_ascii'] : ['isofs', 'nls_utf8'];
}

/**
 * `blkid` argv listing every block device with a filesystem, `KEY=value` lines per device.
 * `-c /dev/null`: no cache, every device is probed now (the drive may be new since the last boot).
 */
export function blkidListArgv(): string[] {
  return ['-c', '/dev/null', '-o', 'export'];
}

/** Parses `blkid -o export`: one record per device, blocks separated by empty lines. */
export function parseBlkidExport(stdout: string): Array<Record<string, string>> {
  const records: Array<Record<string, string>> = [];
  let current: Record<string, string> | undefined;
  for (const line of stdout.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') {
      current = undefined;
      continue;
    }
    const eq = trimmed.indexOf('=');
    if (eq <= 0) continue;
    if (!current) {
      current = {};
      records.push(current);
    }
    current[trimmed.slice(0, eq)] = trimmed.slice(eq + 1);
  }
  return records.filter((record) => record.DEVNAME !== undefined);
}

export interface ConfigDrive {
  /** /dev/vdb, /dev/sr0 */
  device: string;
  fsType: ConfigDriveFsType;
  label: string;
}

/** The config drives among the devices, ordered by device name (the first is used). */
export function findConfigDrives(devices: ReadonlyArray<Record<string, string>>): ConfigDrive[] {
  const drives: ConfigDrive[] = [];
  for (const device of devices) {
    const { DEVNAME: name, TYPE: type, LABEL: label } = device;
    if (name === undefined || label === undefined || !CONFIG_DRIVE_LABELS.includes(label)) continue;
    if (type !== 'vfat' && type !== 'iso9660') continue;
    drives.push({ device: name, fsType: type, label });
  }
  return drives.sort((a, b) => a.device.localeCompare(b.device));
}

/** A labelled volume berth cannot read as a config drive (wrong filesystem), for a warning. */
export function unusableConfigDrives(devices: ReadonlyArray<Record<string, string>>): Array<{ device: string; type: string }> {
  return devices
    .filter((d) => d.DEVNAME !== undefined && d.LABEL !== undefined && CONFIG_DRIVE_LABELS.includes(d.LABEL) && d.TYPE !== 'vfat' && d.TYPE !== 'iso9660')
    .map((d) => ({ device: d.DEVNAME ?? '', type: d.TYPE ?? 'unknown' }));
}

/** The read-only mount of a drive: nothing on it is ever written, run or trusted as a device. */
export function configDriveMount(drive: ConfigDrive): MountSpec {
  return {
    source: drive.device,
    target: CONFIG_DRIVE_MOUNT,
    fsType: drive.fsType,
    options: ['ro', 'nosuid', 'nodev', 'noexec'],
    createTarget: true,
  };
}

/** How a config on a drive is named in logs and problem lines: `/dev/vdb:berth.yaml`. */
export function configDriveSource(drive: ConfigDrive, file: string): string {
  return `${drive.device}:${file}`;
}

/** The first line of a text, without a byte order mark and trailing spaces. */
function firstLine(text: string): string {
  const start = text.startsWith('\uFEFF') ? 1 : 0;
  const end = text.indexOf('\n', start);
  return text.slice(start, end < 0 ? undefined : end).replace(/\r$/, '').trimEnd();
}

/** cloud-init user-data formats, by their first line (cloud-init's "user-data formats"). */
const CLOUD_INIT_FORMATS: ReadonlyArray<{ test: (line: string, text: string) => boolean; what: string }> = [
  { test: (line) => line === '#cloud-config' || line.startsWith('#cloud-config '), what: 'a cloud-init #cloud-config' },
  { test: (line) => line.startsWith('#!'), what: 'a user-data script' },
  { test: (line) => line.startsWith('#include'), what: 'a cloud-init #include list' },
  { test: (line) => line.startsWith('#cloud-boothook'), what: 'a cloud-init boothook' },
  { test: (line) => line.startsWith('#part-handler'), what: 'a cloud-init part handler' },
  { test: (line) => line.startsWith('## template:'), what: 'a cloud-init Jinja template' },
  { test: (line, text) => /^content-type:/i.test(line) || /^mime-version:/im.test(text.slice(0, 200)), what: 'a MIME multi-part user-data' },
  // gzip magic as a string (read as UTF-8, 0x1f 0x8b becomes \x1f\ufffd).
  { test: (_line, text) => text.startsWith('\x1f\ufffd') || text.startsWith('\x1f\x8b'), what: 'a compressed user-data' },
];

/**
 * Checks that a NoCloud user-data is a berth config (starting with `#berth-config`, or plain YAML)
 * and returns it; throws INIT_CONFIG_DRIVE_NOT_BERTH for any cloud-init format.
 */
export function berthConfigFromUserData(text: string, source: string): string {
  const line = firstLine(text);
  if (line === BERTH_USER_DATA_MARKER) return text;
  for (const format of CLOUD_INIT_FORMATS) {
    if (!format.test(line, text)) continue;
    throw new BerthError(
      'INIT_CONFIG_DRIVE_NOT_BERTH',
      `Refusing ${source}: it is ${format.what}, and berth does not run cloud-init; put a berth machine config in ${CONFIG_DRIVE_FILES.berth} on the drive, or make user-data a berth config starting with ${BERTH_USER_DATA_MARKER}`,
    );
  }
  return text;
}

/** What to read from a drive, given the names of the files in its root. */
export function configDriveFile(names: readonly string[]): { file: string; isUserData: boolean } | undefined {
  // vfat is case-insensitive and may show short names in upper case; match the way a reader would expect.
  const byLower = new Map(names.map((name) => [name.toLowerCase(), name]));
  const berth = byLower.get(CONFIG_DRIVE_FILES.berth);
  if (berth !== undefined) return { file: berth, isUserData: false };
  const userData = byLower.get(CONFIG_DRIVE_FILES.userData);
  if (userData !== undefined) return { file: userData, isUserData: true };
  return undefined;
}
