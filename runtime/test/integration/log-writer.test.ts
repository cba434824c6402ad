import { spawn, spawnSync } from 'node:child_process';
import { readdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import t from 'tap';
import { BerthError } from '../../../lib/errors.ts';
import { ContainerLogWriter, LOG_PENDING_MAX_BYTES } from '../../src/log-writer.ts';

/** How many of this process's file descriptors are open on `path`. */
async function openDescriptors(path: string): Promise<number> {
  const fds = await readdir('/proc/self/fd');
  const targets = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return targets.filter((target) => target === path).length;
}

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

void t.test('a producer faster than the disk is paused: the backlog stays bounded, files within rotation, one descriptor', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'flood.log');
  const rotation = { maxBytes: 1024 * 1024, maxFiles: 3 };
  const writer = new ContainerLogWriter(path, () => at, rotation);
  const line = `${'x'.repeat(1000)}\n`;
  const chunk = line.repeat(64);
  const total = 64 * 1024 * 1024;
  let produced = 0;
  let maxBacklog = 0;
  let descriptors = 0;
  // A producer that never waits by itself: it pushes whenever asked, as fast as the reader reads.
  const source = new Readable({
    read() {
      maxBacklog = Math.max(maxBacklog, writer.backlog);
      if (produced >= total) {
        this.push(null);
        return;
      }
      produced += chunk.length;
      this.push(chunk);
    },
  });
  let paused = 0;
  source.on('pause', () => (paused += 1));
  const sampler = setInterval(() => {
    void openDescriptors(path).then((n) => (descriptors = Math.max(descriptors, n)));
  }, 20);
  await writer.follow(source, 'stdout');
  clearInterval(sampler);
  t.ok(paused > 0, `the source was paused ${paused} times`);
  t.ok(maxBacklog <= LOG_PENDING_MAX_BYTES + 2 * chunk.length, `backlog peaked at ${maxBacklog} bytes (bound ${LOG_PENDING_MAX_BYTES} plus a chunk)`);
  t.equal(descriptors, 1, 'one descriptor on the log while writing');
  const files = (await readdir(dir)).sort();
  t.same(files, ['flood.log', 'flood.log.1', 'flood.log.2'], 'rotated into maxFiles files');
  for (const file of files) t.ok((await stat(join(dir, file))).size <= rotation.maxBytes, `${file} within ${rotation.maxBytes} bytes`);
  await writer.close();
  t.equal(await openDescriptors(path), 0, 'close() lets go of it');
});

void t.test('a real fast producer (yes with a 1000-character line) is paused and bounded', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'yes.log');
  const rotation = { maxBytes: 2 * 1024 * 1024, maxFiles: 2 };
  const errors: unknown[] = [];
  const writer = new ContainerLogWriter(path, () => at, rotation, (error) => errors.push(error));
  const child = spawn('/usr/bin/yes', ['y'.repeat(1000)], { stdio: ['ignore', 'pipe', 'ignore'] });
  let maxBacklog = 0;
  let rotations = 0;
  child.stdout.on('data', () => (maxBacklog = Math.max(maxBacklog, writer.backlog)));
  const done = writer.follow(child.stdout, 'stdout');
  // Until the log rotated several times (then stop the producer).
  while (rotations < 4) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const size = await stat(path).then((s) => s.size, () => 0);
    if (size < 512 * 1024 && (await stat(`${path}.1`).then(() => true, () => false))) rotations += 1;
  }
  child.kill('SIGKILL');
  await done;
  t.same(errors, []);
  t.ok(maxBacklog <= LOG_PENDING_MAX_BYTES + 256 * 1024, `backlog peaked at ${maxBacklog} bytes`);
  for (const file of await readdir(dir)) t.ok((await stat(join(dir, file))).size <= rotation.maxBytes, `${file} within the rotation size`);
  t.match((await readFile(path, 'utf8')).split('\n')[0], /^\{"log":"y{1000}\\n","stream":"stdout"/);
  await writer.close();
});

void t.test('a symlink or FIFO planted in place of the log is refused, for writing and reading', async (t) => {
  const dir = t.testdir({ 'secret.key': 'PRIVATE KEY\n' });
  const path = join(dir, 'web.log');
  await symlink(join(dir, 'secret.key'), path);
  const errors: unknown[] = [];
  const writer = new ContainerLogWriter(path, () => at, undefined, (error) => errors.push(error));
  const out = new PassThrough();
  const done = writer.follow(out, 'stdout');
  out.end('appended?\n');
  await done;
  t.equal(await readFile(join(dir, 'secret.key'), 'utf8'), 'PRIVATE KEY\n', 'the target is untouched');
  t.equal((errors[0] as BerthError | undefined)?.code, 'RUNTIME_LOG_UNSAFE');
  t.match((errors[0] as Error).message, /Refusing container log .*web\.log: it is a symlink or a FIFO, not a file; remove it/);
  await writeFile(join(dir, 'secret.key'), '{"log":"PRIVATE KEY\\n","stream":"stdout","time":"x"}\n');
  t.same(await writer.read(10), [], 'reading does not follow the symlink either');

  const fifo = join(dir, 'fifo.log');
  const made = spawnSync('/usr/bin/mkfifo', [fifo]);
  t.equal(made.status, 0, 'mkfifo');
  const fifoErrors: unknown[] = [];
  const fifoWriter = new ContainerLogWriter(fifo, () => at, undefined, (error) => fifoErrors.push(error));
  const fifoOut = new PassThrough();
  const fifoDone = fifoWriter.follow(fifoOut, 'stdout');
  fifoOut.end('blocked?\n');
  await fifoDone;
  t.equal((fifoErrors[0] as BerthError | undefined)?.code, 'RUNTIME_LOG_UNSAFE', 'a FIFO without reader does not hang the writer');
});

void t.test('one descriptor on the log, across rotations too', async (t) => {
  const dir = t.testdir();
  const path = join(dir, 'r.log');
  const writer = new ContainerLogWriter(path, () => at, { maxBytes: 300, maxFiles: 2 });
  const out = new PassThrough();
  const done = writer.follow(out, 'stdout');
  out.write('first\n');
  await new Promise((resolve) => setImmediate(resolve));
  await writer.flushed();
  t.equal(await openDescriptors(path), 1);
  for (let i = 0; i < 6; i++) out.write(`line ${i}\n`);
  out.end();
  await done;
  t.equal(await openDescriptors(path), 1, 'still one descriptor after rotations');
  t.match(await readFile(path, 'utf8'), /line 5/);
  await writer.close();
});
