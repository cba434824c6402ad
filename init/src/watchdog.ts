/**
 * The hardware watchdog: once the modules stage has loaded its driver (i6300esb under
 * QEMU, in INIT_KERNEL_MODULES; elsewhere the module finds no device), keeps
 * /dev/watchdog0 fed from the event loop. If init hangs, the machine resets, and a boot that never becomes
 * healthy falls back through systemd-boot's counter. It is never closed: a shutdown
 * that hangs is reset too. Effects: modprobe, the watchdog device, a timer.
 */
import { open } from 'node:fs/promises';
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import type { Sys } from './sys/types.ts';

export const WATCHDOG_DEVICE = '/dev/watchdog0';
/** How long to wait for the device to appear after init starts. */
export const WATCHDOG_WAIT_MS = 60_000;
/** Well inside the driver's default 30 s heartbeat. */
export const WATCHDOG_PING_MS = 5000;

/** Starts feeding the watchdog; resolves false (with a logged note) when the machine has none. */
export async function startWatchdog(sys: Pick<Sys, 'fs' | 'clock'>, logger: Logger): Promise<boolean> {
  // The device node appears when the driver binds (devtmpfs), during the modules stage.
  const deadline = sys.clock.monotonicMs() + WATCHDOG_WAIT_MS;
  while (!(await sys.fs.exists(WATCHDOG_DEVICE).catch(() => false)) && sys.clock.monotonicMs() < deadline) await sys.clock.sleep(500);
  if (!(await sys.fs.exists(WATCHDOG_DEVICE).catch(() => false))) {
    logger.info('No hardware watchdog: a hung boot is only caught by panic=10', { device: WATCHDOG_DEVICE });
    return false;
  }
  try {
    const handle = await open(WATCHDOG_DEVICE, 'w');
    let writing = false;
    setInterval(() => {
      if (writing) return;
      writing = true;
      handle.write('k').then(
        () => (writing = false),
        (error: unknown) => {
          writing = false;
          logger.warn('Watchdog ping failed', { error: describeError(error) });
        },
      );
    }, WATCHDOG_PING_MS);
    await handle.write('k');
    logger.info('Watchdog armed', { device: WATCHDOG_DEVICE, ping_ms: WATCHDOG_PING_MS });
    return true;
  } catch (error) {
    logger.warn('Watchdog not armed', { device: WATCHDOG_DEVICE, error: describeError(error) });
    return false;
  }
}
