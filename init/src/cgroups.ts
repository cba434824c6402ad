/**
 * Sets up the cgroup v2 tree (core/cgroup-plan.ts): controllers at the root, init in
 * init.scope, berth.slice delegated to services.
 */
import { BerthError, describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { PATHS } from '../../lib/layout.ts';
import { missingControllers, parseControllers, parseMemTotal, parseProcInteger, planCgroups, servicesLimits, type HostResources } from './core/cgroup-plan.ts';
import type { Sys } from './sys/types.ts';

export async function setupCgroups(sys: Pick<Sys, 'fs'>, logger: Logger, initPid: number): Promise<void> {
  const available = parseControllers(await sys.fs.readText(`${PATHS.cgroupRoot}/cgroup.controllers`));
  const missing = missingControllers(available);
  if (missing.length > 0) logger.warn('Cgroup controllers missing', { controllers: missing.join(',') });
  const resources = await readHostResources(sys, logger);
  for (const step of planCgroups(available, initPid, resources)) {
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
  const limits = resources === undefined ? undefined : servicesLimits(resources);
  logger.info('Cgroups ready', {
    init: PATHS.cgroupInit,
    services: PATHS.cgroupServices,
    controllers: available.join(','),
    ...(limits === undefined ? {} : { services_memory_max: limits.memoryMaxBytes, services_pids_max: limits.pidsMax }),
  });
}

/** MemTotal, pid_max and threads-max from /proc; undefined (services uncapped, logged) if one is unreadable. */
async function readHostResources(sys: Pick<Sys, 'fs'>, logger: Logger): Promise<HostResources | undefined> {
  try {
    const memTotalBytes = parseMemTotal(await sys.fs.readText('/proc/meminfo'));
    const pidMax = parseProcInteger(await sys.fs.readText('/proc/sys/kernel/pid_max'));
    const threadsMax = parseProcInteger(await sys.fs.readText('/proc/sys/kernel/threads-max'));
    if (memTotalBytes !== undefined && pidMax !== undefined && threadsMax !== undefined) return { memTotalBytes, pidMax, threadsMax };
    logger.warn('Services cgroup not capped', { reason: 'MemTotal, pid_max or threads-max unreadable' });
  } catch (error) {
    logger.warn('Services cgroup not capped', { error: describeError(error) });
  }
  return undefined;
}
