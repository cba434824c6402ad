/**
 * Finds partitions by GPT name (PARTLABEL) from sysfs, without udev, and reads their
 * sizes: /sys/class/block/<name>/{uevent,start,size}.
 */
import { BerthError, type ErrorCode } from '../../lib/errors.ts';
import { findPartitionsByName, type BlockDeviceFacts, type PartitionLocation } from './core/block-devices.ts';
import { KERNEL_PATHS } from './core/tools.ts';
import type { FileSystem } from './sys/types.ts';

export async function listBlockDevices(fs: FileSystem): Promise<BlockDeviceFacts[]> {
  const facts: BlockDeviceFacts[] = [];
  for (const name of await fs.readDir(KERNEL_PATHS.sysClassBlock)) {
    const dir = `${KERNEL_PATHS.sysClassBlock}/${name}`;
    try {
      facts.push({ name, uevent: await fs.readText(`${dir}/uevent`), sysPath: await fs.realPath(dir) });
    } catch {
      // A device that vanished while listing is not the one we look for.
    }
  }
  return facts;
}

/** The partition named `partName`; throws `code` when there is none. Extra matches are reported through `onDuplicate`. */
export async function findPartition(
  fs: FileSystem,
  partName: string,
  code: ErrorCode,
  onDuplicate: (all: PartitionLocation[]) => void = () => undefined,
): Promise<PartitionLocation> {
  const found = findPartitionsByName(await listBlockDevices(fs), partName);
  const first = found[0];
  if (!first) {
    throw new BerthError(code, `No partition named "${partName}" found in ${KERNEL_PATHS.sysClassBlock}: is the berth disk attached?`);
  }
  if (found.length > 1) onDuplicate(found);
  return first;
}

/** A sysfs size attribute in 512-byte sectors. */
export async function readSectors(fs: FileSystem, path: string): Promise<number> {
  const value = Number((await fs.readText(path)).trim());
  if (!Number.isSafeInteger(value)) throw new BerthError('INIT_DATA_PARTITION', `Cannot read a sector count from ${path}`);
  return value;
}
