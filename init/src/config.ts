/**
 * The machine config for this boot: reads fw_cfg and the last good copy on /var,
 * lets core/config-source.ts choose, prints rejected texts' problems on the console,
 * saves a new valid fw_cfg config crash-safely, and applies the hostname.
 */
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { FW_CFG_CONFIG_NAME, PATHS } from '../../lib/layout.ts';
import { chooseMachineConfig, type ConfigChoice } from './core/config-source.ts';
import { loadMachineConfig, type MachineConfig } from './core/machine-config.ts';
import { KERNEL_PATHS } from './core/tools.ts';
import type { FileSystem } from './sys/types.ts';

async function readIfPresent(fs: FileSystem, path: string, logger: Logger): Promise<string | undefined> {
  if (!(await fs.exists(path))) return undefined;
  try {
    return await fs.readText(path);
  } catch (error) {
    logger.error('Cannot read machine config', { path, error: describeError(error) });
    return undefined;
  }
}

export async function loadBootConfig(fs: FileSystem, logger: Logger): Promise<ConfigChoice> {
  const fwCfg = await readIfPresent(fs, PATHS.fwCfgConfig, logger);
  const saved = await readIfPresent(fs, PATHS.configOnVar, logger);
  const choice = chooseMachineConfig(
    { ...(fwCfg === undefined ? {} : { fwCfg }), ...(saved === undefined ? {} : { saved }) },
    { fwCfg: `fw_cfg:${FW_CFG_CONFIG_NAME}`, saved: PATHS.configOnVar },
    loadMachineConfig,
  );
  for (const rejected of choice.rejected) {
    logger.error('Machine config invalid, not used', { source: rejected.source, problems: rejected.problems.length });
    for (const problem of rejected.problems) logger.error('Config problem', { problem });
  }
  for (const warning of choice.warnings) logger.warn('Config warning', { problem: warning });
  if (choice.save !== undefined) {
    try {
      await fs.makeDir(PATHS.stateDir, 0o755);
      await fs.writeAtomic(PATHS.configOnVar, choice.save);
      logger.info('Machine config saved as last good copy', { path: PATHS.configOnVar });
    } catch (error) {
      logger.error('Cannot save machine config', { path: PATHS.configOnVar, error: describeError(error) });
    }
  }
  logger.info('Machine config loaded', { origin: choice.origin, source: choice.source });
  return choice;
}

export async function applyHostname(fs: FileSystem, logger: Logger, config: MachineConfig): Promise<void> {
  const hostname = config.hostname;
  await fs.writeText(KERNEL_PATHS.hostname, hostname);
  logger.info('Hostname set', { hostname });
}
