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
  // In parallel: each modprobe is a process start, which is slow under TCG; the kernel serialises what must be.
  const results = await Promise.all(
    modules.map(async (module) => {
      try {
        await sys.exec.run(TOOLS.modprobe, modprobeArgv(module), { timeoutMs: 30_000 });
        return undefined;
      } catch (error) {
        return { module, error };
      }
    }),
  );
  const failed: string[] = [];
  for (const result of results) {
    if (!result) continue;
    failed.push(result.module);
    logger.warn('Kernel module not loaded', { module: result.module, error: describeError(result.error) });
  }
  return failed;
}
