/**
 * Sets up the cgroup v2 tree (core/cgroup-plan.ts): controllers at the root, init in
 * init.scope, berth.slice delegated to services.
 */
import { BerthError, describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { PATHS } from '../../lib/layout.ts';
import { missingControllers, parseControllers, planCgroups } from './core/cgroup-plan.ts';
import type { Sys } from './sys/types.ts';

export async function setupCgroups(sys: Pick<Sys, 'fs'>, logger: Logger, initPid: number): Promise<void> {
  const available = parseControllers(await sys.fs.readText(`${PATHS.cgroupRoot}/cgroup.controllers`));
  const missing = missingControllers(available);
  if (missing.length > 0) logger.warn('Cgroup controllers missing', { controllers: missing.join(',') });
  for (const step of planCgroups(available, initPid)) {
    try {
      if (step.kind === 'mkdir') {
        if (!(await sys.fs.exists(step.path))) await sys.fs.makeDir(step.path);
      } else {
        await sys.fs.writeText(step.path, step.value);
      }
    } catch (error) {
      if (step.kind === 'write' && step.optional) {
        logger.warn('Cgroup setting refused', { path: step.path, value: step.value, error: describeError(error) });
        continue;
      }
      throw new BerthError('INIT_CGROUP_FAILED', `Cannot set up ${step.path}: ${describeError(error)}`, { cause: error });
    }
  }
  logger.info('Cgroups ready', { init: PATHS.cgroupInit, services: PATHS.cgroupServices, controllers: available.join(',') });
}
