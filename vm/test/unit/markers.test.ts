import t from 'tap';
import { readyLine, failedLine } from '../../../lib/layout.ts';
import { parseFailedLine, parseReadyLine, shellCommandText, tailLines, takeShellResult } from '../../src/markers.ts';

await t.test('readiness lines parse as lib/layout writes them', (t) => {
  t.same(parseReadyLine(`[  3.1] x\n${readyLine('a', '0.1.0', 4321.4)}\n`), { slot: 'a', version: '0.1.0', bootMs: 4321 });
  t.same(parseReadyLine('BERTH-READY slot=b version=1.2.3-rc.1 boot_ms=12'), { slot: 'b', version: '1.2.3-rc.1', bootMs: 12 });
  t.equal(parseReadyLine('BERTH-READY slot=c version=1 boot_ms=1'), undefined);
  t.equal(parseReadyLine('nothing here'), undefined);
  t.same(parseFailedLine(failedLine('verity open failed')), { reason: 'verity_open_failed' });
  t.equal(parseFailedLine('BERTH-READY slot=a version=1 boot_ms=1'), undefined);
  t.end();
});

await t.test('shell command text carries the marker with the exit status', (t) => {
  t.equal(shellCommandText('ls /', 7), '{ ls /\n} </dev/null 2>&1; echo "__END_7_$?__"\n');
  t.end();
});

await t.test('shell results are taken up to their own marker', (t) => {
  t.equal(takeShellResult('partial output', 1), undefined);
  t.equal(takeShellResult('out\n__END_1_', 1), undefined, 'a marker cut in the middle is not a marker');
  t.equal(takeShellResult('out\n__END_1_0__\r', 1), undefined, 'a marker whose line has not ended yet is not taken');
  t.same(takeShellResult('out\n__END_1_0__\r\r\nnext', 1), { result: { exitCode: 0, output: 'out\n' }, rest: 'next' });
  t.same(takeShellResult('a\r\nb\n__END_3_0__\nrest', 3), { result: { exitCode: 0, output: 'a\nb\n' }, rest: 'rest' });
  t.same(takeShellResult('__END_4_127__\n', 4), { result: { exitCode: 127, output: '' }, rest: '' });
  t.equal(takeShellResult('__END_2_0__\n', 12), undefined, 'another command\'s marker does not count');
  // Should the guest echo the command line, the echoed `$?` never matches.
  const echoed = `${shellCommandText('false', 5)}`;
  t.equal(takeShellResult(echoed, 5), undefined);
  t.same(takeShellResult(`${echoed}__END_5_1__\n`, 5)?.result.exitCode, 1);
  t.end();
});

await t.test('tailLines keeps the last lines', (t) => {
  t.equal(tailLines('a\r\nb\nc\n', 2), 'b\nc');
  t.equal(tailLines('', 3), '');
  t.equal(tailLines('x', 3), 'x');
  t.end();
});
