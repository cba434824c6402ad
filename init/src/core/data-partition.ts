/**
 * The data partition's life as a pure planner: facts in (what blkid found, where the
 * partition ends, how large the disk is), steps out. First boot: grow the partition
 * to the end of the disk and make the ext4 filesystem. Later boots: check it, grow
 * partition and filesystem when the disk got bigger, mount it at /var.
 */
import { DATA_FILESYSTEM_LABEL } from '../../../lib/layout.ts';
import type { PartitionLocation } from './block-devices.ts';
import { varMount, type MountSpec } from './mount-plan.ts';
import { TOOLS } from './tools.ts';

/** What init learned about the data partition before touching it. Sizes in 512-byte sectors (sysfs units). */
export interface DataPartitionFacts {
  partition: PartitionLocation;
  /** Filesystem type blkid found; undefined when the partition is blank. */
  fsType: string | undefined;
  partitionStart: number;
  partitionSectors: number;
  diskSectors: number;
  /** Size of the existing ext4 filesystem in bytes (the superblock), when known. */
  filesystemBytes?: number;
  /**
   * True when init read the ext4 superblock itself and `e2fsck -p` would find nothing to do
   * (core/ext4-superblock.ts): the check is skipped, and runs only if the mount then fails.
   */
  isKnownClean?: boolean;
}

export type DataExecPurpose = 'relocate-gpt' | 'grow-partition' | 'reread-partition' | 'mkfs' | 'resize-fs';

/** e2fsck -p; its exit code is judged by fsckVerdict(). */
export interface FsckStep {
  kind: 'fsck';
  file: string;
  args: string[];
}

export type DataStep =
  | FsckStep
  | { kind: 'exec'; purpose: DataExecPurpose; file: string; args: string[]; input?: string }
  /** With `fsckOnFailure`: a mount that fails runs that check, then mounts once more. */
  | { kind: 'mount'; spec: MountSpec; fsckOnFailure?: FsckStep };

export type DataPlan =
  | { kind: 'first-boot' | 'existing'; steps: DataStep[]; grow: boolean }
  | { kind: 'refuse'; reason: string };

/** The backup GPT occupies the last 33 sectors (header + 32 sectors of entries). */
export const GPT_BACKUP_SECTORS = 33;
/** Grow only when at least this much is free behind the partition (sfdisk aligns to 1 MiB, so less never changes). */
export const GROW_THRESHOLD_SECTORS = 4096;
/** Resize the filesystem when it is this much smaller than its partition. */
export const RESIZE_THRESHOLD_BYTES = 8 * 1024 * 1024;

/** Sectors free between the end of the partition and the backup GPT. */
export function freeSectorsAfter(facts: Pick<DataPartitionFacts, 'partitionStart' | 'partitionSectors' | 'diskSectors'>): number {
  return facts.diskSectors - GPT_BACKUP_SECTORS - (facts.partitionStart + facts.partitionSectors);
}

/** Partition-growing steps: move the backup GPT to the (new) end of the disk, enlarge, tell the kernel. */
export function growPartitionSteps(partition: PartitionLocation): DataStep[] {
  const n = String(partition.number);
  return [
    { kind: 'exec', purpose: 'relocate-gpt', file: TOOLS.sfdisk, args: ['--relocate', 'gpt-bak-std', partition.disk] },
    // --no-reread: skip the in-use check (the root slot is open from this disk). sfdisk's own
    // re-read of the table then fails with EBUSY, which it ignores; partx updates the one partition.
    { kind: 'exec', purpose: 'grow-partition', file: TOOLS.sfdisk, args: ['--no-reread', '-N', n, partition.disk], input: ', +\n' },
    { kind: 'exec', purpose: 'reread-partition', file: TOOLS.partx, args: ['-u', '--nr', n, partition.disk] },
  ];
}

/** Plans the data partition's boot steps from the facts. */
export function planDataPartition(facts: DataPartitionFacts): DataPlan {
  const device = facts.partition.device;
  const grow = freeSectorsAfter(facts) >= GROW_THRESHOLD_SECTORS;
  const growSteps = grow ? growPartitionSteps(facts.partition) : [];
  const mount: DataStep = { kind: 'mount', spec: varMount(device) };
  if (facts.fsType === undefined) {
    return {
      kind: 'first-boot',
      grow,
      steps: [
        ...growSteps,
        { kind: 'exec', purpose: 'mkfs', file: TOOLS.mkfsExt4, args: ['-q', '-L', DATA_FILESYSTEM_LABEL, device] },
        mount,
      ],
    };
  }
  if (facts.fsType !== 'ext4') {
    return {
      kind: 'refuse',
      reason: `Data partition ${device} holds a ${facts.fsType} filesystem, not ext4: refusing to format it; wipe it (wipefs -a ${device}) to let berth create its data filesystem`,
    };
  }
  const partitionBytes = facts.partitionSectors * 512;
  const fsTooSmall =
    facts.filesystemBytes !== undefined && partitionBytes - facts.filesystemBytes >= RESIZE_THRESHOLD_BYTES;
  const fsck: FsckStep = { kind: 'fsck', file: TOOLS.e2fsck, args: ['-p', device] };
  const steps: DataStep[] = facts.isKnownClean === true ? [...growSteps, { ...mount, fsckOnFailure: fsck }] : [fsck, ...growSteps, mount];
  // Online resize after mounting: offline resize2fs insists on a fresh `e2fsck -f` first.
  if (grow || fsTooSmall) steps.push({ kind: 'exec', purpose: 'resize-fs', file: TOOLS.resize2fs, args: [device] });
  return { kind: 'existing', grow, steps };
}

export type FsckVerdict = 'clean' | 'repaired' | 'needs-repair' | 'failed';

/**
 * Judges an e2fsck exit code (a bit mask): 0 clean; 1 errors corrected; 2 corrected,
 * reboot advised (matters only for a mounted root, /var is not mounted yet);
 * 4 errors left uncorrected (-p refused, a forced -y run may fix them); 8 and up:
 * operational error.
 */
export function fsckVerdict(exitCode: number): FsckVerdict {
  if (exitCode === 0) return 'clean';
  if (exitCode >= 8) return 'failed';
  if (exitCode & 4) return 'needs-repair';
  return 'repaired';
}

/** The forced repair run after `e2fsck -p` left errors. */
export function fsckRepairArgv(device: string): string[] {
  return ['-f', '-y', device];
}

/** blkid argv: low-level probe of the filesystem type; exit 2 means nothing found. */
export function blkidTypeArgv(device: string): string[] {
  return ['-p', '-o', 'value', '-s', 'TYPE', device];
}

/** The filesystem type from blkid's answer; undefined for a blank partition. */
export function parseBlkidType(exitCode: number, stdout: string): string | undefined {
  if (exitCode !== 0) return undefined;
  const type = stdout.trim();
  return type === '' ? undefined : type;
}

/** dumpe2fs argv for the superblock only. */
export function dumpe2fsArgv(device: string): string[] {
  return ['-h', device];
}

/** Filesystem size in bytes from `dumpe2fs -h` output. */
export function parseDumpe2fsSize(stdout: string): number | undefined {
  const blocks = /^Block count:\s+(\d+)/m.exec(stdout)?.[1];
  const size = /^Block size:\s+(\d+)/m.exec(stdout)?.[1];
  if (blocks === undefined || size === undefined) return undefined;
  return Number(blocks) * Number(size);
}
