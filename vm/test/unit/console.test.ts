import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { ConsoleReader } from '../../src/console.ts';
import { FAILED_PATTERN, READY_PATTERN } from '../../src/markers.ts';
import { errorCode } from '../../../lib/errors.ts';

await t.test('waitFor finds a line appended while waiting', async (t) => {
  const log = join(t.testdir(), 'console.log');
  const reader = new ConsoleReader(log);
  t.teardown(() => reader.close());
  const writer = (async () => {
    await sleep(150);
    await writeFile(log, 'UEFI firmware\n[    1.0] Linux version 6.12\n');
    await sleep(150);
    await appendFile(log, 'level=info component=init msg="Mounted /var"\nBERTH-READY slot=a vers');
    await sleep(150);
    await appendFile(log, 'ion=0.1.0 boot_ms=4242\n');
  })();
  const found = await reader.waitFor(READY_PATTERN, 5000);
  await writer;
  t.equal(found.match[0], 'BERTH-READY slot=a version=0.1.0 boot_ms=4242');
  t.equal(found.match[3], '4242');
  t.equal(reader.text().slice(found.end), '\n');
  const mounted = await reader.waitFor(/msg="Mounted (\S+)"/, 100);
  t.equal(mounted.match[1], '/var', 'a later wait can look back at text already read');
  await t.rejects(reader.waitFor(/Mounted/, 100, { from: found.end }), { code: errorCode('QEMU_TIMEOUT') }, 'from skips earlier text');
});

await t.test('waitFor times out with the tail of the console', async (t) => {
  const log = join(t.testdir(), 'console.log');
  await writeFile(log, 'only this line\n');
  const reader = new ConsoleReader(log);
  t.teardown(() => reader.close());
  const start = performance.now();
  await t.rejects(reader.waitFor(READY_PATTERN, 300), { code: errorCode('QEMU_TIMEOUT'), message: /only this line/ });
  t.ok(performance.now() - start >= 290);
});

await t.test('waitFor fails at once on a failure pattern seen first', async (t) => {
  const log = join(t.testdir(), 'console.log');
  await writeFile(log, 'BERTH-FAILED reason=verity_open_failed\nBERTH-READY slot=a version=1 boot_ms=1\n');
  const reader = new ConsoleReader(log);
  t.teardown(() => reader.close());
  await t.rejects(reader.waitFor(READY_PATTERN, 5000, { failOn: [FAILED_PATTERN] }), {
    code: errorCode('QEMU_CONSOLE_FAILURE'),
    message: /BERTH-FAILED reason=verity_open_failed/,
  });
  const found = await reader.waitFor(FAILED_PATTERN, 100, { failOn: [READY_PATTERN] });
  t.equal(found.match[1], 'verity_open_failed', 'a failure pattern after the match does not count');
});

await t.test('waitFor stops when the writer is done, after a last read', async (t) => {
  const log = join(t.testdir(), 'console.log');
  await writeFile(log, 'booting\n');
  let done = false;
  const reader = new ConsoleReader(log, { isWriterDone: () => done, writerDoneReason: () => 'QEMU exited with code 1' });
  t.teardown(() => reader.close());
  const waiting = reader.waitFor(/last words/, 10_000);
  await sleep(150);
  await appendFile(log, 'last words\n');
  done = true;
  t.equal((await waiting).match[0], 'last words', 'what the writer left before it ended is still read');
  await t.rejects(reader.waitFor(READY_PATTERN, 10_000), { code: errorCode('QEMU_EXITED'), message: /QEMU exited with code 1/ });
});

await t.test('a reader starting at an offset sees only later boots; split UTF-8 is decoded', async (t) => {
  const log = join(t.testdir(), 'console.log');
  await writeFile(log, 'BERTH-READY slot=a version=1 boot_ms=1\n');
  const reader = new ConsoleReader(log, { startOffset: Buffer.byteLength('BERTH-READY slot=a version=1 boot_ms=1\n') });
  t.teardown(() => reader.close());
  await t.rejects(reader.waitFor(READY_PATTERN, 200), { code: errorCode('QEMU_TIMEOUT') }, 'the first boot is not seen');
  const euro = Buffer.from('€', 'utf8');
  await appendFile(log, Buffer.concat([Buffer.from('price '), euro.subarray(0, 1)]));
  await reader.poll();
  await appendFile(log, Buffer.concat([euro.subarray(1), Buffer.from('\nBERTH-READY slot=b version=2 boot_ms=2\n')]));
  t.equal((await reader.waitFor(READY_PATTERN, 2000)).match[1], 'b');
  t.match(reader.text(), /price €\n/);
});

await t.test('a missing log is waited for, not an error', async (t) => {
  const log = join(t.testdir(), 'later.log');
  const reader = new ConsoleReader(log);
  t.teardown(() => reader.close());
  setTimeout(() => void writeFile(log, 'hello\n'), 200);
  t.equal((await reader.waitFor(/hello/, 3000)).match[0], 'hello');
});
