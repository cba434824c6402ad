/**
 * Host settings from the machine config, applied at boot: kernel modules (modprobe),
 * sysctls (/proc/sys), the time zone (/etc/localtime and /etc/timezone on the /etc
 * overlay), and time sync (chronyd under supervision, only with NTP servers). Each
 * setting that fails is a warning; the boot goes on. Effects: exec, files, processes.
 */
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { CHRONY_CONFIG_PATH, CHRONY_STATE_DIR, CHRONY_USER, chronydArgv, lookupUser, renderChronyConfig } from './core/chrony.ts';
import { planSysctls, planTimeZone, TIMEZONE_PATH } from './core/host-settings.ts';
import type { MachineConfig } from './core/machine-config.ts';
import { loadKernelModules } from './kernel-modules.ts';
import { superviseDaemon, type Daemon } from './supervisor.ts';
import type { Sys } from './sys/types.ts';
import { PATHS } from '../../lib/layout.ts';

/** Loads `kernel_modules` and writes `sysctls`; returns how many settings failed. */
export async function applyKernelSettings(sys: Pick<Sys, 'exec' | 'fs'>, logger: Logger, config: MachineConfig): Promise<number> {
  let failures = 0;
  if (config.kernel_modules.length > 0) {
    const failed = await loadKernelModules(sys, logger, config.kernel_modules);
    failures += failed.length;
    logger.info('Kernel modules loaded', { modules: config.kernel_modules.filter((m) => !failed.includes(m)).join(',') });
  }
  for (const { key, path, value } of planSysctls(config.sysctls)) {
    try {
      await sys.fs.writeText(path, value);
      logger.info('Sysctl set', { key, value });
    } catch (error) {
      failures++;
      logger.warn('Sysctl not set', { key, value, error: describeError(error) });
    }
  }
  return failures;
}

/** Points /etc/localtime at the zone's file (skipped, with a warning, when the image lacks it). */
export async function applyTimeZone(fs: Sys['fs'], logger: Logger, zone: string): Promise<void> {
  const plan = planTimeZone(zone);
  if (!(await fs.exists(plan.zoneFile))) {
    logger.warn('Time zone not set: no zone file in the image', { time_zone: zone, path: plan.zoneFile });
    return;
  }
  await fs.symlink(plan.target, plan.link);
  await fs.writeAtomic(TIMEZONE_PATH, plan.timezoneFile);
  logger.info('Time zone set', { time_zone: zone });
}

/** Starts chronyd with `ntp.servers`; undefined (and a log line) when none are configured. */
export async function startTimeSync(sys: Pick<Sys, 'fs' | 'processes' | 'clock'>, logger: Logger, servers: readonly string[]): Promise<Daemon | undefined> {
  if (servers.length === 0) {
    logger.info('Time sync off: no NTP servers configured (ntp.servers)');
    return undefined;
  }
  await sys.fs.makeDir(PATHS.runDir, 0o755);
  await sys.fs.makeDir(CHRONY_STATE_DIR, 0o750);
  // chronyd writes its drift file after dropping root.
  try {
    const user = lookupUser(await sys.fs.readText('/etc/passwd'), CHRONY_USER);
    if (user) await sys.fs.chown(CHRONY_STATE_DIR, user.uid, user.gid);
    else logger.warn('No chrony user, drift file may not be written', { user: CHRONY_USER });
  } catch (error) {
    logger.warn('Cannot hand the chrony state directory over', { path: CHRONY_STATE_DIR, error: describeError(error) });
  }
  await sys.fs.writeText(CHRONY_CONFIG_PATH, renderChronyConfig(servers));
  const { file, args } = chronydArgv();
  logger.info('Time sync starting', { servers: servers.join(',') });
  return superviseDaemon(sys, logger, { name: 'chronyd', file, args });
}
