import t from 'tap';
import {
  DEFAULT_HEALTH_POLICY,
  initialHealth,
  isDependencySatisfied,
  nextProbeAtMs,
  parseRestartPolicy,
  recordProbe,
  shouldRestart,
  startOrder,
  type HealthState,
} from '../../src/core/supervision.ts';
import { errorCode } from '../../../lib/errors.ts';

void t.test('restart policies', (t) => {
  t.same(parseRestartPolicy('on-failure:3'), { kind: 'on-failure', maxRetries: 3 });
  t.same(parseRestartPolicy('on-failure'), { kind: 'on-failure' });
  t.throws(() => parseRestartPolicy('sometimes'), { code: errorCode('CONFIG_INVALID'), message: /got "sometimes"/ });
  t.throws(() => parseRestartPolicy('on-failure:-1'), { code: errorCode('CONFIG_INVALID') });
  const crash = { exitCode: 1, stoppedOnPurpose: false, restartCount: 0 };
  const clean = { exitCode: 0, stoppedOnPurpose: false, restartCount: 0 };
  t.equal(shouldRestart({ kind: 'no' }, crash), false);
  t.equal(shouldRestart({ kind: 'always' }, clean), true);
  t.equal(shouldRestart({ kind: 'unless-stopped' }, clean), true);
  t.equal(shouldRestart({ kind: 'always' }, { ...crash, stoppedOnPurpose: true }), false, 'a deliberate stop is final');
  t.equal(shouldRestart({ kind: 'on-failure' }, clean), false);
  t.equal(shouldRestart({ kind: 'on-failure' }, crash), true);
  t.equal(shouldRestart({ kind: 'on-failure', maxRetries: 2 }, { ...crash, restartCount: 1 }), true);
  t.equal(shouldRestart({ kind: 'on-failure', maxRetries: 2 }, { ...crash, restartCount: 2 }), false);
  t.equal(shouldRestart({ kind: 'on-failure' }, { ...clean, unhealthy: true }), true, 'killed for being unhealthy counts as a failure');
  t.end();
});

void t.test('health checks', (t) => {
  const policy = { ...DEFAULT_HEALTH_POLICY, retries: 3, startPeriodMs: 10_000, startIntervalMs: 1_000, intervalMs: 5_000 };
  let state: HealthState = initialHealth(0);
  state = recordProbe(state, false, 2_000, policy);
  t.same(state, { status: 'starting', failingStreak: 0, startedAtMs: 0 }, 'failures in the start period do not count');
  t.equal(nextProbeAtMs(state, 2_000, policy), 3_000, 'start interval while starting');
  state = recordProbe(state, true, 3_000, policy);
  t.equal(state.status, 'healthy', 'a success in the start period counts');
  t.equal(nextProbeAtMs(state, 3_000, policy), 8_000);
  state = recordProbe(state, false, 8_000, policy);
  state = recordProbe(state, false, 13_000, policy);
  t.same(state, { status: 'healthy', failingStreak: 2, startedAtMs: 0 }, 'two failures are not yet unhealthy');
  state = recordProbe(state, false, 18_000, policy);
  t.equal(state.status, 'unhealthy', 'the third consecutive failure is');
  state = recordProbe(state, true, 23_000, policy);
  t.same(state, { status: 'healthy', failingStreak: 0, startedAtMs: 0 }, 'one success recovers');
  const late = recordProbe(initialHealth(0), false, 20_000, policy);
  t.same(late, { status: 'starting', failingStreak: 1, startedAtMs: 0 }, 'after the start period failures count while still starting');
  t.end();
});

void t.test('depends_on start order', (t) => {
  const waves = startOrder([
    { name: 'web', dependsOn: { api: 'service_healthy' }, hasHealthcheck: false },
    { name: 'api', dependsOn: { db: 'service_healthy', migrate: 'service_completed_successfully' }, hasHealthcheck: true },
    { name: 'migrate', dependsOn: { db: 'service_healthy' }, hasHealthcheck: false },
    { name: 'db', dependsOn: {}, hasHealthcheck: true },
    { name: 'metrics', dependsOn: {}, hasHealthcheck: false },
  ]);
  t.same(waves, [['db', 'metrics'], ['migrate'], ['api'], ['web']]);
  t.throws(
    () =>
      startOrder([
        { name: 'a', dependsOn: { b: 'service_started' }, hasHealthcheck: false },
        { name: 'b', dependsOn: { a: 'service_healthy' }, hasHealthcheck: false },
        { name: 'c', dependsOn: { ghost: 'service_started', c: 'service_started' }, hasHealthcheck: false },
      ]),
    {
      code: errorCode('CONFIG_INVALID'),
      message:
        'Invalid container dependencies: containers.b.depends_on.a: condition service_healthy needs a healthcheck on "a"; containers.c.depends_on.ghost: no container named "ghost"; containers.c.depends_on: a container cannot depend on itself; depends_on: cycle between a, b',
    },
  );
  t.equal(isDependencySatisfied('service_started', { running: true }), true);
  t.equal(isDependencySatisfied('service_healthy', { running: true, health: 'starting' }), false);
  t.equal(isDependencySatisfied('service_healthy', { running: true, health: 'healthy' }), true);
  t.equal(isDependencySatisfied('service_completed_successfully', { running: false, exitCode: 0 }), true);
  t.equal(isDependencySatisfied('service_completed_successfully', { running: false, exitCode: 2 }), false);
  t.end();
});
