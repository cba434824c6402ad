import t from 'tap';
import { LogLineSplitter, formatLogRecord, lastLogLines, planRotation } from '../../src/core/container-log.ts';

const T = new Date('2026-11-23T10:00:00.123Z');

void t.test('json-file records as Docker writes them', (t) => {
  t.equal(formatLogRecord('stdout', 'hello\n', T), '{"log":"hello\\n","stream":"stdout","time":"2026-11-23T10:00:00.123Z"}\n');
  const splitter = new LogLineSplitter('stderr');
  t.same(splitter.push(Buffer.from('one\ntw'), T), [formatLogRecord('stderr', 'one\n', T)]);
  t.same(splitter.push(Buffer.from('o\nthree'), T), [formatLogRecord('stderr', 'two\n', T)], 'lines joined across chunks');
  t.same(splitter.flush(T), [formatLogRecord('stderr', 'three', T)], 'the unterminated rest on close');
  t.same(splitter.flush(T), []);
  t.end();
});

void t.test('long lines are split at 16 KiB without breaking UTF-8', (t) => {
  const splitter = new LogLineSplitter('stdout', 10);
  const records = splitter.push(Buffer.from('abcdefghiéz\n'), T);
  t.same(records.map((r) => (JSON.parse(r) as { log: string }).log), ['abcdefghi', 'éz\n'], 'the 2-byte é is not cut');
  const big = new LogLineSplitter('stdout');
  const parts = big.push(Buffer.alloc(40_000, 0x61), T);
  t.same(parts.map((r) => (JSON.parse(r) as { log: string }).log.length), [16384, 16384]);
  t.same(big.flush(T).map((r) => (JSON.parse(r) as { log: string }).log.length), [40_000 - 32768]);
  t.end();
});

void t.test('rotation', (t) => {
  const policy = { maxBytes: 100, maxFiles: 3 };
  t.equal(planRotation('/var/log/containers/web.log', 50, 50, policy), undefined);
  t.equal(planRotation('/var/log/containers/web.log', 0, 500, policy), undefined, 'an empty file takes even a huge record');
  t.same(planRotation('/var/log/containers/web.log', 90, 20, policy), {
    remove: '/var/log/containers/web.log.2',
    renames: [['/var/log/containers/web.log.1', '/var/log/containers/web.log.2'], ['/var/log/containers/web.log', '/var/log/containers/web.log.1']],
  });
  t.same(planRotation('w.log', 90, 20, { maxBytes: 100, maxFiles: 1 }), { remove: 'w.log', renames: [] });
  t.end();
});

void t.test('last lines for the console', (t) => {
  const content = [formatLogRecord('stdout', 'starting\n', T), formatLogRecord('stderr', 'panic: boom\n', T), '{"log":"torn'].join('');
  t.same(lastLogLines(content, 5), ['stdout: starting', 'stderr: panic: boom']);
  t.same(lastLogLines(content, 2), ['stderr: panic: boom']);
  t.end();
});
