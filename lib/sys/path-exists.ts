/**
 * Whether something is at a path. Effects: one stat(2).
 */
import { stat } from 'node:fs/promises';

/** True when `path` names something (symlinks followed); false when it does not or cannot be reached. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
