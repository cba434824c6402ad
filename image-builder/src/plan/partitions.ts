/**
 * The GPT layout of a berth disk as pure data: ESP, root-a, root-b (equal size) and
 * data, 1 MiB aligned, plus the sfdisk script that writes it. Partition UUIDs derive
 * from a seed so that the same inputs give the same disk.
 */
import { createHash } from 'node:crypto';
import { PARTITION_LABELS, PARTITION_TYPES } from '../../../lib/layout.ts';

export const SECTOR = 512;
const MIB = 1024 * 1024;
/** GPT backup header and table at the end of the disk. */
const GPT_TAIL_BYTES = MIB;

export interface PartitionSizes {
  esp: number;
  root: number;
  data: number;
}

export interface PlannedPartition {
  index: number;
  label: string;
  typeGuid: string;
  uuid: string;
  startBytes: number;
  sizeBytes: number;
}

export interface DiskPlan {
  diskUuid: string;
  sizeBytes: number;
  partitions: PlannedPartition[];
}

/** A name-based UUID (RFC 4122 version 5 layout over sha256) so builds are reproducible. */
export function stableUuid(seed: string, name: string): string {
  const bytes = createHash('sha256').update(`${seed}\0${name}`).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`.toUpperCase();
}

function alignUp(bytes: number): number {
  return Math.ceil(bytes / MIB) * MIB;
}

export function planDisk(sizes: PartitionSizes, seed: string): DiskPlan {
  const layout: Array<[string, string, number]> = [
    [PARTITION_LABELS.esp, PARTITION_TYPES.esp, sizes.esp],
    [PARTITION_LABELS.rootA, PARTITION_TYPES.rootX86_64, sizes.root],
    [PARTITION_LABELS.rootB, PARTITION_TYPES.rootX86_64, sizes.root],
    [PARTITION_LABELS.data, PARTITION_TYPES.var, sizes.data],
  ];
  let offset = MIB;
  const partitions = layout.map(([label, typeGuid, size], i) => {
    const part = { index: i + 1, label, typeGuid, uuid: stableUuid(seed, label), startBytes: offset, sizeBytes: alignUp(size) };
    offset += part.sizeBytes;
    return part;
  });
  return { diskUuid: stableUuid(seed, 'disk'), sizeBytes: offset + GPT_TAIL_BYTES, partitions };
}

/** The sfdisk input that creates the plan's table on a disk image file. */
export function renderSfdiskScript(plan: DiskPlan): string {
  const lines = ['label: gpt', `label-id: ${plan.diskUuid}`, 'unit: sectors', 'first-lba: 2048', ''];
  for (const p of plan.partitions) {
    lines.push(
      `start=${p.startBytes / SECTOR}, size=${p.sizeBytes / SECTOR}, type=${p.typeGuid}, uuid=${p.uuid}, name="${p.label}"`,
    );
  }
  return `${lines.join('\n')}\n`;
}
