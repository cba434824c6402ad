/**
 * The on-disk form of the update journal (/var/lib/berth/update-journal.json): the
 * reducer's state plus when it was written, as JSON. Parsing validates every field,
 * so a damaged journal is an error, never a half-understood state. Pure; the
 * crash-safe writer is ../journal.ts.
 */
import { BerthError } from '../../../lib/errors.ts';
import { isSlot } from '../../../lib/layout.ts';
import { UPDATE_PHASES, type UpdateState } from './state.ts';
import { isRecord } from '../../../lib/record.ts';

export const JOURNAL_FORMAT = 1;

export interface UpdateJournal {
  format: typeof JOURNAL_FORMAT;
  /** ISO time of the write (for status and debugging only). */
  written_at: string;
  state: UpdateState;
}

/** Renders the journal text for a state. */
export function renderJournal(state: UpdateState, now: Date): string {
  const journal: UpdateJournal = { format: JOURNAL_FORMAT, written_at: now.toISOString(), state };
  return `${JSON.stringify(journal, null, 2)}\n`;
}

const isString = (v: unknown): v is string => typeof v === 'string' && v !== '';

function checkTarget(value: unknown, path: string, problems: string[]): void {
  if (!isRecord(value)) {
    problems.push(`${path}: expected an object`);
    return;
  }
  if (!isString(value.version)) problems.push(`${path}.version: expected a string`);
  if (!isString(value.bundleUrl)) problems.push(`${path}.bundleUrl: expected a string`);
  if (!isSlot(value.slot)) problems.push(`${path}.slot: expected a or b`);
  const from = value.from;
  if (!isRecord(from) || !isSlot(from.slot) || !isString(from.version)) problems.push(`${path}.from: expected { slot, version }`);
  else if (from.slot === value.slot) problems.push(`${path}.slot: must differ from the running slot`);
}

/** Every problem of a journal's state, each with its path. */
export function validateUpdateState(value: unknown): string[] {
  if (!isRecord(value)) return ['state: expected an object'];
  const problems: string[] = [];
  if (!Array.isArray(value.badVersions) || !value.badVersions.every(isString)) problems.push('state.badVersions: expected a list of versions');
  if (typeof value.failures !== 'number' || !Number.isSafeInteger(value.failures) || value.failures < 0) problems.push('state.failures: expected a non-negative integer');
  const c = value.current;
  if (!isRecord(c) || !UPDATE_PHASES.includes(c.phase as never)) {
    problems.push(`state.current.phase: expected one of ${UPDATE_PHASES.join(', ')}`);
    return problems;
  }
  const p = 'state.current';
  switch (c.phase) {
    case 'downloading':
    case 'verifying':
      checkTarget(c.target, `${p}.target`, problems);
      break;
    case 'staged':
    case 'rebooting':
    case 'confirming':
      checkTarget(c.target, `${p}.target`, problems);
      if (!isString(c.bootId)) problems.push(`${p}.bootId: expected a string`);
      if (c.phase === 'rebooting' && c.reason !== 'update' && c.reason !== 'health-failed') problems.push(`${p}.reason: expected update or health-failed`);
      break;
    case 'succeeded':
      if (!isSlot(c.slot)) problems.push(`${p}.slot: expected a or b`);
      if (!isString(c.version)) problems.push(`${p}.version: expected a string`);
      break;
    case 'rolled-back':
      if (!isSlot(c.slot) || !isSlot(c.bootedSlot)) problems.push(`${p}.slot: expected a or b`);
      if (!isString(c.version) || !isString(c.bootedVersion)) problems.push(`${p}.version: expected a string`);
      if (c.reason !== 'boot-failed' && c.reason !== 'health-failed') problems.push(`${p}.reason: expected boot-failed or health-failed`);
      break;
    case 'failed':
      if (!isRecord(c.error) || !isString(c.error.code) || typeof c.error.message !== 'string') problems.push(`${p}.error: expected { code, message }`);
      if (c.during !== 'checking' && c.during !== 'downloading' && c.during !== 'verifying') problems.push(`${p}.during: expected checking, downloading or verifying`);
      break;
  }
  return problems;
}

/** Parses journal text. Throws UPDATER_JOURNAL_INVALID naming every bad field. */
export function parseJournal(text: string, source = 'update journal'): UpdateJournal {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BerthError('UPDATER_JOURNAL_INVALID', `Cannot read ${source}: it is not JSON`, { cause: error });
  }
  const problems: string[] = [];
  if (!isRecord(value)) problems.push('(root): expected an object');
  else {
    if (value.format !== JOURNAL_FORMAT) problems.push(`format: expected ${JOURNAL_FORMAT}`);
    if (typeof value.written_at !== 'string' || Number.isNaN(Date.parse(value.written_at))) problems.push('written_at: expected an ISO time');
    problems.push(...validateUpdateState(value.state));
  }
  if (problems.length > 0) throw new BerthError('UPDATER_JOURNAL_INVALID', `Cannot use ${source}: ${problems.join('; ')}`);
  return value as UpdateJournal;
}
