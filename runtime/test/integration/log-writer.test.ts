import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import t from 'tap';
import { ContainerLogWriter } from '../../src/log-writer.ts';

const at = new Date('2026-01-02T03:04:05.000Z');

void t.test('stdout and stderr become json-file lines; the tail is per run', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'web.log');
  const writer = new ContainerLogWriter(path, () => at);
  const out = new PassThrough();
  const err = new PassThrough();
  const done = Promise.all([writer.follow(out, 'stdout'), writer.follow(err, 'stderr')]);
  out.write('hello\nwor');
  err.end('oops\n');
  out.end('ld\n');
  await done;
  t.equal(
    await readFile(path, 'utf8'),
    '{"log":"hello\\n","stream":"stdout","time":"2026-01-02T03:04:05.000Z"}\n' +
      '{"log":"oops\\n","stream":"stderr","time":"2026-01-02T03:04:05.000Z"}\n' +
      '{"log":"world\\n","stream":"stdout","time":"2026-01-02T03:04:05.000Z"}\n',
  );
  t.same(writer.lastLines(), ['stdout: hello', 'stderr: oops', 'stdout: world']);
  writer.startRun();
  t.same(writer.lastLines(), []);
});

void t.test('rotates by size', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'w.log');
  const writer = new ContainerLogWriter(path, () => at, { maxBytes: 200, maxFiles: 2 });
  const out = new PassThrough();
  const done = writer.follow(out, 'stdout');
  for (let i = 0; i < 10; i++) out.write(`line ${i}\n`);
  out.end();
  await done;
  const current = await readFile(path, 'utf8');
  const previous = await readFile(`${path}.1`, 'utf8');
  t.ok(Buffer.byteLength(current) <= 200 && Buffer.byteLength(previous) <= 200, 'each file within the limit');
  t.match(current, /line 9/);
  t.notMatch(current + previous, /line 0\\n/, 'the oldest lines were dropped with the third file');
});

void t.test('read: the last records (into rotated files), then every later one while followed', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'r.log');
  const writer = new ContainerLogWriter(path, () => at, { maxBytes: 200, maxFiles: 3 });
  t.same(await writer.read(5), [], 'no log yet');
  const out = new PassThrough();
  const done = writer.follow(out, 'stdout');
  for (let i = 0; i < 6; i++) out.write(`line ${i}\n`);
  await writer.flushed();
  await new Promise((resolve) => setImmediate(resolve));
  await writer.flushed();
  const texts = (records: string[]) => records.map((r) => (JSON.parse(r) as { log: string }).log);
  t.same(texts(await writer.read(4)), ['line 2\n', 'line 3\n', 'line 4\n', 'line 5\n'], 'across the rotated file, oldest first');
  t.same(await writer.read(0), []);
  const followed: string[] = [];
  const aborter = new AbortController();
  const tail = await writer.read(1, (record) => followed.push(record), aborter.signal);
  t.same(texts(tail), ['line 5\n']);
  out.write('line 6\n');
  await new Promise((resolve) => setImmediate(resolve));
  await writer.flushed();
  t.same(texts(followed), ['line 6\n'], 'a record written after the tail arrives once');
  aborter.abort();
  out.end('line 7\n');
  await done;
  t.same(texts(followed), ['line 6\n'], 'nothing after the follower went away');
});
