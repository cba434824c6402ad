/**
 * Runs a shutdown plan (core/shutdown-plan.ts) step by step. Every step is attempted
 * whatever happened before it: a stuck service must not keep /var from being
 * unmounted, and the power action always comes last.
 */
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import type { ShutdownStep } from './core/shutdown-plan.ts';
import { TOOLS } from './core/tools.ts';
import type { InitLog } from './logging.ts';
import { unmountWithFallback } from './mounts.ts';
import type { Services } from './services.ts';
import type { Sys } from './sys/types.ts';

export interface ShutdownContext {
  sys: Pick<Sys, 'exec' | 'power'>;
  logger: Logger;
  log: InitLog;
  services: Services;
  stopDebugShell: () => Promise<void>;
  /** Stops dhcpcd, chronyd and the address monitor (they keep files open on /var). */
  stopDaemons: () => Promise<void>;
}

async function runStep(ctx: ShutdownContext, step: ShutdownStep): Promise<void> {
  switch (step.kind) {
    case 'stop-debug-shell':
      return ctx.stopDebugShell();
    case 'stop-services':
      return ctx.services.stopAll(step.graceMs);
    case 'stop-daemons':
      return ctx.stopDaemons();
    case 'close-logs':
      return ctx.log.closeFile();
    case 'sync':
      await ctx.sys.exec.run(TOOLS.sync, [], { timeoutMs: 60_000 });
      return;
    case 'unmount':
      await unmountWithFallback(ctx.sys, ctx.logger, step.target, step.onBusy);
      return;
    case 'log-complete':
      ctx.logger.info('Shutdown complete', { action: step.action });
      return;
    case 'power':
      if (step.action === 'poweroff') await ctx.sys.power.powerOff();
      else await ctx.sys.power.reboot();
      // Still here: neither busybox nor sysrq took the machine down.
      ctx.logger.error('Power action failed', { action: step.action });
      return;
  }
}

export async function runShutdown(ctx: ShutdownContext, steps: readonly ShutdownStep[]): Promise<void> {
  for (const step of steps) {
    try {
      await runStep(ctx, step);
    } catch (error) {
      ctx.logger.error('Shutdown step failed', { step: step.kind, error: describeError(error) });
    }
  }
}
