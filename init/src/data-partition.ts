/**
 * The data partition at /var: gathers the facts (sysfs sizes, the ext4 superblock; blkid and
 * dumpe2fs when that is not berth's clean ext4), runs
 * the plan of core/data-partition.ts (first-boot mkfs, fsck, growing) and mounts it.
 */
import { BerthError, describeError, isBerthError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { PARTITION_LABELS } from '../../lib/layout.ts';
import type { PartitionLocation } from './core/block-devices.ts';
import {
  blkidTypeArgv,
  dumpe2fsArgv,
  fsckRepairArgv,
  fsckVerdict,
  parseBlkidType,
  parseDumpe2fsSize,
  planDataPartition,
  type DataExecPurpose,
  type DataPartitionFacts,
  type DataPlan,
  type DataStep,
} from './core/data-partition.ts';
import { EXT4_SUPERBLOCK_BYTES, EXT4_SUPERBLOCK_OFFSET, readExt4Superblock, type Ext4SuperblockRead } from './core/ext4-superblock.ts';
import { KERNEL_PATHS, TOOLS } from './core/tools.ts';
import { findPartition, readSectors } from './block-devices.ts';
import { mountOne, readMountInfo } from './mounts.ts';
import { isMountedAt } from './core/mountinfo.ts';
import type { Sys } from './sys/types.ts';

const ALL_EXIT_CODES = Array.from({ length: 256 }, (_, i) => i);
const TOOL_TIMEOUT_MS = 10 * 60_000;

export async function gatherDataFacts(sys: Pick<Sys, 'fs' | 'exec' | 'clock'>, logger: Logger): Promise<DataPartitionFacts> {
  const partition = await findPartition(sys.fs, PARTITION_LABELS.data, 'INIT_DATA_PARTITION', (all) =>
    logger.warn('Several data partitions found, using the first', { devices: all.map((p) => p.device).join(',') }),
  );
  const block = KERNEL_PATHS.sysClassBlock;
  const [partitionStart, partitionSectors, diskSectors, superblock] = await Promise.all([
    readSectors(sys.fs, `${block}/${partition.name}/start`),
    readSectors(sys.fs, `${block}/${partition.name}/size`),
    readSectors(sys.fs, `${block}/${partition.diskName}/size`),
    sys.fs.readBytes(partition.device, EXT4_SUPERBLOCK_OFFSET, EXT4_SUPERBLOCK_BYTES).then(
      (bytes) => readExt4Superblock(bytes, Math.floor(sys.clock.now().getTime() / 1000)),
      (error: unknown): Ext4SuperblockRead => ({ kind: 'unknown', why: describeError(error) }),
    ),
  ]);
  const facts: DataPartitionFacts = { partition, fsType: undefined, partitionStart, partitionSectors, diskSectors };
  if (superblock.kind === 'ext4') {
    // berth's own ext4, read directly: no blkid, no dumpe2fs, and no e2fsck when it is clean.
    facts.fsType = 'ext4';
    facts.filesystemBytes = superblock.superblock.sizeBytes;
    facts.isKnownClean = superblock.superblock.fsckReason === undefined;
    if (superblock.superblock.fsckReason !== undefined) logger.info('Data filesystem needs a check', { device: partition.device, reason: superblock.superblock.fsckReason });
    return facts;
  }
  // Blank, another filesystem, or an ext4 superblock init does not trust: the tools decide.
  // dumpe2fs runs beside blkid (two process starts at once, not one after the other: each costs
  // 0.1-0.2 s under TCG); it only reads, and what it says counts only when blkid finds ext4.
  const [blkid, dump] = await Promise.all([
    sys.exec.run(TOOLS.blkid, blkidTypeArgv(partition.device), { okExitCodes: [0, 2], timeoutMs: 30_000 }),
    sys.exec.run(TOOLS.dumpe2fs, dumpe2fsArgv(partition.device), { timeoutMs: 30_000 }).then(
      (result) => ({ stdout: result.stdout }),
      (error: unknown) => ({ error }),
    ),
  ]);
  facts.fsType = parseBlkidType(blkid.exitCode, blkid.stdout);
  if (facts.fsType === 'ext4') {
    logger.info('Data filesystem superblock left to the tools', { device: partition.device, reason: superblock.why });
    if ('error' in dump) {
      logger.warn('Cannot read data filesystem size', { device: partition.device, error: describeError(dump.error) });
    } else {
      const bytes = parseDumpe2fsSize(dump.stdout);
      if (bytes !== undefined) facts.filesystemBytes = bytes;
    }
  }
  return facts;
}

async function runFsck(sys: Pick<Sys, 'exec'>, logger: Logger, step: Extract<DataStep, { kind: 'fsck' }>, device: string): Promise<void> {
  const first = await sys.exec.run(step.file, step.args, { okExitCodes: ALL_EXIT_CODES, timeoutMs: TOOL_TIMEOUT_MS });
  let verdict = fsckVerdict(first.exitCode);
  logger.info('Data filesystem checked', { device, exit_code: first.exitCode, verdict });
  if (verdict === 'needs-repair') {
    logger.warn('Data filesystem has errors e2fsck -p left, repairing', { device });
    const repair = await sys.exec.run(step.file, fsckRepairArgv(device), { okExitCodes: ALL_EXIT_CODES, timeoutMs: TOOL_TIMEOUT_MS });
    verdict = fsckVerdict(repair.exitCode);
    logger.info('Data filesystem repaired', { device, exit_code: repair.exitCode, verdict });
  }
  if (verdict === 'needs-repair' || verdict === 'failed') {
    throw new BerthError('INIT_DATA_PARTITION', `e2fsck cannot repair the data filesystem on ${device} (verdict ${verdict}): ${first.stderr.trim().slice(-500)}`);
  }
}

/** Growing is an improvement, not a condition: a failure leaves the data partition at its old size. */
const GROWTH_STEPS: readonly DataExecPurpose[] = ['relocate-gpt', 'grow-partition', 'reread-partition', 'resize-fs'];

/** Runs a data plan step by step. */
export async function runDataPlan(sys: Pick<Sys, 'fs' | 'exec'>, logger: Logger, plan: Extract<DataPlan, { steps: DataStep[] }>, partition: PartitionLocation): Promise<void> {
  let growthFailed = false;
  for (const step of plan.steps) {
    if (step.kind === 'fsck') {
      await runFsck(sys, logger, step, partition.device);
    } else if (step.kind === 'mount') {
      if (isMountedAt(await readMountInfo(sys), step.spec.target)) continue;
      try {
        await mountOne(sys, logger, step.spec);
      } catch (error) {
        if (step.fsckOnFailure === undefined) throw error;
        // The superblock said clean, yet the kernel refused it: what e2fsck -p would have run first.
        logger.warn('Data filesystem not mounted, checking it', { device: partition.device, error: describeError(error) });
        await runFsck(sys, logger, step.fsckOnFailure, partition.device);
        await mountOne(sys, logger, step.spec);
      }
    } else {
      const isGrowth = GROWTH_STEPS.includes(step.purpose);
      if (isGrowth && growthFailed) continue;
      try {
        await sys.exec.run(step.file, step.args, { timeoutMs: TOOL_TIMEOUT_MS, ...(step.input === undefined ? {} : { input: step.input }) });
      } catch (error) {
        if (isGrowth) {
          growthFailed = true;
          logger.warn('Data partition not grown', { step: step.purpose, device: partition.device, error: describeError(error) });
          continue;
        }
        throw new BerthError('INIT_DATA_PARTITION', `Data partition step ${step.purpose} failed on ${partition.device}: ${describeError(error)}`, { cause: error });
      }
      logger.info('Data partition step done', { step: step.purpose, device: partition.device });
    }
  }
}

/** Finds, checks, creates or grows the data partition and mounts it at /var. */
export async function prepareDataPartition(sys: Pick<Sys, 'fs' | 'exec' | 'clock'>, logger: Logger): Promise<{ device: string; plan: DataPlan['kind'] }> {
  let facts: DataPartitionFacts;
  try {
    facts = await gatherDataFacts(sys, logger);
  } catch (error) {
    if (isBerthError(error, 'INIT_DATA_PARTITION')) throw error;
    throw new BerthError('INIT_DATA_PARTITION', `Cannot inspect the data partition: ${describeError(error)}`, { cause: error });
  }
  const plan = planDataPartition(facts);
  if (plan.kind === 'refuse') throw new BerthError('INIT_DATA_PARTITION', plan.reason);
  logger.info('Data partition', {
    device: facts.partition.device,
    disk: facts.partition.disk,
    plan: plan.kind,
    fs: facts.fsType ?? 'none',
    grow: plan.grow,
  });
  await runDataPlan(sys, logger, plan, facts.partition);
  return { device: facts.partition.device, plan: plan.kind };
}
