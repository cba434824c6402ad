/**
 * The watchdog pings prove that init's event loop turns, whatever libuv's thread pool is doing:
 * with every pool thread blocked (each in an open(2) of a FIFO nobody writes, as a starved disk
 * or the power button's reads hold them), the pings still reach the device. A file stands in for
 * /dev/watchdog0; each ping appends one byte.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { createLogger } from '../../../lib/log.ts';
import { startWatchdog } from '../../src/watchdog.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const sys = { fs: { exists: async () => true }, clock: { monotonicMs: () => performance.now(), sleep } };

void t.test('pings go on while every thread of the pool is blocked', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-watchdog-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const device = path.join(dir, 'watchdog0');
  writeFileSync(device, '');
  const lines: string[] = [];
  const logger = createLogger({ component: 'init', sinks: [(line) => lines.push(line)] });

  // libuv's pool has UV_THREADPOOL_SIZE threads (4 unless set); block one more than that.
  const poolSize = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  const fifos = Array.from({ length: poolSize + 1 }, (_, i) => path.join(dir, `fifo${i}`));
  for (const fifo of fifos) execFileSync('mkfifo', [fifo]);
  const blocked = fifos.map((fifo) => readFile(fifo));
  t.teardown(async () => {
    // A writer lets each blocked open(2) return, so the pool drains and the process can end. The
    // last FIFO's reader only starts its open(2) once a thread is free: until then a non-blocking
    // writer's open fails with ENXIO (no reader), so each is tried again until its reader is there.
    for (const fifo of fifos) {
      const deadline = performance.now() + 30_000;
      for (;;) {
        try {
          closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENXIO' || performance.now() > deadline) throw error;
          await sleep(5);
        }
      }
    }
    await Promise.allSettled(blocked);
  });
  await sleep(50);

  t.equal(await startWatchdog(sys, logger, device, 20), true, 'armed');
  await sleep(400);
  const pings = readFileSync(device, 'utf8');
  t.match(pings, /^k+$/, 'only pings were written');
  t.ok(pings.length >= 10, `at least 10 pings in 400 ms at one per 20 ms with the pool blocked (got ${pings.length})`);
  t.match(lines.join('\n'), /Watchdog armed/);
});

void t.test('a device that cannot be opened leaves the watchdog unarmed, with a warning', async (t) => {
  const lines: string[] = [];
  const logger = createLogger({ component: 'init', sinks: [(line) => lines.push(line)] });
  t.equal(await startWatchdog(sys, logger, '/nonexistent/berth-watchdog', 20), false);
  t.match(lines.join('\n'), /Watchdog not armed.*\/nonexistent\/berth-watchdog/);
});
