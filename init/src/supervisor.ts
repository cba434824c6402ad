/**
 * Supervision of the host daemons init runs (dhcpcd, chronyd, `ip monitor`): start in the
 * foreground, relay each output line to init's log, restart with a backoff
 * (core/restart-policy.ts) when it exits, and stop it at shutdown (SIGTERM, grace, SIGKILL).
 * Effects: processes, the clock, and the daemon's /proc/<pid>/oom_score_adj.
 */
import type { Logger } from '../../lib/log.ts';
import { attemptAfterRun, backoffDelayMs } from '../../lib/retry.ts';
import { RESTART_POLICY } from './core/restart-policy.ts';
import type { ChildHandle, Sys } from './sys/types.ts';

/** What to run. */
export interface DaemonSpec {
  /** Short name for logs: dhcpcd, chronyd. */
  name: string;
  file: string;
  args: readonly string[];
  env?: Record<string, string>;
  /** Log each output line at this level (default info); `false` drops output. */
  output?: 'info' | 'debug' | false;
  /** Handed each output line as well (e.g. to react to `ip monitor` events). */
  onLine?: (line: string) => void;
  /** oom_score_adj for the daemon (default 0): it must not inherit init's -1000 and become unkillable. */
  oomScoreAdj?: number;
}

export interface Daemon {
  readonly name: string;
  /** Pid of the running process, undefined between restarts. */
  readonly pid: number | undefined;
  /** Stops supervising: SIGTERM, `graceMs` to exit, then SIGKILL. Never throws. */
  stop(graceMs: number): Promise<void>;
}

const DAEMON_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };

export function superviseDaemon(sys: Pick<Sys, 'processes' | 'clock' | 'fs'>, logger: Logger, spec: DaemonSpec): Daemon {
  let stopped = false;
  let current: ChildHandle | undefined;
  const log = logger.child({ daemon: spec.name });
  const onOutput = (line: string): void => {
    if (spec.output === 'info' || spec.output === undefined) log.info('Daemon output', { line });
    else if (spec.output === 'debug') log.debug('Daemon output', { line });
    spec.onLine?.(line);
  };

  const loop = async (): Promise<void> => {
    let attempt = 0;
    while (!stopped) {
      const started = sys.clock.monotonicMs();
      const child = sys.processes.spawn(spec.file, spec.args, { env: spec.env ?? DAEMON_ENV, onOutput, newSession: true });
      current = child;
      log.info('Daemon started', { pid: child.pid });
      // If it is gone already, the exit below says so.
      await sys.fs.writeText(`/proc/${child.pid}/oom_score_adj`, String(spec.oomScoreAdj ?? 0)).catch(() => undefined);
      const exit = await child.exited;
      current = undefined;
      if (stopped) break;
      attempt = attemptAfterRun(RESTART_POLICY, attempt, sys.clock.monotonicMs() - started);
      const delay = backoffDelayMs(RESTART_POLICY, attempt);
      attempt += 1;
      log.warn('Daemon exited, restarting', { code: exit.code, signal: exit.signal, error: exit.error, restart_in_ms: delay });
      await sys.clock.sleep(delay);
    }
  };
  const done = loop().catch((error: unknown) => log.error('Daemon supervision failed', { error: String(error) }));

  return {
    name: spec.name,
    get pid() {
      return current?.pid;
    },
    async stop(graceMs) {
      stopped = true;
      const child = current;
      if (!child) return;
      sys.processes.kill(child.pid, 'SIGTERM');
      const timedOut = Symbol('timeout');
      const result = await Promise.race([child.exited, sys.clock.sleep(graceMs).then(() => timedOut)]);
      if (result === timedOut) {
        log.warn('Daemon did not stop in time, killing', { pid: child.pid, grace_ms: graceMs });
        sys.processes.kill(-child.pid, 'SIGKILL');
        await child.exited;
      }
      log.info('Daemon stopped');
      await done;
    },
  };
}
