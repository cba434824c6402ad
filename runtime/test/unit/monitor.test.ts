import t from 'tap';
import { decideAdoption, monitorArgs, parseExitFile, parseMonitorEvent, parsePidFile, specHash, type FoundMonitor } from '../../src/core/monitor.ts';
import { errorCode } from '../../../lib/errors.ts';

void t.test('argv: options, then the program after --', (t) => {
  t.matchSnapshot(
    monitorArgs(
      {
        stateDir: '/run/berth/containers/web/monitor',
        logFile: '/var/log/containers/web.log',
        rotation: { maxBytes: 10485760, maxFiles: 3 },
        cgroup: '/sys/fs/cgroup/berth.slice/monitors.scope',
        oomScoreAdj: 0,
      },
      '/usr/bin/crun',
      ['run', 'web'],
    ),
  );
  t.same(monitorArgs({ stateDir: '/s', logFile: '/l', rotation: { maxBytes: 5, maxFiles: 1 } }, '/bin/sh', []), ['--state-dir', '/s', '--log', '/l', '--max-size', '5', '--max-files', '1', '--', '/bin/sh']);
  t.throws(() => monitorArgs({ stateDir: '/s', logFile: '/l', rotation: { maxBytes: 5, maxFiles: 1 } }, 'crun', []), { code: errorCode('RUNTIME_SPEC_INVALID') });
  t.same(monitorArgs({ stateDir: '/s', logFile: '/l', rotation: { maxBytes: 5, maxFiles: 1 }, oomScoreAdj: -17 }, '/bin/sh', []).slice(8, 10), ['--oom-score-adj', '-17']);
  for (const bad of [1001, -1001, 0.5, Number.NaN]) {
    t.throws(() => monitorArgs({ stateDir: '/s', logFile: '/l', rotation: { maxBytes: 5, maxFiles: 1 }, oomScoreAdj: bad }, '/bin/sh', []), { code: errorCode('RUNTIME_SPEC_INVALID') }, `oomScoreAdj ${bad}`);
  }
  t.end();
});

void t.test('event lines', (t) => {
  t.same(parseMonitorEvent('started pid=412'), { kind: 'started', pid: 412 });
  t.same(parseMonitorEvent('first-output stream=stderr uptime_ms=5012'), { kind: 'first-output', stream: 'stderr', uptimeMs: 5012 });
  t.same(parseMonitorEvent('exit code=3'), { kind: 'exit', exitCode: 3 });
  t.same(parseMonitorEvent('exit code=137 signal=SIGKILL'), { kind: 'exit', exitCode: 137, signal: 'SIGKILL' });
  for (const bad of ['', 'started', 'started pid=x', 'first-output stream=tty uptime_ms=1', 'exit signal=SIGKILL', 'hello pid=1']) t.equal(parseMonitorEvent(bad), undefined, bad);
  t.end();
});

void t.test('exit.json and pid files', (t) => {
  t.same(parseExitFile('{"exitCode":143,"signal":"SIGTERM","finishedAt":"2026-01-02T03:04:05.000Z"}\n'), { exitCode: 143, signal: 'SIGTERM', finishedAt: '2026-01-02T03:04:05.000Z' });
  t.same(parseExitFile('{"exitCode":0,"signal":null,"finishedAt":"2026-01-02T03:04:05.000Z"}'), { exitCode: 0, finishedAt: '2026-01-02T03:04:05.000Z' });
  for (const bad of [undefined, '', '{"exitCode":', '{"exitCode":"0","finishedAt":"x"}', '{"exitCode":1.5,"finishedAt":"x"}', '[]']) t.equal(parseExitFile(bad), undefined, String(bad));
  t.equal(parsePidFile('412\n'), 412);
  for (const bad of [undefined, '', '0', '-1', '12a', '1 2']) t.equal(parsePidFile(bad), undefined, String(bad));
  t.end();
});

void t.test('spec hash: the container entry and the image it runs', (t) => {
  const a = specHash({ image: 'x', restart: 'always' }, 'sha256:1');
  t.equal(a, specHash({ image: 'x', restart: 'always' }, 'sha256:1'));
  t.not(a, specHash({ image: 'x', restart: 'no' }, 'sha256:1'));
  t.not(a, specHash({ image: 'x', restart: 'always' }, 'sha256:2'));
  t.end();
});

void t.test('adoption decisions over state-file fixtures', (t) => {
  const exit = { exitCode: 3, finishedAt: '2026-01-02T03:04:05.000Z' };
  const cases: Array<[string, FoundMonitor, string | undefined]> = [
    ['live, same spec', { isLive: true, storedSpecHash: 'h1' }, 'h1'],
    ['live, spec changed', { isLive: true, storedSpecHash: 'h1' }, 'h2'],
    ['live, no spec stored', { isLive: true }, 'h1'],
    ['live, no longer configured', { isLive: true, storedSpecHash: 'h1' }, undefined],
    ['exited while init was down', { isLive: false, storedSpecHash: 'h1', exit }, 'h1'],
    ['exited while init was down, spec changed since', { isLive: false, storedSpecHash: 'h1', exit }, 'h2'],
    ['exited, no longer configured', { isLive: false, storedSpecHash: 'h1', exit }, undefined],
    ['nothing there', { isLive: false }, 'h1'],
    ['nothing there, not configured', { isLive: false }, undefined],
  ];
  t.matchSnapshot(Object.fromEntries(cases.map(([name, found, wanted]) => [name, decideAdoption(found, wanted)])));
  t.end();
});
