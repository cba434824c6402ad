/**
 * The crash-safe update journal on /var: write a temp file, fsync it, rename it over
 * the journal, fsync the directory. After a power cut the journal is the old or the
 * new state, never a mix. Effects: files in the journal's directory only.
 */
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BerthError } from '../../lib/errors.ts';
import { PATHS } from '../../lib/layout.ts';
import { JOURNAL_FILE_NAME, parseJournal, renderJournal, type UpdateJournal } from './core/journal-format.ts';
import type { UpdateState } from './core/state.ts';

/** Where the journal lives on a berth machine. */
export const JOURNAL_PATH = join(PATHS.stateDir, JOURNAL_FILE_NAME);

async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Atomically replaces the journal with `state`. Throws UPDATER_JOURNAL_WRITE_FAILED
 * (code UPDATER_VAR_FULL when the disk is full) and leaves the previous journal intact.
 */
export async function writeJournal(path: string, state: UpdateState, now: Date): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.tmp`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const handle = await open(temp, 'w', 0o600);
    try {
      await handle.writeFile(renderJournal(state, now));
      // The data must be on disk before the rename makes it the journal.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    // The rename itself is only durable once the directory is synced.
    await fsyncDirectory(dir);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code === 'ENOSPC' ? 'UPDATER_VAR_FULL' : 'UPDATER_JOURNAL_WRITE_FAILED';
    throw new BerthError(code, `Cannot write the update journal ${path}${code === 'UPDATER_VAR_FULL' ? ': /var is full; free space on the data partition' : ''}`, { cause: error });
  }
}

/** Reads the journal; undefined when there is none yet (first boot). Throws UPDATER_JOURNAL_INVALID. */
export async function readJournal(path: string): Promise<UpdateJournal | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BerthError('UPDATER_JOURNAL_UNREADABLE', `Cannot read the update journal ${path}`, { cause: error });
  }
  return parseJournal(text, path);
}
