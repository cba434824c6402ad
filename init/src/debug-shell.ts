/**
 * The debug shell: a root /bin/sh on a serial line (raw, no echo), restarted with a
 * backoff whenever it exits. Only when the machine config asks for it.
 */
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { attemptAfterRun, backoffDelayMs } from '../../lib/retry.ts';
import { SHELL_RESTART_POLICY, type DebugShellPlan } from './core/debug-shell.ts';
import { TOOLS } from './core/tools.ts';
import { PATHS } from '../../lib/layout.ts';
import type { ChildHandle, Sys } from './sys/types.ts';

/** The debug shell's pid, written when it starts, so a restarted init adopts it instead of starting a second shell on the line. */
export const DEBUG_SHELL_PID_FILE = PATHS.debugShellPid;

export interface DebugShell {
  /** Stops supervising and kills the shell's process group. */
  stop(): Promise<void>;
  /** Resolves when the supervisor loop has ended (after stop). */
  done: Promise<void>;
}

export function startDebugShell(
  sys: Pick<Sys, 'exec' | 'devices' | 'processes' | 'clock' | 'fs'>,
  logger: Logger,
  plan: DebugShellPlan,
  /** A restarted init adopts the old init's shell (restart.ts findDebugShellToAdopt): it is supervised once it exits, never doubled. */
  adoptPid?: number,
): DebugShell {
  let stopped = false;
  let current: ChildHandle | undefined;
  let adopted = adoptPid;
  logger.warn('Debug shell enabled: root shell on serial line', { device: plan.device });

  const waitForAdopted = async (pid: number): Promise<void> => {
    logger.info('Debug shell adopted', { device: plan.device, pid });
    while (!stopped && (await sys.fs.exists(`/proc/${pid}/stat`))) await sys.clock.sleep(1000);
    adopted = undefined;
    if (!stopped) logger.info('Adopted debug shell exited', { device: plan.device, pid });
  };

  const runOnce = async (): Promise<void> => {
    await sys.exec.run(TOOLS.stty, plan.sttyArgs, { timeoutMs: 10_000 });
    const tty = await sys.devices.openReadWrite(plan.device);
    if (stopped) {
      // stop() came while stty ran: no new shell during shutdown.
      await tty.close();
      return;
    }
    try {
      current = sys.processes.spawn(plan.shell, plan.shellArgs, { env: plan.env, stdioFd: tty.fd, newSession: true });
    } finally {
      // The child has its own copies of the fd once spawn returns.
      await tty.close();
    }
    logger.info('Debug shell started', { device: plan.device, pid: current.pid });
    try {
      await sys.fs.makeDir(PATHS.runDir, 0o755);
      await sys.fs.writeText(DEBUG_SHELL_PID_FILE, `${current.pid}\n`);
    } catch (error) {
      logger.warn('Cannot record the debug shell pid', { pid: current.pid, error: describeError(error) });
    }
    // Children inherit init's -1000; the shell and what it runs must stay killable by the OOM killer.
    try {
      await sys.fs.writeText(`/proc/${current.pid}/oom_score_adj`, '0');
    } catch (error) {
      logger.warn('Cannot reset the debug shell oom_score_adj', { pid: current.pid, error: describeError(error) });
    }
    const exit = await current.exited;
    current = undefined;
    logger.info('Debug shell exited', { device: plan.device, code: exit.code, signal: exit.signal, error: exit.error });
  };

  const loop = async (): Promise<void> => {
    let attempt = 0;
    if (adopted !== undefined) await waitForAdopted(adopted);
    while (!stopped) {
      const started = sys.clock.monotonicMs();
      try {
        await runOnce();
      } catch (error) {
        logger.warn('Debug shell failed', { device: plan.device, error: describeError(error) });
      }
      attempt = attemptAfterRun(SHELL_RESTART_POLICY, attempt, sys.clock.monotonicMs() - started);
      const delay = backoffDelayMs(SHELL_RESTART_POLICY, attempt);
      attempt += 1;
      if (!stopped) await sys.clock.sleep(delay);
    }
  };

  const done = loop();
  return {
    done,
    async stop() {
      stopped = true;
      if (adopted !== undefined) sys.processes.kill(-adopted, 'SIGKILL');
      const child = current;
      if (child) {
        sys.processes.kill(-child.pid, 'SIGKILL');
        await child.exited;
      }
    },
  };
}
