import t from 'tap';
import { decideReboot, describeGates, evaluateGates, gatesOf, parsePin, pinAllows, type GateFacts, type RebootPolicy } from '../../src/core/reboot-gates.ts';
import { chooseRelease } from '../../src/core/release.ts';
import { parseRebootWindow, type RebootWindow } from '../../src/core/window.ts';

function window(spec: Record<string, unknown>): RebootWindow {
  const { window: w, problems } = parseRebootWindow(spec);
  if (!w) throw new Error(problems.join('; '));
  return w;
}

const SAT_BERLIN = window({ days: ['sat'], start: '02:00', length: '3h', time_zone: 'Europe/Berlin' });

const facts = (now: string, over: Partial<GateFacts> = {}): GateFacts => ({
  now: new Date(now),
  soak: { state: 'passed' },
  approved: false,
  lock: { state: 'not-requested' },
  ...over,
});

void t.test('strategy forms map to gate lists', (t) => {
  t.same(gatesOf('immediate'), []);
  t.same(gatesOf('window'), ['window']);
  t.same(gatesOf(['fleetlock', 'window']), ['window', 'fleetlock'], 'the lock is always checked last');
  t.equal(describeGates([]), 'immediate');
  t.equal(describeGates(['window', 'fleetlock']), 'window+fleetlock');
  t.end();
});

void t.test('window ∧ fleetlock ∧ soak ∧ pin: every combination decides as the conjunction', (t) => {
  const inside = '2026-11-28T02:30:00Z'; // Saturday 03:30 CET
  const outside = '2026-11-25T12:00:00Z';
  const policy: RebootPolicy = { gates: ['window', 'fleetlock', 'soak'], window: SAT_BERLIN, pin: { pin: '2.3.x', prefix: [2, 3] } };
  for (const isInside of [true, false]) {
    for (const isSoaked of [true, false]) {
      for (const lock of ['not-requested', 'held'] as const) {
        for (const target of ['2.3.9', '2.4.0']) {
          const f = facts(isInside ? inside : outside, { soak: isSoaked ? { state: 'passed' } : { state: 'running', endsAt: new Date('2026-11-28T02:40:00Z') }, lock: { state: lock }, targetVersion: target });
          const reports = evaluateGates(policy, f);
          t.same(reports.map((r) => r.gate), ['window', 'fleetlock', 'soak', 'pin']);
          const decision = decideReboot(reports, f.lock);
          const othersHold = isInside && isSoaked && target === '2.3.9';
          const expected = othersHold ? (lock === 'held' ? 'reboot' : 'take-lock') : lock === 'held' ? 'release-lock' : 'wait';
          t.equal(decision.kind, expected, `inside=${isInside} soaked=${isSoaked} lock=${lock} target=${target}`);
        }
      }
    }
  }
  t.end();
});

void t.test('no gates: reboot at once; the lock and the window report when they next open', (t) => {
  t.same(decideReboot(evaluateGates({ gates: [], pin: {} }, facts('2026-11-25T12:00:00Z')), { state: 'not-requested' }), { kind: 'reboot' });
  const reports = evaluateGates({ gates: ['window', 'fleetlock'], window: SAT_BERLIN, pin: {} }, facts('2026-11-25T12:00:00Z'));
  t.match(reports[0], { gate: 'window', holds: false, opensAt: new Date('2026-11-28T01:00:00Z'), closesAt: new Date('2026-11-28T04:00:00Z') });
  t.match(reports[1], { gate: 'fleetlock', holds: false, opensAt: new Date('2026-11-28T01:00:00Z'), detail: 'lock requested only once every other gate holds' });
  t.same(decideReboot(reports, { state: 'not-requested' }), { kind: 'wait', blocking: ['window'], until: new Date('2026-11-28T01:00:00Z') });
  const inside = evaluateGates({ gates: ['window'], window: SAT_BERLIN, pin: {} }, facts('2026-11-28T03:59:00Z'));
  t.match(inside[0], { holds: true, closesAt: new Date('2026-11-28T04:00:00Z') });
  t.end();
});

void t.test('manual and soak gates wait for events; the first clock time is the one to wake at', (t) => {
  const policy: RebootPolicy = { gates: ['soak', 'manual'], pin: {} };
  const running = facts('2026-11-25T12:00:00Z', { soak: { state: 'running', endsAt: new Date('2026-11-25T12:02:00Z') } });
  t.same(decideReboot(evaluateGates(policy, running), running.lock), { kind: 'wait', blocking: ['soak', 'manual'], until: new Date('2026-11-25T12:02:00Z') });
  const approved = facts('2026-11-25T12:03:00Z', { approved: true });
  t.same(decideReboot(evaluateGates(policy, approved), approved.lock), { kind: 'reboot' });
  const waiting = facts('2026-11-25T12:03:00Z');
  t.same(decideReboot(evaluateGates(policy, waiting), waiting.lock), { kind: 'wait', blocking: ['manual'] }, 'only an event opens it: no time');
  const failed = facts('2026-11-25T12:03:00Z', { soak: { state: 'failed', reason: 'web unhealthy' } });
  t.match(evaluateGates(policy, failed)[0], { holds: false, detail: 'the booted release failed its soak: web unhealthy' });
  t.end();
});

void t.test('refused lock: the reason is shown; an unpinned policy has no pin report', (t) => {
  const f = facts('2026-11-25T12:00:00Z', { lock: { state: 'refused', reason: 'failed_lock_semaphore_full: full' } });
  const reports = evaluateGates({ gates: ['fleetlock'], pin: {} }, f);
  t.same(reports, [{ gate: 'fleetlock', holds: false, detail: 'lock refused: failed_lock_semaphore_full: full' }]);
  t.same(decideReboot(reports, f.lock), { kind: 'take-lock' });
  t.end();
});

void t.test('pins: 2.3.x, 2.x, max_version, and both', (t) => {
  t.same(parsePin('2.3.x'), [2, 3]);
  t.same(parsePin('2.x'), [2]);
  t.equal(parsePin('2.3.4'), undefined);
  t.equal(parsePin('x'), undefined);
  t.equal(parsePin('02.x'), undefined);
  const p23 = { pin: '2.3.x', prefix: parsePin('2.3.x') ?? [] };
  t.same(pinAllows(p23, '2.3.7'), { allowed: true });
  t.same(pinAllows(p23, '2.3.0-rc.1'), { allowed: true });
  t.same(pinAllows(p23, '2.4.0'), { allowed: false, reason: '2.4.0 is outside pin 2.3.x' });
  t.same(pinAllows({ maxVersion: '2.4.0' }, '2.4.0'), { allowed: true }, 'max_version is inclusive');
  t.same(pinAllows({ maxVersion: '2.4.0' }, '2.4.1'), { allowed: false, reason: '2.4.1 is above max_version 2.4.0' });
  t.same(pinAllows({ ...p23, maxVersion: '2.3.5' }, '2.3.6'), { allowed: false, reason: '2.3.6 is above max_version 2.3.5' });
  const channel = { channel: 'stable', version: '2.4.0', bundle_url: 'x', released: '2026-11-01T00:00:00Z', published: '2026-11-01T00:00:00Z', expires: '2026-11-04T00:00:00Z' };
  t.same(chooseRelease({ channel, runningVersion: '2.3.1', badVersions: [], allowDowngrade: false, pin: p23 }), { kind: 'none', reason: 'pinned', version: '2.4.0' });
  t.same(chooseRelease({ channel: { ...channel, version: '2.3.2' }, runningVersion: '2.3.1', badVersions: [], allowDowngrade: false, pin: p23 }), { kind: 'update', version: '2.3.2', isDowngrade: false });
  const report = evaluateGates({ gates: [], pin: { ...p23, maxVersion: '2.3.5' } }, facts('2026-11-25T12:00:00Z', { targetVersion: '2.3.4' }));
  t.same(report, [{ gate: 'pin', holds: true, detail: '2.3.4 fits pin 2.3.x, max_version 2.3.5' }]);
  t.end();
});

void t.test('time zones and DST transitions', (t) => {
  // Europe/Berlin spring forward 2026-03-29 02:00 CET -> 03:00 CEST: a 02:30 start opens at 03:30 CEST (01:30Z).
  const spring = window({ days: ['sun'], start: '02:30', length: '1h', time_zone: 'Europe/Berlin' });
  const before = evaluateGates({ gates: ['window'], window: spring, pin: {} }, facts('2026-03-28T12:00:00Z'));
  t.match(before[0], { holds: false, opensAt: new Date('2026-03-29T01:30:00Z'), closesAt: new Date('2026-03-29T02:30:00Z') });
  // Fall back 2026-10-25 03:00 CEST -> 02:00 CET: a 02:30 start opens at its first occurrence (00:30Z), lasts 1 h of elapsed time.
  const fall = window({ days: ['sun'], start: '02:30', length: '1h', time_zone: 'Europe/Berlin' });
  const fallReport = evaluateGates({ gates: ['window'], window: fall, pin: {} }, facts('2026-10-24T12:00:00Z'));
  t.match(fallReport[0], { opensAt: new Date('2026-10-25T00:30:00Z'), closesAt: new Date('2026-10-25T01:30:00Z') });
  t.match(evaluateGates({ gates: ['window'], window: fall, pin: {} }, facts('2026-10-25T01:15:00Z'))[0], { holds: true }, 'inside during the repeated hour');
  t.match(evaluateGates({ gates: ['window'], window: fall, pin: {} }, facts('2026-10-25T01:45:00Z'))[0], { holds: false }, 'closed after one elapsed hour, though the wall clock reads 02:45 again');
  // The same wall time in two zones opens at different instants, and a US zone switches on another date.
  const ny = window({ days: ['sun'], start: '01:30', length: '2h', time_zone: 'America/New_York' });
  // 2026-03-08 02:00 EST -> 03:00 EDT; 01:30 EST = 06:30Z.
  t.match(evaluateGates({ gates: ['window'], window: ny, pin: {} }, facts('2026-03-07T12:00:00Z'))[0], { opensAt: new Date('2026-03-08T06:30:00Z'), closesAt: new Date('2026-03-08T08:30:00Z') });
  // The next Sunday is EDT: 01:30 EDT = 05:30Z.
  t.match(evaluateGates({ gates: ['window'], window: ny, pin: {} }, facts('2026-03-08T09:00:00Z'))[0], { opensAt: new Date('2026-03-15T05:30:00Z') });
  // Window and lock across the spring-forward night: the lock opens with the window, at 01:30Z.
  const both = evaluateGates({ gates: ['window', 'fleetlock'], window: spring, pin: {} }, facts('2026-03-29T01:00:00Z'));
  t.match(both[1], { gate: 'fleetlock', opensAt: new Date('2026-03-29T01:30:00Z') });
  t.end();
});
