/**
 * berth-monitor (native/berth-monitor.c) compiled with the host's gcc and run with /bin/sh in
 * place of crun: its records are byte-identical to the TypeScript formatter's, it rotates as
 * planRotation does, reports started / first output / exit on its socket and in exit.json,
 * outlives the process that spawned it, and stays bounded under a flood.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { createExec } from '../../../lib/sys/exec.ts';
import { formatLogRecord, LogLineSplitter, planRotation, type LogStream } from '../../src/core/container-log.ts';
import { monitorArgs, parseExitFile, parsePidFile } from '../../src/core/monitor.ts';
import { ContainerLogReader } from '../../src/log-reader.ts';
import { createMonitorSys, linkTo } from '../../src/monitor.ts';
import { errorCode } from '../../../lib/errors.ts';

const repoRoot = join(import.meta.dirname, '../../..');

/** The monitor as the image builder compiles it (static, warnings are errors). */
function compileMonitor(dir: string): string {
  const out = join(dir, 'berth-monitor');
  execFileSync('gcc', ['-static', '-Os', '-Wall', '-Wextra', '-Werror', '-std=gnu11', '-o', out, join(repoRoot, 'native/berth-monitor.c')], { stdio: 'inherit' });
  return out;
}

const monitorDir = mkdtempSync('/tmp/berth-monitor-bin-');
t.teardown(() => rmSync(monitorDir, { recursive: true, force: true }));
const monitorPath = compileMonitor(monitorDir);
const exec = createExec();
const monitors = createMonitorSys(exec, monitorPath);
const env = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' };

/** A state directory with a short path: a unix socket path has at most 107 bytes. */
function stateDir(t: Test): string {
  const dir = mkdtempSync('/tmp/berth-monitor-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function args(dir: string, script: string, rotation = { maxBytes: 10 * 1024 * 1024, maxFiles: 3 }): string[] {
  return monitorArgs({ stateDir: dir, logFile: join(dir, 'c.log'), rotation }, '/bin/sh', ['-c', script]);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Parsed {
  raw: string;
  log: string;
  stream: LogStream;
  time: string;
}

function recordsOf(text: string): Parsed[] {
  return text
    .split(/(?<=\n)/)
    .filter((line) => line !== '')
    .map((raw) => ({ raw, ...(JSON.parse(raw) as { log: string; stream: LogStream; time: string }) }));
}

/** The TypeScript splitter over the whole stream, each record formatted with the time the monitor wrote. */
function expectedRecords(bytes: Buffer, stream: LogStream, times: string[]): string[] {
  const splitter = new LogLineSplitter(stream);
  const at = new Date(0);
  const texts = [...splitter.push(bytes, at), ...splitter.flush(at)].map((record) => (JSON.parse(record) as { log: string }).log);
  return texts.map((text, i) => formatLogRecord(stream, text, new Date(times[i] ?? 0)));
}

function trickyBytes(seed: number): Buffer {
  const parts: Buffer[] = [
    Buffer.from('plain line\n'),
    Buffer.from(`quotes " and \\ backslash, tab\t, cr\r, ${String.fromCharCode(...Array.from({ length: 32 }, (_, i) => i).filter((c) => c !== 10))} del \x7f\n`, 'latin1'),
    Buffer.from('unicode é ü € 𝄞 \u2028 \u2029 \ufeff\n'),
    // Invalid UTF-8: lone continuation, overlong, surrogate, past U+10FFFF, truncated sequences.
    Buffer.from([0x80, 0x0a, 0xc0, 0xaf, 0x0a, 0xed, 0xa0, 0x80, 0x0a, 0xf4, 0x90, 0x80, 0x80, 0x0a, 0xe2, 0x82, 0x0a, 0xf0, 0x9f, 0x98, 0x41, 0x0a, 0xff, 0xfe, 0xc2, 0x0a]),
    Buffer.from(`${'a'.repeat(40_000)}\n`),
    Buffer.from(`${'b'.repeat(16_384)}\n`),
    Buffer.from(`${'c'.repeat(16_383)}\n`),
    // A multi-byte character across the 16 KiB cut, and one whose bytes are all past it.
    Buffer.from(`${'d'.repeat(16_383)}é${'d'.repeat(100)}\n`),
    Buffer.from(`${'e'.repeat(16_382)}𝄞\n`),
    Buffer.concat([Buffer.alloc(16_385, 0x80), Buffer.from('\n')]),
  ];
  // Random bytes with newlines: whatever the decoder meets.
  let state = seed;
  const random = Buffer.alloc(200_000);
  for (let i = 0; i < random.length; i++) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    random[i] = state % 50 === 0 ? 0x0a : (state >> 8) & 0xff;
  }
  parts.push(random);
  // The last line has no newline.
  parts.push(Buffer.from('no newline at the end'));
  return Buffer.concat(parts);
}

void t.test('records are byte-identical to the TypeScript formatter, on both streams', async (t) => {
  const dir = stateDir(t);
  const out = trickyBytes(1);
  const err = trickyBytes(2);
  await writeFile(join(dir, 'out.bin'), out);
  await writeFile(join(dir, 'err.bin'), err);
  const link = await monitors.start(dir, args(dir, `cat ${dir}/out.bin; cat ${dir}/err.bin >&2`), env);
  const exit = await link.exited;
  t.same(exit, { exitCode: 0 });
  const records = recordsOf(await readFile(join(dir, 'c.log'), 'utf8'));
  for (const stream of ['stdout', 'stderr'] as const) {
    const mine = records.filter((r) => r.stream === stream);
    t.same(
      mine.filter((r) => new Date(r.time).toISOString() !== r.time).map((r) => r.time),
      [],
      `${stream}: times as Date.toISOString writes them`,
    );
    const expected = expectedRecords(stream === 'stdout' ? out : err, stream, mine.map((r) => r.time));
    t.equal(mine.length, expected.length, `${stream}: as many records`);
    const firstDifference = mine.findIndex((r, i) => r.raw !== expected[i]);
    t.equal(firstDifference, -1, `${stream}: every record identical${firstDifference >= 0 ? `: ${mine[firstDifference]?.raw.slice(0, 200)} vs ${expected[firstDifference]?.slice(0, 200)}` : ''}`);
  }
  t.equal(records.at(-1)?.log.endsWith('no newline at the end') ?? false, true);
});

void t.test('rotation: as planRotation decides, record by record', async (t) => {
  const dir = stateDir(t);
  const rotation = { maxBytes: 1000, maxFiles: 3 };
  const link = await monitors.start(dir, args(dir, 'i=0; while [ $i -lt 100 ]; do echo "line $i"; i=$((i+1)); done', rotation), env);
  await link.exited;
  // Each record has the same length per digit count: simulate the files from the texts.
  const files = new Map<string, string[]>([['c.log', []]]);
  let size = 0;
  for (let i = 0; i < 100; i++) {
    const record = formatLogRecord('stdout', `line ${i}\n`, new Date(0));
    const step = planRotation('c.log', size, record.length, rotation);
    if (step !== undefined) {
      if (step.remove !== undefined) files.delete(step.remove);
      for (const [from, to] of step.renames) {
        const moved = files.get(from);
        files.delete(from);
        if (moved !== undefined) files.set(to, moved);
      }
      files.set('c.log', []);
      size = 0;
    }
    files.get('c.log')?.push(`line ${i}\n`);
    size += record.length;
  }
  const names = (await readdir(dir)).filter((n) => n.startsWith('c.log')).sort();
  t.same(names, [...files.keys()].sort());
  for (const [name, texts] of files) {
    const content = await readFile(join(dir, name), 'utf8');
    t.same(
      recordsOf(content).map((r) => r.log),
      texts,
      `${name} holds the same records`,
    );
    t.ok(content.length <= rotation.maxBytes, `${name} within max-size`);
  }
});

void t.test('events on the socket, exit.json and the pid files', async (t) => {
  const dir = stateDir(t);
  const link = await monitors.start(dir, args(dir, 'sleep 0.3; echo out; sleep 0.3; exit 3'), env);
  const containerPid = parsePidFile(await readFile(join(dir, 'container.pid'), 'utf8'));
  t.equal(link.pid, containerPid, 'started pid= is container.pid');
  const monitorPid = parsePidFile(await readFile(join(dir, 'monitor.pid'), 'utf8'));
  t.ok(monitorPid !== undefined && isAlive(monitorPid), 'the monitor runs');
  const first = new Promise<string>((resolve) => link.onFirstOutput((stream, uptimeMs) => resolve(`${stream} ${uptimeMs > 0 ? 'uptime' : 'none'}`)));
  // A second client connecting late gets started again.
  const late = await linkTo(dir);
  t.equal(late.pid, link.pid);
  t.equal(await first, 'stdout uptime');
  t.same(await link.exited, { exitCode: 3 });
  t.same(await late.exited, { exitCode: 3 });
  const exit = parseExitFile(await readFile(join(dir, 'exit.json'), 'utf8'));
  t.equal(exit?.exitCode, 3);
  t.equal(exit?.signal, undefined);
  t.notOk(existsSync(join(dir, 'monitor.sock')), 'the socket is removed at exit');
  await until(() => monitorPid !== undefined && !isAlive(monitorPid));

  const killed = stateDir(t);
  const link2 = await monitors.start(killed, args(killed, 'kill -TERM $$'), env);
  t.same(await link2.exited, { exitCode: 143, signal: 'SIGTERM' });
  t.match(parseExitFile(await readFile(join(killed, 'exit.json'), 'utf8')), { exitCode: 143, signal: 'SIGTERM' });
  // The monitor ignores SIGINT and SIGHUP itself; what it starts gets the default dispositions back.
  const interrupted = stateDir(t);
  const link3 = await monitors.start(interrupted, args(interrupted, 'kill -INT $$; kill -HUP $$; exit 0'), env);
  t.same(await link3.exited, { exitCode: 130, signal: 'SIGINT' }, 'SIGINT is not ignored in the container');
});

void t.test('the program starts at the OOM score adjustment asked for, set before it runs', async (t) => {
  // Raising one's own adjustment needs no privilege; lowering it would need CAP_SYS_RESOURCE.
  const own = Number(readFileSync('/proc/self/oom_score_adj', 'utf8'));
  const wanted = Math.min(1000, own + 123);
  const dir = stateDir(t);
  const link = await monitors.start(
    dir,
    monitorArgs({ stateDir: dir, logFile: join(dir, 'c.log'), rotation: { maxBytes: 1000, maxFiles: 2 }, oomScoreAdj: wanted }, '/bin/sh', ['-c', 'cat /proc/self/oom_score_adj']),
    env,
  );
  t.same(await link.exited, { exitCode: 0 });
  const record = JSON.parse((await readFile(join(dir, 'c.log'), 'utf8')).split('\n')[0] ?? '') as { log: string };
  t.equal(record.log, `${wanted}\n`, 'the program read its adjustment at its first instruction');
  t.equal(Number(readFileSync('/proc/self/oom_score_adj', 'utf8')), own, "the caller's own adjustment is untouched");
  await t.rejects(exec.run(monitorPath, ['--state-dir', dir, '--log', join(dir, 'c.log'), '--max-size', '9', '--max-files', '2', '--oom-score-adj', '5000', '--', '/bin/true'], { env }), {
    message: /--oom-score-adj expects an integer from -1000 to 1000, got '5000'/,
  });
});

void t.test('a monitor that cannot start says why and exits non-zero', async (t) => {
  const dir = stateDir(t);
  await t.rejects(exec.run(monitorPath, monitorArgs({ stateDir: dir, logFile: join(dir, 'c.log'), rotation: { maxBytes: 1000, maxFiles: 2 } }, '/nonexistent/crun', []), { env }), {
    code: errorCode('EXEC_EXIT_NONZERO'),
    message: /Cannot run \/nonexistent\/crun: No such file or directory/,
  });
  await t.rejects(exec.run(monitorPath, ['--state-dir', dir, '--log', join(dir, 'c.log'), '--max-size', 'x', '--max-files', '2', '--', '/bin/true'], { env }), { message: /--max-size expects a positive integer/ });
  await t.rejects(
    exec.run(monitorPath, monitorArgs({ stateDir: dir, logFile: join(dir, 'c.log'), rotation: { maxBytes: 1000, maxFiles: 2 }, cgroup: join(dir, 'no-cgroup') }, '/bin/true', []), { env }),
    { message: /Cannot move the monitor into cgroup/ },
  );
  await t.rejects(monitors.find(dir).then((found) => (found === undefined ? Promise.reject(new Error('none')) : found)), { message: 'none' }, 'no live monitor to find');
});

void t.test('the monitor outlives the process that started it; a new client finds it and the log has every line', async (t) => {
  const dir = stateDir(t);
  // The spawning process is SIGKILLed once the monitor is ready, as init's Node would be.
  const parent = spawn('/bin/sh', ['-c', `"$0" "$@" && echo ready && exec sleep 60`, monitorPath, ...args(dir, 'i=0; while [ $i -lt 30 ]; do echo "n $i"; i=$((i+1)); sleep 0.05; done; exit 7')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) => parent.stdout.once('data', () => resolve()));
  parent.kill('SIGKILL');
  const found = await monitors.find(dir);
  t.ok(found !== undefined, 'a new client finds the live monitor');
  t.same(await found?.exited, { exitCode: 7 });
  const logs = recordsOf(await readFile(join(dir, 'c.log'), 'utf8')).map((r) => r.log);
  t.same(
    logs,
    Array.from({ length: 30 }, (_, i) => `n ${i}\n`),
    'no line lost',
  );
});

void t.test('a flood stays within max-size x max-files and the monitor memory stays small', async (t) => {
  const dir = stateDir(t);
  const rotation = { maxBytes: 200_000, maxFiles: 3 };
  const link = await monitors.start(dir, args(dir, `yes "$(head -c 1000 /dev/zero | tr '\\0' x)" | head -c 30030000; printf '%020000d' 0 | tr 0 y`, rotation), env);
  const monitorPid = parsePidFile(readFileSync(join(dir, 'monitor.pid'), 'utf8'));
  let maxRssKiB = 0;
  let done = false;
  void link.exited.then(() => (done = true));
  while (!done) {
    const status = await readFile(`/proc/${String(monitorPid)}/status`, 'utf8').catch(() => '');
    maxRssKiB = Math.max(maxRssKiB, Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.same(await link.exited, { exitCode: 0 });
  const names = (await readdir(dir)).filter((n) => n.startsWith('c.log'));
  t.same(names.sort(), ['c.log', 'c.log.1', 'c.log.2']);
  let total = 0;
  for (const name of names) {
    const size = (await stat(join(dir, name))).size;
    t.ok(size <= rotation.maxBytes, `${name}: ${size} <= max-size`);
    total += size;
  }
  t.ok(total <= rotation.maxBytes * rotation.maxFiles, `total ${total} <= max-size x max-files`);
  t.ok(maxRssKiB > 0 && maxRssKiB < 4096, `monitor RSS ${maxRssKiB} KiB stays under 4 MiB`);
  const last = recordsOf(await readFile(join(dir, 'c.log'), 'utf8')).at(-1);
  t.equal(last?.log, 'y'.repeat(20_000 - 16_384), 'the unterminated rest after a 16 KiB cut is the last record');
});

void t.test('the log reader: last records, then every new one across rotations, and the last lines of a run', async (t) => {
  const dir = stateDir(t);
  const rotation = { maxBytes: 2000, maxFiles: 3 };
  const runStart = new Date();
  const link = await monitors.start(dir, args(dir, 'i=0; while [ $i -lt 300 ]; do echo "n $i"; i=$((i+1)); [ $((i % 20)) = 0 ] && sleep 0.1; done; echo done >&2; exit 1', rotation), env);
  const reader = new ContainerLogReader(join(dir, 'c.log'), rotation.maxFiles, 20);
  const followed: string[] = [];
  const abort = new AbortController();
  const first = await reader.read(5, (record) => followed.push(record), abort.signal);
  await link.exited;
  await until(() => followed.some((r) => r.includes('"done\\n"')));
  abort.abort();
  const texts = [...first, ...followed].map((r) => (JSON.parse(r) as { log: string }).log).filter((l) => l !== 'done\n');
  const numbers = texts.map((l) => Number(/^n (\d+)\n$/.exec(l)?.[1]));
  const from = numbers[0] ?? 0;
  t.same(
    numbers,
    Array.from({ length: 300 - from }, (_, i) => from + i),
    `every record from n ${from} on, once, in order`,
  );
  t.ok((await readdir(dir)).includes('c.log.2'), 'the log was rotated meanwhile');
  t.same((await reader.read(3)).map((r) => (JSON.parse(r) as { log: string }).log), ['n 298\n', 'n 299\n', 'done\n']);
  t.same(await reader.lastLines(2, runStart), ['stdout: n 299', 'stderr: done']);
  t.same(await reader.lastLines(2, new Date(Date.now() + 60_000)), [], 'lines of earlier runs are not this run\'s');
});
