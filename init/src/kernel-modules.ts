/**
 * Loads the kernel modules init needs (core/kernel-modules.ts) with modprobe. A
 * missing module is a warning: the feature that needs it reports its own failure.
 */
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { INIT_KERNEL_MODULES, modprobeArgv } from './core/kernel-modules.ts';
import { TOOLS } from './core/tools.ts';
import type { Sys } from './sys/types.ts';

/** Returns the modules that failed to load. */
export async function loadKernelModules(sys: Pick<Sys, 'exec'>, logger: Logger, modules: readonly string[] = INIT_KERNEL_MODULES): Promise<string[]> {
  const failed: string[] = [];
  for (const module of modules) {
    try {
      await sys.exec.run(TOOLS.modprobe, modprobeArgv(module), { timeoutMs: 30_000 });
    } catch (error) {
      failed.push(module);
      logger.warn('Kernel module not loaded', { module, error: describeError(error) });
    }
  }
  return failed;
}
