/**
 * The hardware watchdog: once the modules stage has loaded its driver (i6300esb under
 * QEMU, in INIT_KERNEL_MODULES; elsewhere the module finds no device), keeps
 * /dev/watchdog0 fed from the event loop. If init hangs, the machine resets, and a boot that never becomes
 * healthy falls back through systemd-boot's counter. It is never closed: a shutdown
 * that hangs is reset too. Effects: modprobe, the watchdog device, a timer.
 *
 * The pings are synchronous writes from the timer: what the watchdog must prove is that init's
 * event loop turns, not that libuv's thread pool has a free thread. An async write queued behind
 * slow fs work (fsyncs of a staged update on a starved disk, the power button's blocking reads)
 * missed the 30 s heartbeat in the three-VM fleet test and reset a healthy host. Writing one byte
 * to a watchdog device only touches the device's register; it does not block.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import type { Sys } from './sys/types.ts';

export const WATCHDOG_DEVICE = '/dev/watchdog0';
/** How long to wait for the device to appear after init starts. */
export const WATCHDOG_WAIT_MS = 60_000;
/** Well inside the driver's default 30 s heartbeat. */
export const WATCHDOG_PING_MS = 5000;

/** Starts feeding the watchdog; resolves false (with a logged note) when the machine has none. */
export async function startWatchdog(sys: { fs: Pick<Sys['fs'], 'exists'>; clock: Pick<Sys['clock'], 'monotonicMs' | 'sleep'> }, logger: Logger, device = WATCHDOG_DEVICE, pingMs = WATCHDOG_PING_MS): Promise<boolean> {
  // The device node appears when the driver binds (devtmpfs), during the modules stage.
  const deadline = sys.clock.monotonicMs() + WATCHDOG_WAIT_MS;
  while (!(await sys.fs.exists(device).catch(() => false)) && sys.clock.monotonicMs() < deadline) await sys.clock.sleep(500);
  if (!(await sys.fs.exists(device).catch(() => false))) {
    logger.info('No hardware watchdog: a hung boot is only caught by panic=10', { device });
    return false;
  }
  let fd: number | undefined;
  try {
    fd = openSync(device, 'w');
    writeSync(fd, 'k');
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    logger.warn('Watchdog not armed', { device, error: describeError(error) });
    return false;
  }
  let failing = false;
  const deviceFd = fd;
  setInterval(() => {
    try {
      writeSync(deviceFd, 'k');
      failing = false;
    } catch (error) {
      // Logged once per run of failures: the timer keeps trying, and a reset is what follows if it never recovers.
      if (!failing) logger.warn('Watchdog ping failed', { error: describeError(error) });
      failing = true;
    }
  }, pingMs).unref(); // init keeps itself alive; a test process must be able to end
  logger.info('Watchdog armed', { device, ping_ms: pingMs });
  return true;
}
