/**
 * The config applier with a fake machine, through the API routes: apply runs the live steps and
 * saves the text; a try is not saved, reverts on its timer (the previous config's steps run again
 * and it is in force), and a confirmed try is saved; errors: invalid config (422 with problems),
 * a second change while a try waits (409), confirm without a try (409), bad timeout (400).
 */
import t from 'tap';
import { createLogger } from '../../../lib/log.ts';
import { registerConfigRoutes } from '../../src/api/core/config-routes.ts';
import { ApiError, Router, type ApiRequest, type ApiResponse } from '../../src/api/core/router.ts';
import { createConfigApplier } from '../../src/config-apply.ts';
import { loadMachineConfig } from '../../../lib/config/machine-config.ts';
import { createFakeSys } from '../../src/sys/fakes.ts';
import { errorCode } from '../../../lib/errors.ts';

const BOOT = `hostname: web-1
containers:
  web: { image: nginx, environment: { MODE: a } }
  db: { image: postgres }
`;

function setup() {
  const sys = createFakeSys({ files: { '/proc/sys/kernel/hostname': 'web-1' }, dirs: ['/proc', '/etc', '/var', '/usr/share/zoneinfo/Europe'] });
  const lines: string[] = [];
  const logger = createLogger({ component: 'init', sinks: [(line) => lines.push(line)] });
  const reconciled: string[] = [];
  const timers: { ms: number; fire: () => void; cancelled: boolean }[] = [];
  const timeSync: string[][] = [];
  const applier = createConfigApplier({
    sys,
    logger,
    initial: { config: loadMachineConfig(BOOT, 'boot').config, source: 'fw_cfg:opt/berth/config', origin: 'fw_cfg' },
    restartTimeSync: (servers) => {
      timeSync.push([...servers]);
      return Promise.resolve();
    },
    reconcileContainers: (_config, changes) => {
      reconciled.push(`create=${changes.create.join(',')} recreate=${changes.recreate.join(',')} remove=${changes.remove.join(',')}`);
      return Promise.resolve([...changes.create, ...changes.recreate].map((name) => ({ name, state: 'running' })));
    },
    setTimer: (ms, fire) => {
      const timer = { ms, fire, cancelled: false };
      timers.push(timer);
      return () => {
        timer.cancelled = true;
      };
    },
  });
  const router = new Router();
  registerConfigRoutes(router, applier);
  const call = (method: string, path: string, body?: string, query: Record<string, string> = {}): Promise<ApiResponse> => {
    const { route, params } = router.resolve(method, path);
    const request: ApiRequest = { method: route.method, path, params, query, body, signal: new AbortController().signal };
    return route.handler(request);
  };
  const json = async (method: string, path: string, body?: string, query: Record<string, string> = {}): Promise<Record<string, unknown>> => {
    const answer = await call(method, path, body, query);
    return ('json' in answer ? answer.json : {}) as Record<string, unknown>;
  };
  const saved = (): string | undefined => sys.fs.files.get('/var/lib/berth/config.yaml');
  return { sys, applier, call, json, reconciled, timers, timeSync, saved, lines };
}

const CHANGED = BOOT.replace('web-1', 'web-2').replace('MODE: a', 'MODE: b');

void t.test('plan changes nothing and shows the plan, or every problem', async (t) => {
  const { json, sys, reconciled } = setup();
  const plan = await json('POST', '/v1/config/plan', CHANGED);
  t.equal(plan.valid, true);
  t.matchSnapshot(plan, 'plan answer');
  t.equal(sys.fs.files.get('/proc/sys/kernel/hostname'), 'web-1');
  t.same(reconciled, []);
  const bad = await json('POST', '/v1/config/plan', 'hostname: "-bad"\nhostnme: x\n');
  t.equal(bad.valid, false);
  t.equal((bad.problems as unknown[]).length, 2);
});

void t.test('apply: live steps run, the text is saved, the new config is in force', async (t) => {
  const { json, sys, reconciled, saved, applier } = setup();
  const report = await json('POST', '/v1/config/apply', CHANGED);
  t.same(report.applied, [
    { step: 'set-hostname', ok: true, detail: 'hostname web-2' },
    { step: 'reconcile-containers', ok: true, detail: 'containers recreated web' },
  ]);
  t.equal(report.saved, true);
  t.equal(report.reboot_required, false);
  t.equal(sys.fs.files.get('/proc/sys/kernel/hostname'), 'web-2');
  t.same(reconciled, ['create= recreate=web remove=']);
  t.equal(saved(), CHANGED);
  t.equal(applier.current().config.hostname, 'web-2');
  t.equal(applier.current().origin, 'api');
});

void t.test('apply of an invalid config: 422 with every problem, nothing changed', async (t) => {
  const { call, saved, applier } = setup();
  const error = await call('POST', '/v1/config/apply', 'hostname: 5\nfoo: 1\n').then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(error instanceof ApiError);
  const e = error as ApiError;
  t.equal(e.status, 422);
  t.equal(e.code, 'CONFIG_INVALID');
  t.equal(e.problems?.length, 2);
  t.match(e.message, /line 2: foo/);
  t.equal(saved(), undefined);
  t.equal(applier.current().config.hostname, 'web-1');
});

void t.test('try that is not confirmed: applied, not saved, reverted when its timer fires', async (t) => {
  const { json, call, sys, reconciled, timers, saved, applier, lines } = setup();
  const report = await json('POST', '/v1/config/try', CHANGED, { timeout: '30s' });
  t.equal(report.saved, false);
  t.has(report.pending_try, { timeout_ms: 30_000 });
  t.equal(timers[0]?.ms, 30_000);
  t.equal(saved(), undefined, 'the saved config stays the previous one until confirmed');
  t.equal(sys.fs.files.get('/proc/sys/kernel/hostname'), 'web-2');
  t.has(await json('GET', '/v1/config/try'), { pending: { timeout_ms: 30_000 } });
  await t.rejects(call('POST', '/v1/config/apply', BOOT), { status: 409, code: errorCode('CONFIG_TRY_PENDING') });
  timers[0]?.fire();
  await applier.settled();
  t.equal(sys.fs.files.get('/proc/sys/kernel/hostname'), 'web-1', 'hostname back');
  t.same(reconciled, ['create= recreate=web remove=', 'create= recreate=web remove='], 'web recreated again with its old definition');
  t.equal(applier.current().config.hostname, 'web-1');
  t.equal(applier.current().origin, 'fw_cfg');
  t.same(await json('GET', '/v1/config/try'), { pending: null });
  t.ok(lines.some((l) => l.includes('Config try reverted')));
  await t.rejects(call('POST', '/v1/config/confirm'), { status: 409, code: errorCode('CONFIG_NO_TRY_PENDING') });
});

void t.test('try that is confirmed: saved, timer cancelled, stays', async (t) => {
  const { json, timers, saved, applier } = setup();
  await json('POST', '/v1/config/try', CHANGED);
  t.equal(timers[0]?.ms, 60_000, 'default timeout');
  t.same(await json('POST', '/v1/config/confirm'), { confirmed: true, saved: true });
  t.equal(timers[0]?.cancelled, true);
  t.equal(saved(), CHANGED);
  t.equal(applier.current().config.hostname, 'web-2');
});

void t.test('try timeout must be a duration within bounds', async (t) => {
  const { call } = setup();
  await t.rejects(call('POST', '/v1/config/try', CHANGED, { timeout: '60' }), { status: 400, code: errorCode('API_INVALID_QUERY') });
  await t.rejects(call('POST', '/v1/config/try', CHANGED, { timeout: '1s' }), { status: 400, code: errorCode('API_INVALID_QUERY') });
  await t.rejects(call('POST', '/v1/config/try', CHANGED, { timeout: '2h' }), { status: 400, code: errorCode('API_INVALID_QUERY') });
});

void t.test('host settings: time zone, sysctls, modules, NTP and DNS through the boot functions', async (t) => {
  const { json, sys, timeSync } = setup();
  sys.fs.files.set('/usr/share/zoneinfo/Europe/Berlin', 'TZif');
  const next = `${BOOT}time_zone: Europe/Berlin\nsysctls: { vm.swappiness: 10 }\nkernel_modules: [dummy]\nntp: { servers: [192.0.2.1] }\n`;
  const report = await json('POST', '/v1/config/apply', next);
  t.matchSnapshot(report.applied, 'applied steps');
  t.equal(sys.fs.files.get('/proc/sys/vm/swappiness'), '10');
  t.equal(sys.fs.files.get('/etc/timezone'), 'Europe/Berlin\n');
  t.same(timeSync, [['192.0.2.1']]);
  t.ok(sys.exec.calls.some((c) => c.file.endsWith('modprobe') && c.args.includes('dummy')));
});

void t.test('a failing step is reported and the other steps still run; without an engine the containers step fails', async (t) => {
  const sys = createFakeSys({ files: { '/proc/sys/kernel/hostname': 'web-1' }, dirs: ['/proc', '/etc', '/var'] });
  const applier = createConfigApplier({
    sys,
    logger: createLogger({ component: 'init', sinks: [] }),
    initial: { config: loadMachineConfig(BOOT, 'boot').config, source: 'saved', origin: 'saved' },
    restartTimeSync: () => Promise.resolve(),
  });
  const next = loadMachineConfig(CHANGED, 'next').config;
  const { planConfigChange } = await import('../../src/core/config-plan.ts');
  const report = await applier.apply(CHANGED, next, planConfigChange(applier.current().config, next), { kind: 'apply' });
  t.same(
    report.applied.map((s) => [s.step, s.ok]),
    [
      ['set-hostname', true],
      ['reconcile-containers', false],
    ],
  );
  t.match(report.applied[1]?.error, /No container engine/);
  t.equal(sys.fs.files.get('/proc/sys/kernel/hostname'), 'web-2');
  t.equal(report.saved, true, 'the config is saved as a whole; the report says what failed');
});
