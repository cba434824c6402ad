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
import { TOOLS } from './core/tools.ts';
import { findPartition } from './block-devices.ts';
import { mountOne, readMountInfo, unmountWithFallback } from './mounts.ts';
import type { Sys } from './sys/types.ts';

export async function blessBootEntry(sys: Pick<Sys, 'fs' | 'exec'>, logger: Logger, slot: Slot): Promise<BlessAction> {
  const esp = await findPartition(sys.fs, PARTITION_LABELS.esp, 'INIT_BLESS_FAILED');
  // Use the ESP where it is already mounted (a second mount with other options fails).
  const existing = (await readMountInfo(sys)).find((entry) => entry.source === esp.device);
  let mountPoint = existing?.target;
  if (mountPoint === undefined) {
    const spec = espMount(esp.device, await sys.fs.exists(PATHS.espMount));
    if (spec.target !== PATHS.espMount) logger.warn('Root has no ESP mount point, using fallback', { wanted: PATHS.espMount, used: spec.target });
    await mountOne(sys, logger, spec);
    mountPoint = spec.target;
  }
  const wasMounted = existing !== undefined;
  try {
    const entriesDir = `${mountPoint}/${ESP_PATHS.entriesDir}`;
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
    if (!wasMounted) await unmountWithFallback(sys, logger, mountPoint, 'lazy');
  }
}
