/**
 * Boot stages with their time since kernel start (/proc/uptime), one
 * `msg="Stage done" stage=<name> t_ms=<ms> duration_ms=<ms>` line each, so a boot
 * timeline can be drawn from the console.
 */
import type { Logger } from '../../lib/log.ts';
import { parseUptimeMs } from './core/uptime.ts';
import { KERNEL_PATHS } from './core/tools.ts';
import type { Clock, FileSystem } from './sys/types.ts';

export interface Timeline {
  /** Runs `fn` as the named stage and logs when it is done (errors pass through, with the stage named). */
  stage<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /** Milliseconds since kernel start; undefined before /proc is mounted. */
  uptimeMs(): Promise<number | undefined>;
}

export function createTimeline(fs: FileSystem, clock: Clock, logger: Logger): Timeline {
  const uptimeMs = async (): Promise<number | undefined> => {
    try {
      return parseUptimeMs(await fs.readText(KERNEL_PATHS.uptime));
    } catch {
      return undefined;
    }
  };
  return {
    uptimeMs,
    async stage(name, fn) {
      const started = clock.monotonicMs();
      try {
        const result = await fn();
        logger.info('Stage done', { stage: name, t_ms: await uptimeMs(), duration_ms: Math.round(clock.monotonicMs() - started) });
        return result;
      } catch (error) {
        logger.error('Stage failed', { stage: name, t_ms: await uptimeMs(), duration_ms: Math.round(clock.monotonicMs() - started) });
        throw new StageError(name, error);
      }
    },
  };
}

/** A boot stage that failed; `stage` names it for BERTH-FAILED. */
export class StageError extends Error {
  readonly stage: string;

  constructor(stage: string, cause: unknown) {
    super(`Boot stage ${stage} failed`, { cause });
    this.name = 'StageError';
    this.stage = stage;
  }
}
