/**
 * Mounting and unmounting through util-linux mount/umount (Node has no mount(2)),
 * skipping targets that already have something mounted (/proc/self/mountinfo).
 */
import { BerthError, describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { canMountTogether, fstabText, mountAllArgv, mountArgv, pendingMounts, remountReadOnlyArgv, umountArgv, type MountSpec } from './core/mount-plan.ts';
import { PATHS } from '../../lib/layout.ts';
import { parseMountInfo, type MountInfoEntry } from './core/mountinfo.ts';
import { KERNEL_PATHS, TOOLS } from './core/tools.ts';
import type { Sys } from './sys/types.ts';

const MOUNT_TIMEOUT_MS = 60_000;

/** What is mounted now; empty when /proc is not mounted yet. */
export async function readMountInfo(sys: Pick<Sys, 'fs'>): Promise<MountInfoEntry[]> {
  try {
    return parseMountInfo(await sys.fs.readText(KERNEL_PATHS.mountInfo));
  } catch {
    return [];
  }
}

/**
 * Mounts each spec in order unless its target is already a mount point. Throws INIT_MOUNT_FAILED.
 * Several pending mounts go to one `mount --all` first: under TCG each process start costs
 * 0.1–0.2 s. Berth's initramfs mounts the API filesystems itself, so at a boot this runs only
 * for those its mounts failed on (or after another initramfs). Whatever that leaves unmounted
 * is mounted one at a time after it, so a failure is reported for its own mount.
 */
export async function applyMounts(sys: Pick<Sys, 'fs' | 'exec'>, logger: Logger, specs: readonly MountSpec[]): Promise<void> {
  const mounted = await readMountInfo(sys);
  const pending = pendingMounts(specs, mounted);
  if (canMountTogether(pending, mounted)) await mountTogether(sys, logger, pending);
  for (const spec of specs) {
    // Re-read each time: mounting /proc makes mountinfo appear, and the initramfs may have moved mounts over.
    if (pendingMounts([spec], await readMountInfo(sys)).length === 0) {
      logger.debug('Already mounted', { target: spec.target });
      continue;
    }
    await mountOne(sys, logger, spec);
  }
}

/** One `mount --all` of `pending` through an fstab in /run/berth (left there: the last batch, on tmpfs); never throws (applyMounts mounts what is left one by one). */
async function mountTogether(sys: Pick<Sys, 'fs' | 'exec'>, logger: Logger, pending: readonly MountSpec[]): Promise<void> {
  const fstab = `${PATHS.runDir}/mounts.fstab`;
  try {
    for (const spec of pending) if (spec.createTarget && !(await sys.fs.exists(spec.target))) await sys.fs.makeDir(spec.target, 0o755);
    await sys.fs.makeDir(PATHS.runDir, 0o755);
    await sys.fs.writeText(fstab, fstabText(pending));
    await sys.exec.run(TOOLS.mount, mountAllArgv(fstab), { timeoutMs: MOUNT_TIMEOUT_MS });
  } catch (error) {
    logger.debug('mount --all left mounts to mount one by one', { error: describeError(error) });
  }
  const mounted = await readMountInfo(sys);
  for (const spec of pending) if (pendingMounts([spec], mounted).length === 0) logger.info('Mounted', { target: spec.target, fs: spec.fsType, source: spec.source });
}

export async function mountOne(sys: Pick<Sys, 'fs' | 'exec'>, logger: Logger, spec: MountSpec): Promise<void> {
  try {
    if (spec.createTarget && !(await sys.fs.exists(spec.target))) await sys.fs.makeDir(spec.target, 0o755);
    await sys.exec.run(TOOLS.mount, mountArgv(spec), { timeoutMs: MOUNT_TIMEOUT_MS });
  } catch (error) {
    throw new BerthError('INIT_MOUNT_FAILED', `Cannot mount ${spec.fsType} ${spec.source} at ${spec.target}: ${describeError(error)}`, {
      cause: error,
    });
  }
  logger.info('Mounted', { target: spec.target, fs: spec.fsType, source: spec.source });
}

export type UnmountResult = 'unmounted' | 'remounted-ro' | 'detached' | 'failed';

/** umount; when busy, remount read-only or detach lazily as asked. Never throws. */
export async function unmountWithFallback(
  sys: Pick<Sys, 'exec'>,
  logger: Logger,
  target: string,
  onBusy: 'remount-ro' | 'lazy',
): Promise<UnmountResult> {
  try {
    await sys.exec.run(TOOLS.umount, umountArgv(target), { timeoutMs: MOUNT_TIMEOUT_MS });
    logger.info('Unmounted', { target });
    return 'unmounted';
  } catch (error) {
    logger.warn('Cannot unmount', { target, error: describeError(error), fallback: onBusy });
  }
  try {
    if (onBusy === 'remount-ro') {
      await sys.exec.run(TOOLS.mount, remountReadOnlyArgv(target), { timeoutMs: MOUNT_TIMEOUT_MS });
      logger.info('Remounted read-only', { target });
      return 'remounted-ro';
    }
    await sys.exec.run(TOOLS.umount, umountArgv(target, true), { timeoutMs: MOUNT_TIMEOUT_MS });
    logger.info('Detached', { target });
    return 'detached';
  } catch (error) {
    logger.error('Cannot release mount', { target, error: describeError(error) });
    return 'failed';
  }
}
