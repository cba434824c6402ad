/**
 * Stopping services at shutdown, by cgroup: every process below berth.slice gets
 * SIGTERM, then whatever is left after the grace period is killed through
 * cgroup.kill. The runtime may later provide its own Services (crun kill first).
 */
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { PATHS } from '../../lib/layout.ts';
import type { BannerContainer } from './core/banner.ts';
import type { MachineConfig } from './core/machine-config.ts';
import type { Sys } from './sys/types.ts';

export interface Services {
  /**
   * Starts the configured services once /var, /etc and the config are ready, before
   * BERTH-READY (the runtime plugs in here). A rejection fails the boot.
   */
  start?(config: MachineConfig): Promise<void>;
  /** The containers and their health, for the console banner after BERTH-READY (the runtime plugs in here). */
  containers?(): Promise<BannerContainer[]>;
  /** Stops every service: polite signal, `graceMs` to exit, then SIGKILL. Never throws. */
  stopAll(graceMs: number): Promise<void>;
}

const POLL_MS = 100;

/** Pids in `dir` and every cgroup below it. */
export async function cgroupPids(fs: Sys['fs'], dir: string): Promise<number[]> {
  const pids: number[] = [];
  try {
    const procs = await fs.readText(`${dir}/cgroup.procs`);
    for (const line of procs.split('\n')) if (/^\d+$/.test(line.trim())) pids.push(Number(line.trim()));
    for (const name of await fs.readDir(dir)) {
      const child = `${dir}/${name}`;
      if (await fs.exists(`${child}/cgroup.procs`)) pids.push(...(await cgroupPids(fs, child)));
    }
  } catch {
    // The cgroup vanished meanwhile: its processes are gone.
  }
  return pids;
}

export function createCgroupServices(sys: Pick<Sys, 'fs' | 'processes' | 'clock'>, logger: Logger, root: string = PATHS.cgroupServices): Services {
  return {
    async stopAll(graceMs) {
      let pids = await cgroupPids(sys.fs, root);
      if (pids.length === 0) return;
      logger.info('Stopping services', { processes: pids.length, grace_ms: graceMs });
      for (const pid of pids) sys.processes.kill(pid, 'SIGTERM');
      const deadline = sys.clock.monotonicMs() + graceMs;
      while (pids.length > 0 && sys.clock.monotonicMs() < deadline) {
        await sys.clock.sleep(POLL_MS);
        pids = await cgroupPids(sys.fs, root);
      }
      if (pids.length === 0) {
        logger.info('Services stopped');
        return;
      }
      logger.warn('Services did not stop in time, killing', { processes: pids.length });
      try {
        await sys.fs.writeText(`${root}/cgroup.kill`, '1');
      } catch (error) {
        logger.warn('cgroup.kill refused, sending SIGKILL', { error: describeError(error) });
        for (const pid of pids) sys.processes.kill(pid, 'SIGKILL');
      }
    },
  };
}
