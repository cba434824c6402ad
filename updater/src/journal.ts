/**
 * The crash-safe update journal on /var: write a temp file, fsync it, rename it over
 * the journal, fsync the directory. After a power cut the journal is the old or the
 * new state, never a mix. Effects: files in the journal's directory only.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BerthError } from '../../lib/errors.ts';
import { writeFileAtomically } from '../../lib/sys/atomic-file.ts';
import { PATHS } from '../../lib/layout.ts';
import { parseJournal, renderJournal, type UpdateJournal } from './core/journal-format.ts';
import type { UpdateState } from './core/state.ts';

/** Where the journal lives on a berth machine. */
export const JOURNAL_PATH = PATHS.updateJournal;

/**
 * Atomically replaces the journal with `state`. Throws UPDATER_JOURNAL_WRITE_FAILED
 * (code UPDATER_VAR_FULL when the disk is full) and leaves the previous journal intact.
 */
export async function writeJournal(path: string, state: UpdateState, now: Date): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFileAtomically(path, renderJournal(state, now));
  } catch (error) {
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
