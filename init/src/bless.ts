/**
 * The ESP while blessing or updating: `withEsp` mounts it at /efi (or uses it where it is
 * already mounted) for the duration of one job, one job at a time, and unmounts it
 * afterwards; `blessBootEntry` renames the booted slot's counted entry to its blessed
 * name with the updater's planner (updater/src/core/slots.ts planBless, the one owner
 * of entry naming). Until then systemd-boot counts the boot down and falls back to the
 * other slot at zero.
 */
import { BerthError, describeError, type ErrorCode } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { ESP_PATHS, PARTITION_LABELS, PATHS, type Slot } from '../../lib/layout.ts';
import { type EntryRename, planBless } from '../../updater/src/host.ts';
import { espMount } from './core/mount-plan.ts';
import { TOOLS } from './core/tools.ts';
import { findPartition } from './block-devices.ts';
import { mountOne, readMountInfo, unmountWithFallback } from './mounts.ts';
import type { Sys } from './sys/types.ts';

/** One ESP job at a time: a bless must not unmount the ESP under the updater's writes. */
let espQueue: Promise<unknown> = Promise.resolve();

/** Runs `use` with the ESP mounted; its root is passed in. Errors carry `code`. */
export function withEsp<T>(sys: Pick<Sys, 'fs' | 'exec'>, logger: Logger, use: (espRoot: string) => Promise<T>, code: ErrorCode = 'INIT_ESP_FAILED'): Promise<T> {
  const run = async (): Promise<T> => {
    const esp = await findPartition(sys.fs, PARTITION_LABELS.esp, code);
    // Use the ESP where it is already mounted (a second mount with other options fails).
    const existing = (await readMountInfo(sys)).find((entry) => entry.source === esp.device);
    let mountPoint = existing?.target;
    if (mountPoint === undefined) {
      const spec = espMount(esp.device, await sys.fs.exists(PATHS.espMount));
      if (spec.target !== PATHS.espMount) logger.warn('Root has no ESP mount point, using fallback', { wanted: PATHS.espMount, used: spec.target });
      await mountOne(sys, logger, spec);
      mountPoint = spec.target;
    }
    try {
      return await use(mountPoint);
    } finally {
      if (existing === undefined) await unmountWithFallback(sys, logger, mountPoint, 'lazy');
    }
  };
  const result = espQueue.then(run, run);
  espQueue = result.catch(() => undefined);
  return result;
}

export type BlessAction = { kind: 'rename'; from: string; to: string } | { kind: 'none'; reason: 'already-blessed' };

export async function blessBootEntry(sys: Pick<Sys, 'fs' | 'exec'>, logger: Logger, slot: Slot): Promise<BlessAction> {
  try {
    return await withEsp(
      sys,
      logger,
      async (mountPoint) => {
        const entriesDir = `${mountPoint}/${ESP_PATHS.entriesDir}`;
        const renames: EntryRename[] = planBless(await sys.fs.readDir(entriesDir), slot);
        const rename = renames[0];
        if (rename === undefined) {
          logger.info('Boot entry not renamed', { slot, reason: 'already-blessed' });
          return { kind: 'none', reason: 'already-blessed' } as const;
        }
        await sys.fs.rename(`${mountPoint}/${rename.from}`, `${mountPoint}/${rename.to}`);
        await sys.fs.syncDir(entriesDir);
        await sys.exec.run(TOOLS.sync, [], { timeoutMs: 60_000 });
        const action = { kind: 'rename', from: rename.from.slice(ESP_PATHS.entriesDir.length + 1), to: rename.to.slice(ESP_PATHS.entriesDir.length + 1) } as const;
        logger.info('Boot entry blessed', { slot, from: action.from, to: action.to });
        return action;
      },
      'INIT_BLESS_FAILED',
    );
  } catch (error) {
    throw new BerthError('INIT_BLESS_FAILED', `Cannot bless the boot entry of slot ${slot}: ${describeError(error)}`, { cause: error });
  }
}
