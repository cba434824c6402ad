import t from 'tap';
import { readdir, readFile, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readJournal, writeJournal } from '../../src/journal.ts';
import { parseJournal, renderJournal, validateUpdateState } from '../../src/core/journal-format.ts';
import { initialUpdateState, reduceUpdate, type UpdateState } from '../../src/core/state.ts';
import { errorCode } from '../../../lib/errors.ts';

const now = new Date('2026-11-23T10:00:00Z');

function stagedState(): UpdateState {
  let s = initialUpdateState();
  s = reduceUpdate(s, { type: 'check-requested' }).state;
  s = reduceUpdate(s, { type: 'check-found-update', version: '2.0.0', bundleUrl: 'http://x/m.json', slot: 'b', from: { slot: 'a', version: '1.0.0' } }).state;
  s = reduceUpdate(s, { type: 'download-finished' }).state;
  return reduceUpdate(s, { type: 'stage-finished', bootId: 'boot-1' }).state;
}

void t.test('journal text round-trips and is readable', (t) => {
  const text = renderJournal(stagedState(), now);
  t.matchSnapshot(text);
  t.same(parseJournal(text).state, stagedState());
  t.end();
});

void t.test('a damaged journal names its bad fields', (t) => {
  t.throws(() => parseJournal('{"format":1'), { code: errorCode('UPDATER_JOURNAL_INVALID') });
  const bad = { format: 1, written_at: now.toISOString(), state: { current: { phase: 'staged', target: { version: '2', bundleUrl: 'u', slot: 'a', from: { slot: 'a', version: '1' } } }, badVersions: [], failures: -1 } };
  const error = t.throws(() => parseJournal(JSON.stringify(bad)), { code: errorCode('UPDATER_JOURNAL_INVALID') }) as Error;
  t.match(error.message, 'state.failures');
  t.match(error.message, 'state.current.bootId');
  t.match(error.message, 'state.current.target.slot: must differ');
  t.same(validateUpdateState({ current: { phase: 'nonsense' }, badVersions: [], failures: 0 }), ['state.current.phase: expected one of idle, checking, downloading, verifying, staged, rebooting, confirming, succeeded, rolled-back, failed']);
  t.end();
});

void t.test('writer replaces the journal atomically in a temp dir', async (t) => {
  const dir = t.testdir({});
  const path = join(dir, 'state', 'update-journal.json');
  t.equal(await readJournal(path), undefined, 'no journal on first boot');
  await writeJournal(path, initialUpdateState(), now);
  t.same((await readJournal(path))?.state, initialUpdateState());
  await writeJournal(path, stagedState(), new Date(now.getTime() + 1000));
  const journal = await readJournal(path);
  t.same(journal?.state, stagedState());
  t.equal(journal?.written_at, '2026-11-23T10:00:01.000Z');
  t.same(await readdir(join(dir, 'state')), ['update-journal.json'], 'no temp file left behind');
  t.equal((await stat(path)).mode & 0o777, 0o600);
});

void t.test('a stale temp file from a power cut does not matter', async (t) => {
  const dir = t.testdir({ '.update-journal.json.tmp': '{"half": ', 'update-journal.json': renderJournal(stagedState(), now) });
  const path = join(dir, 'update-journal.json');
  t.same((await readJournal(path))?.state, stagedState(), 'the old journal is intact');
  await writeJournal(path, initialUpdateState(), now);
  t.same((await readJournal(path))?.state, initialUpdateState());
  t.same(await readdir(dir), ['update-journal.json']);
});

void t.test('write failures are typed and keep the old journal', async (t) => {
  const dir = t.testdir({ 'update-journal.json': renderJournal(stagedState(), now), blocker: 'file' });
  // A directory path through a regular file cannot be created.
  await t.rejects(writeJournal(join(dir, 'blocker', 'j.json'), initialUpdateState(), now), { code: errorCode('UPDATER_JOURNAL_WRITE_FAILED') });
  await writeFile(join(dir, 'broken.json'), 'nope');
  await t.rejects(readJournal(join(dir, 'broken.json')), { code: errorCode('UPDATER_JOURNAL_INVALID') });
  t.same(JSON.parse(await readFile(join(dir, 'update-journal.json'), 'utf8')).state, stagedState());
});
