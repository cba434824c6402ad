import t from 'tap';
import { exitStatus, summaryLine, tapPoint, type CheckOutcome } from '../../../src/vm/tap.ts';

await t.test('TAP points: ok with a detail, not ok with a YAML block naming the spec line', async (t) => {
  t.equal(tapPoint(1, 'web: ready', { status: 'passed', detail: 'slot a' }, 9, 'test.yaml'), 'ok 1 - web: ready (slot a)\n');
  t.equal(
    tapPoint(2, 'web: http # 1', { status: 'failed', message: 'expected 200\nlast 404' }, 11, 'test.yaml'),
    'not ok 2 - web: http \\# 1\n  ---\n  message: |-\n    expected 200\n    last 404\n  at: test.yaml:11\n  ...\n',
  );
  t.match(tapPoint(3, 'web: exec', { status: 'not-run', reason: 'ready failed' }, 12, 'test.yaml'), /^not ok 3 - web: exec\n  ---\n  message: \|-\n    not run: ready failed\n/);
});

await t.test('summary and exit status: 0 only when every check passed', async (t) => {
  const passed: CheckOutcome = { status: 'passed' };
  const failed: CheckOutcome = { status: 'failed', message: 'x' };
  const notRun: CheckOutcome = { status: 'not-run', reason: 'y' };
  t.equal(exitStatus([passed, passed]), 0);
  t.equal(exitStatus([passed, failed]), 1);
  t.equal(exitStatus([passed, notRun]), 1);
  t.equal(exitStatus([]), 1, 'no checks is no evidence');
  t.equal(summaryLine('t.yaml', [passed, failed, notRun], 61_400), '# FAIL berth vm test t.yaml: 1 passed, 1 failed, 1 not run (61 s)\n');
  t.equal(summaryLine('t.yaml', [passed], 1000), '# PASS berth vm test t.yaml: 1 passed, 0 failed, 0 not run (1 s)\n');
});
