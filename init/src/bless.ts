/**
 * Blesses this slot's boot entry after a healthy boot: mounts the ESP at /efi, renames
 * the counted entry to its blessed name (core/bless.ts), fsyncs, unmounts. Until then
 * systemd-boot counts the boot down and falls back to the other slot at zero.
 */
import { BerthError, describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { ESP_PATHS, PARTITION_LABELS, PATHS, type Slot } from '../../lib/layout.ts';
import { chooseBlessAction, type BlessAction } from './core/bless.ts';
import { espMount } from './core/mount-plan.ts';
import { isMountedAt } from './core/mountinfo.ts';
import { TOOLS } from './core/tools.ts';
import { findPartition } from './block-devices.ts';
import { mountOne, readMountInfo, unmountWithFallback } from './mounts.ts';
import type { Sys } from './sys/types.ts';

export async function blessBootEntry(sys: Pick<Sys, 'fs' | 'exec'>, logger: Logger, slot: Slot): Promise<BlessAction> {
  const wasMounted = isMountedAt(await readMountInfo(sys), PATHS.espMount);
  if (!wasMounted) {
    const esp = await findPartition(sys.fs, PARTITION_LABELS.esp, 'INIT_BLESS_FAILED');
    await mountOne(sys, logger, espMount(esp.device));
  }
  try {
    const entriesDir = `${PATHS.espMount}/${ESP_PATHS.entriesDir}`;
    const action = chooseBlessAction(await sys.fs.readDir(entriesDir), slot);
    if (action.kind === 'rename') {
      await sys.fs.rename(`${entriesDir}/${action.from}`, `${entriesDir}/${action.to}`);
      await sys.fs.syncDir(entriesDir);
      await sys.exec.run(TOOLS.sync, [], { timeoutMs: 60_000 });
      logger.info('Boot entry blessed', { slot, from: action.from, to: action.to });
    } else {
      logger.info('Boot entry not renamed', { slot, reason: action.reason });
    }
    return action;
  } catch (error) {
    throw new BerthError('INIT_BLESS_FAILED', `Cannot bless the boot entry of slot ${slot}: ${describeError(error)}`, { cause: error });
  } finally {
    if (!wasMounted) await unmountWithFallback(sys, logger, PATHS.espMount, 'lazy');
  }
}
