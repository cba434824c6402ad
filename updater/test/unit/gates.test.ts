import t from 'tap';
import { createMemoryLogger } from '../../../lib/log.ts';
import { awaitRebootPermission, releaseRebootLock, runHealthGate } from '../../src/gates.ts';
import type { FleetLockClient, FleetLockResult } from '../../src/fleetlock.ts';
import { parseRebootWindow } from '../../src/core/window.ts';
import { BerthError } from '../../../lib/errors.ts';
import { fakeClock } from './fixtures.ts';

void t.test('immediate and window strategies', async (t) => {
  const logger = createMemoryLogger('updater');
  const signal = new AbortController().signal;
  await awaitRebootPermission({ strategy: 'immediate', clock: fakeClock('2026-11-23T10:00:00Z'), logger }, signal);
  const window = parseRebootWindow({ days: ['sat', 'sun'], start: '02:00', length: '3h', time_zone: 'Europe/Berlin' }).window;
  // Monday 11:00 Berlin: the window opens Saturday 02:00 CET = 01:00Z.
  const clock = fakeClock('2026-11-23T10:00:00Z');
  await awaitRebootPermission({ strategy: 'window', ...(window ? { window } : {}), clock, logger }, signal);
  t.equal(clock.now().toISOString(), '2026-11-28T01:00:00.000Z', 'allowed exactly when the window opens');
  t.ok(clock.slept.every((ms) => ms <= 15 * 60_000), 'rechecks at least every 15 minutes');
  t.match(logger.lines[0], /msg="Waiting for the reboot window" opens_at=2026-11-28T01:00:00.000Z time_zone=Europe\/Berlin/);
  await t.rejects(awaitRebootPermission({ strategy: 'window', clock, logger }, signal), { code: 'UPDATER_CONFIG' });
});

void t.test('fleetlock strategy retries until the lock is granted, then releases it', async (t) => {
  const logger = createMemoryLogger('updater');
  const answers: (FleetLockResult | Error)[] = [new BerthError('UPDATER_FLEETLOCK_UNREACHABLE', 'down'), { ok: false, status: 409, kind: 'failed_lock_semaphore_full', value: 'full' }, { ok: true }];
  const calls: string[] = [];
  const client: FleetLockClient = {
    preReboot: () => {
      calls.push('pre-reboot');
      const next = answers.shift() ?? { ok: true };
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
    steadyState: () => {
      calls.push('steady-state');
      return Promise.resolve(calls.length < 5 ? { ok: false, status: 500, kind: 'http_500', value: 'oops' } : { ok: true });
    },
  };
  const clock = fakeClock('2026-11-23T10:00:00Z');
  const signal = new AbortController().signal;
  await awaitRebootPermission({ strategy: 'fleetlock', fleetlock: client, clock, logger }, signal);
  t.same(calls, ['pre-reboot', 'pre-reboot', 'pre-reboot']);
  t.same(clock.slept, [22_500, 45_000], 'backoff with jitter between attempts');
  await releaseRebootLock(client, clock, logger, signal);
  t.same(calls.slice(3), ['steady-state', 'steady-state']);
  await releaseRebootLock(undefined, clock, logger, signal);
  t.match(logger.lines.join('\n'), /msg="Reboot lock not granted" kind=failed_lock_semaphore_full/);
});

void t.test('manual strategy waits until aborted', async (t) => {
  const controller = new AbortController();
  const waiting = awaitRebootPermission({ strategy: 'manual', clock: fakeClock('2026-11-23T10:00:00Z'), logger: createMemoryLogger() }, controller.signal);
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
