import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError } from '../../errors.ts';
import { BoundedCapture, createExec, DEFAULT_MAX_OUTPUT_BYTES } from '../../sys/exec.ts';

const exec = createExec();

/** Whether `pid` runs (a zombie waiting for its reaper does not). */
async function isAlive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat !== undefined && !/^\d+ \(.*\) [ZX]/s.test(stat);
}

/** Samples this process's ArrayBuffer memory (where Buffers live) while `work` runs; returns the peak growth. */
async function peakBufferGrowth<T>(work: () => Promise<T>): Promise<{ result: PromiseSettledResult<T>; growth: number }> {
  global.gc?.();
  const base = process.memoryUsage().arrayBuffers;
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 5);
  const [result] = await Promise.allSettled([work()]);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().arrayBuffers);
  return { result, growth: peak - base };
}

void t.test('BoundedCapture keeps the first bytes and counts the rest', (t) => {
  const capture = new BoundedCapture(5);
  capture.push(Buffer.from('abc'));
  capture.push(Buffer.from('defgh'));
  capture.push(Buffer.from('ijk'));
  t.equal(capture.text(), 'abcde');
  t.equal(capture.dropped, 6);
  const big = new BoundedCapture(10_000);
  for (let i = 0; i < 100; i += 1) big.push(Buffer.alloc(1000, 0x61));
  t.equal(big.text().length, 10_000, 'grows past its first buffer up to the limit');
  t.equal(big.dropped, 90_000);
  let code: string | undefined;
  try {
    new BoundedCapture(-1);
  } catch (error) {
    code = (error as BerthError).code;
  }
  t.equal(code, 'EXEC_OPTION_INVALID');
  t.end();
});

// The bound leaves room for chunks the garbage collector has not freed yet; keeping the output
// would grow memory by all of it.
const BUFFER_GROWTH_BOUND = 96 * 1024 * 1024;

void t.test('384 MiB of output is drained with 4 KiB kept, truncation reported, memory bounded', async (t) => {
  const total = 384 * 1024 * 1024;
  const { result, growth } = await peakBufferGrowth(() => exec.run('/usr/bin/head', ['-c', String(total), '/dev/zero'], { maxOutputBytes: 4096 }));
  t.equal(result.status, 'fulfilled');
  if (result.status !== 'fulfilled') return;
  t.equal(result.value.exitCode, 0, 'the child was not blocked: it wrote everything and exited');
  t.equal(Buffer.byteLength(result.value.stdout, 'latin1'), 4096);
  t.same(result.value.dropped, { stdout: total - 4096, stderr: 0 });
  t.comment(`peak ArrayBuffer growth ${(growth / 1024 / 1024).toFixed(1)} MiB for ${total / 1024 / 1024} MiB of output`);
  t.ok(growth < BUFFER_GROWTH_BOUND, `buffer memory grew by ${growth} bytes, a fraction of the output`);
});

void t.test('an endless writer (yes) that times out ends with EXEC_TIMEOUT and bounded memory', async (t) => {
  const { result, growth } = await peakBufferGrowth(() => exec.run('/usr/bin/yes', [], { timeoutMs: 1500, maxOutputBytes: 4096 }));
  t.equal(result.status, 'rejected');
  if (result.status === 'rejected') t.equal((result.reason as BerthError).code, 'EXEC_TIMEOUT');
  t.comment(`peak ArrayBuffer growth ${(growth / 1024 / 1024).toFixed(1)} MiB`);
  t.ok(growth < BUFFER_GROWTH_BOUND, `buffer memory grew by ${growth} bytes`);
});

void t.test('without maxOutputBytes the default bound applies', async (t) => {
  const total = DEFAULT_MAX_OUTPUT_BYTES + 1000;
  const result = await exec.run('/usr/bin/head', ['-c', String(total), '/dev/zero']);
  t.equal(result.stdout.length, DEFAULT_MAX_OUTPUT_BYTES);
  t.same(result.dropped, { stdout: 1000, stderr: 0 });
  const small = await exec.run('/usr/bin/printf', ['hello']);
  t.equal(small.stdout, 'hello');
  t.notOk('dropped' in small, 'nothing dropped, nothing reported');
});

void t.test('stderr is bounded too, and the stderr tail of a failure comes from the kept part', async (t) => {
  const error = await exec.run('/bin/sh', ['-c', 'head -c 100000 /dev/zero | tr "\\0" x >&2; exit 3'], { maxOutputBytes: 100 }).catch((e: unknown) => e);
  t.equal((error as BerthError).code, 'EXEC_EXIT_NONZERO');
  t.match((error as BerthError).message, /exited with 3: x{100}$/);
});

void t.test('a timed-out child whose grandchild holds the pipes open still ends', async (t) => {
  const dir = t.testdir();
  const pidFile = join(dir, 'grandchild.pid');
  // The grandchild inherits stdout and outlives its parent: 'close' alone would wait 10 minutes.
  const error = await exec.run('/bin/sh', ['-c', `sleep 600 & echo $! > ${pidFile}; exec sleep 600`], { timeoutMs: 500 }).catch((e: unknown) => e);
  const grandchild = Number(await readFile(pidFile, 'utf8'));
  t.teardown(async () => {
    if (await isAlive(grandchild)) process.kill(grandchild, 'SIGKILL');
  });
  t.equal((error as BerthError).code, 'EXEC_TIMEOUT');
  t.ok(await isAlive(grandchild), 'without onTimeout the grandchild is not touched, only waited for no longer');
});

void t.test('onTimeout runs before the child is killed and can end what the child started', async (t) => {
  const dir = t.testdir();
  const pidFile = join(dir, 'grandchild.pid');
  const events: string[] = [];
  const error = await exec
    .run('/bin/sh', ['-c', `yes & echo $! > ${pidFile}; exec sleep 600`], {
      timeoutMs: 500,
      maxOutputBytes: 4096,
      onTimeout: async (childPid) => {
        events.push(`child ${typeof childPid}`);
        const pid = Number(await readFile(pidFile, 'utf8'));
        events.push(`kill ${pid}`);
        process.kill(pid, 'SIGKILL');
      },
    })
    .catch((e: unknown) => e);
  t.equal((error as BerthError).code, 'EXEC_TIMEOUT');
  const grandchild = Number(await readFile(pidFile, 'utf8'));
  t.same(events, ['child number', `kill ${grandchild}`], 'it gets the child\'s pid');
  t.notOk(await isAlive(grandchild), 'the grandchild is gone');
});

void t.test('a failing onTimeout still kills the child', async (t) => {
  const error = await exec
    .run('/usr/bin/sleep', ['600'], {
      timeoutMs: 200,
      onTimeout: () => Promise.reject(new Error('no pid file')),
    })
    .catch((e: unknown) => e);
  t.equal((error as BerthError).code, 'EXEC_TIMEOUT');
});
