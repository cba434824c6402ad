/**
 * What a restarted init does about the old one's leftovers (core/restart.ts decides): finds
 * the debug shell to adopt through its pid file, and kills the rest of what the old init
 * left in init.scope so that dhcpcd, chronyd and the others start again under this init.
 * Effects: reads cgroupfs, /proc and /run/berth, sends SIGKILL.
 */
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { PATHS } from '../../lib/layout.ts';
import { loadMachineConfig } from '../../lib/config/machine-config.ts';
import { warningLines } from './core/machine-config.ts';
import type { ConfigChoice } from './core/config-source.ts';
import { parseProcStat, planStaleKills, type ScopeProcess } from './core/restart.ts';
import { DEBUG_SHELL_PID_FILE } from './debug-shell.ts';
import type { Sys } from './sys/types.ts';
/** How long killed leftovers get to disappear (berth-pid1 reaps them). */
const STALE_GONE_TIMEOUT_MS = 5000;

async function readStat(sys: Pick<Sys, 'fs'>, pid: number): Promise<ScopeProcess | undefined> {
  try {
    return parseProcStat(await sys.fs.readText(`/proc/${pid}/stat`));
  } catch {
    return undefined;
  }
}

/** The old init's debug shell, if it still runs: the pid file names a live session leader. */
export async function findDebugShellToAdopt(sys: Pick<Sys, 'fs'>): Promise<number | undefined> {
  let pid: number;
  try {
    pid = Number((await sys.fs.readText(DEBUG_SHELL_PID_FILE)).trim());
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(pid) || pid <= 1) return undefined;
  const stat = await readStat(sys, pid);
  return stat !== undefined && stat.session === pid ? pid : undefined;
}

/**
 * The config in force for a restarted init: the last good copy on /var (which configs
 * applied through the API update too), so no source is taken over a second time in one
 * boot. Undefined when there is none or it no longer loads (then the boot's own choice runs).
 */
export async function loadConfigInForce(sys: Pick<Sys, 'fs'>, logger: Logger): Promise<ConfigChoice | undefined> {
  let text: string;
  try {
    text = await sys.fs.readText(PATHS.configOnVar);
  } catch {
    return undefined;
  }
  try {
    const { config, warnings } = loadMachineConfig(text, PATHS.configOnVar);
    logger.info('Machine config kept from before the restart', { source: PATHS.configOnVar });
    return { config, origin: 'saved', source: PATHS.configOnVar, warnings: warningLines(PATHS.configOnVar, warnings), rejected: [] };
  } catch (error) {
    logger.warn('Saved machine config does not load after the restart', { source: PATHS.configOnVar, error: describeError(error) });
    return undefined;
  }
}

/** Kills what the old init left in init.scope (except the adopted debug shell's session and container monitors); waits until they are gone. */
export async function killStaleProcesses(sys: Pick<Sys, 'fs' | 'processes' | 'clock'>, logger: Logger, self: number, keepSessions: readonly number[]): Promise<number[]> {
  let pids: number[];
  try {
    pids = (await sys.fs.readText(`${PATHS.cgroupInit}/cgroup.procs`)).split('\n').filter((l) => l !== '').map(Number);
  } catch (error) {
    logger.warn('Cannot list init.scope', { error: describeError(error) });
    return [];
  }
  const processes: ScopeProcess[] = [];
  for (const pid of pids) {
    const stat = await readStat(sys, pid);
    if (stat) processes.push(stat);
  }
  const stale = planStaleKills(processes, self, keepSessions);
  for (const pid of stale) {
    const comm = processes.find((p) => p.pid === pid)?.comm ?? '';
    logger.info('Stopping process left by the previous init', { pid, comm });
    sys.processes.kill(pid, 'SIGKILL');
  }
  const deadline = sys.clock.monotonicMs() + STALE_GONE_TIMEOUT_MS;
  for (const pid of stale) {
    while ((await readStat(sys, pid)) !== undefined && sys.clock.monotonicMs() < deadline) await sys.clock.sleep(50);
  }
  return stale;
}
