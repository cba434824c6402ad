/**
 * The log reader on files written by hand: the last records of a large log cost slices read
 * from the end (torn and partial lines are not records), rotated files fill up a tail, and a
 * symlink planted in a log's place is not read.
 */
import { appendFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { ContainerLogReader } from '../../src/log-reader.ts';

const record = (n: number): string => `${JSON.stringify({ log: `line ${n}\n`, stream: 'stdout', time: '2026-12-04T18:00:00.000Z' })}\n`;
const logOf = (records: string[]): string[] => records.map((r) => (JSON.parse(r) as { log: string }).log);

void t.test('the last records of a large log, a torn last line left out', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'web.log');
  // About 5 MiB: far more than the slices the tail reads.
  await writeFile(path, Array.from({ length: 80_000 }, (_, n) => record(n)).join(''));
  await appendFile(path, '{"log":"torn');
  const reader = new ContainerLogReader(path, 3);
  t.same(logOf(await reader.read(3)), ['line 79997\n', 'line 79998\n', 'line 79999\n']);
  t.equal((await reader.read(2000)).length, 2000);
  t.same(await reader.read(0), []);
});

void t.test('rotated files complete a tail that the current file cannot fill', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'web.log');
  await writeFile(`${path}.1`, [0, 1, 2].map(record).join(''));
  await writeFile(path, [3, 4].map(record).join(''));
  const reader = new ContainerLogReader(path, 3);
  t.same(logOf(await reader.read(4)), ['line 1\n', 'line 2\n', 'line 3\n', 'line 4\n']);
});

void t.test('a symlink in the place of a log is not read', async (t) => {
  const dir = t.testdir({ secret: record(42) });
  const path = join(dir, 'web.log');
  await symlink(join(dir, 'secret'), path);
  const reader = new ContainerLogReader(path, 3);
  t.same(await reader.read(10), []);
});
