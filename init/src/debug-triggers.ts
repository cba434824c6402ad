/**
 * Test-only crash triggers, armed only when the machine config enables the debug shell (a
 * root shell is already everything): creating /run/berth/debug/exhaust-heap makes init's
 * Node allocate until V8's heap limit aborts it, so a VM test sees berth-pid1 restart init
 * after a real heap exhaustion. Effects: makes the directory, watches it, removes the file.
 */
import { mkdirSync, rmSync, watch } from 'node:fs';
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { PATHS } from '../../lib/layout.ts';

export const DEBUG_TRIGGER_DIR = PATHS.debugTriggerDir;
/** The file whose creation exhausts init's heap. */
export const EXHAUST_HEAP_TRIGGER = 'exhaust-heap';

/** Watches DEBUG_TRIGGER_DIR; never throws (a trigger that cannot be armed is a warning). */
export function armDebugTriggers(logger: Logger): void {
  try {
    mkdirSync(DEBUG_TRIGGER_DIR, { recursive: true, mode: 0o700 });
    // A trigger left from before a restart must not fire again.
    rmSync(`${DEBUG_TRIGGER_DIR}/${EXHAUST_HEAP_TRIGGER}`, { force: true });
    const watcher = watch(DEBUG_TRIGGER_DIR, (_event, name) => {
      if (name !== EXHAUST_HEAP_TRIGGER) return;
      rmSync(`${DEBUG_TRIGGER_DIR}/${EXHAUST_HEAP_TRIGGER}`, { force: true });
      watcher.close();
      logger.warn('Debug trigger: exhausting the heap on purpose', { trigger: EXHAUST_HEAP_TRIGGER });
      exhaustHeap();
    });
    logger.warn('Debug crash triggers armed', { dir: DEBUG_TRIGGER_DIR });
  } catch (error) {
    logger.warn('Debug crash triggers not armed', { dir: DEBUG_TRIGGER_DIR, error: describeError(error) });
  }
}

/** Keeps 8 MiB arrays until V8 gives up (FATAL ERROR: Reached heap limit) and Node aborts. */
function exhaustHeap(): void {
  const kept: number[][] = [];
  const grow = (): void => {
    kept.push(new Array<number>(1 << 20).fill(kept.length));
    setImmediate(grow);
  };
  grow();
}
