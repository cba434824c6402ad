import t from 'tap';
import { createMemoryLogger } from '../../../lib/log.ts';
import { awaitRebootPermission, createGateTracker, observeGates, releaseRebootLock, runHealthGate } from '../../src/gates.ts';
import type { GateFacts } from '../../src/core/reboot-gates.ts';
import type { FleetLockClient, FleetLockResult } from '../../src/fleetlock.ts';
import { parseRebootWindow } from '../../src/core/window.ts';
import { BerthError } from '../../../lib/errors.ts';
import { fakeClock } from './fixtures.ts';

const NO_PIN = {};

void t.test('no gates, and a window gate', async (t) => {
  const logger = createMemoryLogger('updater');
  const signal = new AbortController().signal;
  const clock0 = fakeClock('2026-11-23T10:00:00Z');
  await awaitRebootPermission({ policy: { gates: [], pin: NO_PIN }, clock: clock0, logger }, signal);
  t.same(clock0.slept, [], 'immediate: no wait');
  const window = parseRebootWindow({ days: ['sat', 'sun'], start: '02:00', length: '3h', time_zone: 'Europe/Berlin' }).window;
  // Monday 11:00 Berlin: the window opens Saturday 02:00 CET = 01:00Z.
  const clock = fakeClock('2026-11-23T10:00:00Z');
  await awaitRebootPermission({ policy: { gates: ['window'], ...(window ? { window } : {}), pin: NO_PIN }, clock, logger }, signal);
  t.equal(clock.now().toISOString(), '2026-11-28T01:00:00.000Z', 'allowed exactly when the window opens');
  t.ok(clock.slept.every((ms) => ms <= 15 * 60_000), 'rechecks at least every 15 minutes');
  t.match(logger.lines[0], /msg="Waiting for reboot gates" blocking=window until=2026-11-28T01:00:00.000Z window_opens_at=2026-11-28T01:00:00.000Z time_zone=Europe\/Berlin/);
});

function scriptedClient(answers: (FleetLockResult | Error)[], calls: { what: string; at: string }[], clock: { now(): Date }): FleetLockClient {
  return {
    preReboot: () => {
      calls.push({ what: 'pre-reboot', at: clock.now().toISOString() });
      const next = answers.shift() ?? { ok: true };
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
    steadyState: () => {
      calls.push({ what: 'steady-state', at: clock.now().toISOString() });
      return Promise.resolve(calls.filter((c) => c.what === 'steady-state').length < 2 ? { ok: false, status: 500, kind: 'http_500', value: 'oops' } : { ok: true });
    },
  };
}

void t.test('fleetlock gate retries until the lock is granted, then releases it', async (t) => {
  const logger = createMemoryLogger('updater');
  const calls: { what: string; at: string }[] = [];
  const clock = fakeClock('2026-11-23T10:00:00Z');
  const client = scriptedClient([new BerthError('UPDATER_FLEETLOCK_UNREACHABLE', 'down'), { ok: false, status: 409, kind: 'failed_lock_semaphore_full', value: 'full' }, { ok: true }], calls, clock);
  const signal = new AbortController().signal;
  const tracker = createGateTracker();
  await awaitRebootPermission({ policy: { gates: ['fleetlock'], pin: NO_PIN }, fleetlock: client, tracker, clock, logger }, signal);
  t.same(calls.map((c) => c.what), ['pre-reboot', 'pre-reboot', 'pre-reboot']);
  t.same(clock.slept, [22_500, 45_000], 'backoff with jitter between attempts');
  t.same(tracker.lock, { state: 'held' });
  await releaseRebootLock(client, clock, logger, signal);
  t.same(calls.slice(3).map((c) => c.what), ['steady-state', 'steady-state']);
  await releaseRebootLock(undefined, clock, logger, signal);
  t.match(logger.lines.join('\n'), /msg="Reboot lock not granted" kind=failed_lock_semaphore_full/);
});

void t.test('window and fleetlock: the lock is asked for only inside the window, and given back if the window closes first', async (t) => {
  const logger = createMemoryLogger('updater');
  const window = parseRebootWindow({ days: ['sat'], start: '02:00', length: '1h', time_zone: 'UTC' }).window;
  if (!window) throw new Error('fixture');
  const clock = fakeClock('2026-11-27T23:00:00Z');
  const calls: { what: string; at: string }[] = [];
  // Refused six times (backing off inside the window), then granted.
  const refusals: FleetLockResult[] = Array.from({ length: 6 }, () => ({ ok: false, status: 409, kind: 'failed_lock_semaphore_full', value: 'full' }) as const);
  const client = scriptedClient([...refusals, { ok: true }], calls, clock);
  const tracker = createGateTracker();
  await awaitRebootPermission({ policy: { gates: ['window', 'fleetlock'], window, pin: NO_PIN }, fleetlock: client, tracker, clock, logger }, new AbortController().signal);
  const preReboots = calls.filter((c) => c.what === 'pre-reboot');
  t.ok(preReboots.length >= 2, 'retried');
  for (const call of preReboots) {
    const at = new Date(call.at);
    t.ok(at.getUTCDay() === 6 && at.getUTCHours() === 2, `lock asked for inside the window only (${call.at})`);
  }
  t.ok(clock.now().getUTCDay() === 6 && clock.now().getUTCHours() === 2, 'reboots inside a window');
  t.same(tracker.lock, { state: 'held' });

  // The lock comes back, but the window has closed by then: given back at once.
  const late: { what: string; at: string }[] = [];
  const clock2 = fakeClock('2026-11-28T02:59:59Z');
  const slowClient: FleetLockClient = {
    preReboot: () => {
      late.push({ what: 'pre-reboot', at: clock2.now().toISOString() });
      // The server takes two seconds to answer: the window closes meanwhile.
      void clock2.sleep(2000, new AbortController().signal);
      return Promise.resolve({ ok: true });
    },
    steadyState: () => {
      late.push({ what: 'steady-state', at: clock2.now().toISOString() });
      return Promise.resolve({ ok: true });
    },
  };
  const tracker2 = createGateTracker();
  const controller = new AbortController();
  const waiting = awaitRebootPermission({ policy: { gates: ['window', 'fleetlock'], window, pin: NO_PIN }, fleetlock: slowClient, tracker: tracker2, clock: clock2, logger }, controller.signal);
  await waiting;
  t.same(late.map((c) => c.what).slice(0, 3), ['pre-reboot', 'steady-state', 'pre-reboot'], 'taken, given back when the window closed, taken again in the next window');
  t.equal(late[1]?.at, '2026-11-28T03:00:01.000Z');
  t.equal(late[2]?.at, '2026-12-05T02:00:00.000Z', 'asked for again when the next window opens');
  t.match(logger.lines.join('\n'), /msg="Reboot lock given back: a gate closed before the reboot" blocking=window/);
});

void t.test('manual gate: approval opens it, other gates still apply; abort still ends the wait', async (t) => {
  const logger = createMemoryLogger('updater');
  const tracker = createGateTracker();
  let soak: GateFacts['soak'] = { state: 'running', endsAt: new Date('2026-11-23T10:02:00Z') };
  const clock = fakeClock('2026-11-23T10:00:00Z');
  const realSleep = clock.sleep.bind(clock);
  // The operator approves during the first wait; the soak ends during the second.
  let sleeps = 0;
  clock.sleep = (ms, signal) => {
    sleeps += 1;
    if (sleeps === 1) tracker.approve();
    if (sleeps === 2) soak = { state: 'passed' };
    return realSleep(ms, signal);
  };
  await awaitRebootPermission({ policy: { gates: ['soak', 'manual'], pin: NO_PIN }, soak: () => soak, tracker, clock, logger }, new AbortController().signal);
  t.equal(sleeps, 2);
  t.equal(clock.slept[0], 120_000, 'first wait: until the soak ends');
  t.match(logger.lines[0], /blocking=soak,manual until=2026-11-23T10:02:00.000Z/);

  const controller = new AbortController();
  const waiting = awaitRebootPermission({ policy: { gates: ['manual'], pin: NO_PIN }, clock: { ...fakeClock('2026-11-23T10:00:00Z'), sleep: (_ms, signal) => new Promise((_, reject) => signal?.addEventListener('abort', () => reject(signal?.reason as Error), { once: true })) }, logger }, controller.signal);
  controller.abort(new Error('operator said reboot'));
  await t.rejects(waiting, { message: 'operator said reboot' });
});

void t.test('health gate passes after an uninterrupted soak, fails on timeout', async (t) => {
  const clock = fakeClock('2026-11-23T10:00:00Z');
  const samples = [
    { initUp: false, unhealthyCritical: [] },
    { initUp: true, unhealthyCritical: ['web'] },
    { initUp: true, unhealthyCritical: [] },
  ];
  const passed = await runHealthGate(
    { soakMs: 120_000, timeoutMs: 600_000, intervalMs: 5000, clock, sample: () => Promise.resolve(samples.shift() ?? { initUp: true, unhealthyCritical: [] }) },
    new AbortController().signal,
  );
  t.same(passed, { passed: true });
  t.equal(clock.now().getTime() - new Date('2026-11-23T10:00:00Z').getTime(), 130_000, 'healthy from 10 s, blessed at 130 s');

  const failing = await runHealthGate(
    { soakMs: 120_000, timeoutMs: 60_000, clock: fakeClock('2026-11-23T10:00:00Z'), sample: () => Promise.reject(new Error('runtime not answering')) },
    new AbortController().signal,
  );
  t.match(failing, { passed: false, reason: /health probe failed: runtime not answering/ });
});

void t.test('a halted version: not rebooted into, asked about again slowly, shown with its reason, and taken once resumed', async (t) => {
  const logger = createMemoryLogger('updater');
  const calls: { what: string; at: string }[] = [];
  const clock = fakeClock('2026-11-23T10:00:00Z');
  const halt = { version: '2.0.0', reason: '2 hosts rolled back (policy: halt at 2 failures; 2 took it)', by: 'policy' as const, since: '2026-11-23T09:58:00.000Z' };
  const refusal: FleetLockResult = { ok: false, status: 409, kind: 'version_halted', value: `Version 2.0.0 is halted: ${halt.reason}`, halt };
  const client = scriptedClient([refusal, refusal, refusal, { ok: true }], calls, clock);
  const tracker = createGateTracker();
  const policy = { gates: ['fleetlock' as const], pin: NO_PIN };
  const seenLocks: GateFacts['lock'][] = [];
  let flushes = 0;
  const beforeLock = () => {
    flushes += 1;
    seenLocks.push(tracker.lock);
    return Promise.resolve();
  };
  await awaitRebootPermission({ policy, fleetlock: client, tracker, targetVersion: '2.0.0', beforeLock, clock, logger }, new AbortController().signal);
  t.equal(flushes, 4, 'the report is flushed before every lock request (the coordinator halts by the reported target)');
  t.same(seenLocks.slice(1), [{ state: 'halted', halt }, { state: 'halted', halt }, { state: 'halted', halt }], 'the halt is kept while refused');
  t.same(clock.slept, [300_000, 300_000, 300_000], 'a halted version is asked about every 5 minutes, without backing off further');
  t.same(tracker.lock, { state: 'held' }, 'resumed: the lock is granted and the host goes on');
  const text = logger.lines.join('\n');
  t.equal(logger.lines.filter((l) => l.includes('Version halted by the fleet')).length, 1, 'the halt is logged once');
  t.match(text, /level=warn .*msg="Version halted by the fleet: not rebooting into it" version=2.0.0 by=policy since=2026-11-23T09:58:00.000Z reason="2 hosts rolled back/);
  t.match(text, /msg="Fleet halt lifted: the coordinator grants the reboot lock again" version=2.0.0/);
});

void t.test('the fleetlock gate shows a halt with its reason and what lifts it', (t) => {
  const tracker = createGateTracker();
  tracker.lock = { state: 'halted', halt: { version: '2.0.0', reason: 'nic driver', by: 'admin', since: '2026-11-23T09:58:00.000Z' } };
  const [report] = observeGates({ policy: { gates: ['fleetlock'], pin: NO_PIN }, clock: fakeClock('2026-11-23T10:00:00Z') }, tracker);
  t.same(report, {
    gate: 'fleetlock',
    holds: false,
    detail: "2.0.0 halted by an operator since 2026-11-23T09:58:00.000Z: nic driver; not rebooting into it (it is not marked bad), asking again every 5 min until 'berth fleet resume 2.0.0'",
  });
  t.end();
});
