/**
 * Loads the kernel modules init needs (core/kernel-modules.ts) with modprobe. A
 * missing module is a warning: the feature that needs it reports its own failure.
 */
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { INIT_KERNEL_MODULES, modprobeAllArgv, modprobeArgv } from './core/kernel-modules.ts';
import { TOOLS } from './core/tools.ts';
import type { Sys } from './sys/types.ts';

const MODPROBE_TIMEOUT_MS = 30_000;

/**
 * Returns the modules that failed to load. One modprobe loads them all: under TCG a process start
 * costs 0.1–0.2 s, and eight modprobes at once took 0.7 s where one `modprobe -a` of the same
 * eight took 0.14 s (measured in the guest, all loaded already). Only when that one fails does
 * each module get its own modprobe, to name the ones that failed (the loaded ones return at once).
 */
export async function loadKernelModules(sys: Pick<Sys, 'exec'>, logger: Logger, modules: readonly string[] = INIT_KERNEL_MODULES): Promise<string[]> {
  if (modules.length === 0) return [];
  let allError: unknown;
  try {
    await sys.exec.run(TOOLS.modprobe, modprobeAllArgv(modules), { timeoutMs: MODPROBE_TIMEOUT_MS });
    return [];
  } catch (error) {
    allError = error;
  }
  const results =
    modules.length === 1
      ? [{ module: modules[0] ?? '', error: allError }]
      : await Promise.all(
          modules.map(async (module) => {
            try {
              await sys.exec.run(TOOLS.modprobe, modprobeArgv(module), { timeoutMs: MODPROBE_TIMEOUT_MS });
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
