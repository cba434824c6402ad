/**
 * Finding partitions by GPT name from sysfs facts, without udev: every
 * /sys/class/block/<name>/uevent of a partition carries PARTNAME= and PARTN=, and the
 * partition's sysfs path sits below its disk's. Pure: takes file texts and paths.
 */

/** Parses a uevent file (`KEY=value` lines). */
export function parseUevent(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  return out;
}

export interface BlockDeviceFacts {
  /** Kernel name (`vda4`). */
  name: string;
  uevent: string;
  /** realpath of /sys/class/block/<name>, e.g. /sys/devices/pci0000:00/.../block/vda/vda4. */
  sysPath: string;
}

export interface PartitionLocation {
  /** /dev/vda4 */
  device: string;
  /** /dev/vda */
  disk: string;
  /** 1-based partition number on the disk. */
  number: number;
  name: string;
  diskName: string;
}

/** The disk a partition belongs to: the parent directory of its sysfs path. */
export function parentDiskName(sysPath: string): string | undefined {
  const parts = sysPath.split('/').filter((p) => p !== '');
  return parts.length >= 2 ? parts[parts.length - 2] : undefined;
}

/** All partitions whose GPT name is `partName`, ordered by kernel name (vda before vdb). */
export function findPartitionsByName(devices: readonly BlockDeviceFacts[], partName: string): PartitionLocation[] {
  const found: PartitionLocation[] = [];
  for (const device of devices) {
    const uevent = parseUevent(device.uevent);
    if (uevent.get('DEVTYPE') !== 'partition' || uevent.get('PARTNAME') !== partName) continue;
    const number = Number(uevent.get('PARTN'));
    const diskName = parentDiskName(device.sysPath);
    if (!Number.isInteger(number) || number < 1 || diskName === undefined) continue;
    const name = uevent.get('DEVNAME') ?? device.name;
    found.push({ device: `/dev/${name}`, disk: `/dev/${diskName}`, number, name, diskName });
  }
  return found.sort((x, y) => x.name.localeCompare(y.name));
}
