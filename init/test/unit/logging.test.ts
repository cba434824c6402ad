import t from 'tap';
import { EARLY_BUFFER_LINES, createInitLog } from '../../src/logging.ts';
import { createFakeClock, createFakeConsole, createFakeFileSystem } from '../../src/sys/fakes.ts';

void t.test('lines before /var are buffered, then flushed to the file first', async (t) => {
  const console = createFakeConsole();
  const fs = createFakeFileSystem();
  const log = createInitLog(console, createFakeClock());
  log.logger.info('Early', { stage: 'mount-api' });
  log.consoleLine('BERTH-READY slot=a version=1 boot_ms=5');
  t.same(console.lines, ['level=info component=init msg=Early stage=mount-api', 'BERTH-READY slot=a version=1 boot_ms=5']);
  log.attachFile(await fs.openAppend('/var/log/berth/init.log'));
  log.logger.warn('Late');
  t.same(fs.appended.get('/var/log/berth/init.log'), [
    'time=2026-01-01T00:00:00.000Z level=info component=init msg=Early stage=mount-api',
    'time=2026-01-01T00:00:00.000Z BERTH-READY slot=a version=1 boot_ms=5',
    'time=2026-01-01T00:00:00.000Z level=warn component=init msg=Late',
  ]);
  await log.closeFile();
  log.logger.info('After close');
  t.equal(fs.appended.get('/var/log/berth/init.log')?.length, 3, 'nothing reaches the file after close');
  t.equal(console.lines.at(-1), 'level=info component=init msg="After close"', 'the console still gets it');
});

void t.test('the early buffer is bounded and says how much it dropped', async (t) => {
  const fs = createFakeFileSystem();
  const log = createInitLog(createFakeConsole(), createFakeClock());
  for (let i = 0; i < EARLY_BUFFER_LINES + 3; i++) log.logger.info('Line', { i });
  log.attachFile(await fs.openAppend('/l'));
  const lines = fs.appended.get('/l') ?? [];
  t.equal(lines.length, EARLY_BUFFER_LINES + 1);
  t.match(lines[0], /msg="Early log lines dropped" count=3/);
  t.match(lines[1], / i=3$/);
});

void t.test('debug lines only when asked for', (t) => {
  const console = createFakeConsole();
  createInitLog(console, createFakeClock()).logger.debug('Hidden');
  createInitLog(console, createFakeClock(), 'debug').logger.debug('Shown');
  t.same(console.lines, ['level=debug component=init msg=Shown']);
  t.end();
});
