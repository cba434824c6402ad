/**
 * The update endpoints with a fake agent: status in every phase (snapshot), check and apply
 * decisions per phase (409 where illegal, 409 when updates are off), apply now sends only
 * events the state machine knows (check-requested, reboot-allowed once staged), progress from
 * the manifest and the writer's io.stat, the followed status, and the real apply latch.
 */
import t from 'tap';
import { createLogger } from '../../../../lib/log.ts';
import { reduceUpdate, UPDATE_PHASES, type UpdateEvent, type UpdatePhaseState, type UpdateState } from '../../../../updater/src/host.ts';
import { decideUpdateAction, describeUpdate, downloadProgress, gateView, registerUpdateRoutes, writeProgress, type UpdateControl } from '../../../src/api/core/update-routes.ts';
import { ApiError, Router, type ApiResponse } from '../../../src/api/core/router.ts';
import { createUpdateControl } from '../../../src/api/update-control.ts';
import { errorCode } from '../../../../lib/errors.ts';

const target = { version: '2.0.0', bundleUrl: 'http://10.0.2.2/b/2.0.0/manifest.json', slot: 'b' as const, from: { slot: 'a' as const, version: '1.0.0' } };
const PHASES: Record<string, UpdatePhaseState> = {
  idle: { phase: 'idle' },
  checking: { phase: 'checking' },
  downloading: { phase: 'downloading', target },
  verifying: { phase: 'verifying', target },
  staged: { phase: 'staged', target, bootId: 'x' },
  rebooting: { phase: 'rebooting', target, bootId: 'x', reason: 'update' },
  confirming: { phase: 'confirming', target, bootId: 'y' },
  succeeded: { phase: 'succeeded', slot: 'b', version: '2.0.0' },
  'rolled-back': { phase: 'rolled-back', slot: 'b', version: '3.0.0', bootedSlot: 'a', bootedVersion: '2.0.0', reason: 'health-failed', detail: 'web unhealthy' },
  failed: { phase: 'failed', error: { code: errorCode('UPDATER_SIGNATURE_INVALID'), message: 'Refusing manifest: bad signature' }, during: 'downloading', version: '2.0.0' },
};
const stateIn = (phase: string): UpdateState => ({ current: PHASES[phase] ?? { phase: 'idle' }, badVersions: ['3.0.0'], failures: phase === 'failed' ? 1 : 0 });

void t.test('status in every phase', (t) => {
  t.same(Object.keys(PHASES), UPDATE_PHASES, 'every phase covered');
  const facts = { booted: { slot: 'a', version: '1.0.0' }, strategy: 'window', progress: undefined, applyRequested: false };
  t.matchSnapshot(
    Object.fromEntries(Object.keys(PHASES).map((p) => [p, describeUpdate(stateIn(p), facts)])),
    'status per phase',
  );
  t.same(describeUpdate(undefined, { ...facts, strategy: undefined }), {
    configured: false,
    phase: 'off',
    booted_slot: 'a',
    current_version: '1.0.0',
    available_version: null,
    target_slot: null,
    strategy: null,
    progress: null,
    bad_versions: [],
    failures: 0,
    last_error: null,
    apply_requested: false,
    gates: [],
    rollout: null,
    fleet: null,
  });
  const gates = [gateView({ gate: 'window', holds: false, detail: 'closed', opensAt: new Date('2026-11-28T01:00:00Z'), closesAt: new Date('2026-11-28T04:00:00Z') }), gateView({ gate: 'manual', holds: true, detail: 'approved by an operator' })];
  t.same(describeUpdate(stateIn('staged'), { ...facts, gates }).gates, [
    { gate: 'window', holds: false, detail: 'closed', opens_at: '2026-11-28T01:00:00.000Z', closes_at: '2026-11-28T04:00:00.000Z' },
    { gate: 'manual', holds: true, detail: 'approved by an operator', opens_at: null, closes_at: null },
  ]);
  t.end();
});

void t.test('check and apply per phase; every event sent is legal in that phase', (t) => {
  const table: Record<string, string> = {};
  for (const phase of UPDATE_PHASES) {
    for (const action of ['check', 'apply'] as const) {
      try {
        const decision = decideUpdateAction(phase, action);
        table[`${phase} ${action}`] = `${decision.send.map((e) => e.type).join('+') || '-'}${decision.latchApply ? ' latch' : ''}`;
        for (const event of decision.send) t.doesNotThrow(() => reduceUpdate(stateIn(phase), event), `${event.type} legal in ${phase}`);
      } catch (error) {
        t.ok(error instanceof ApiError && error.status === 409);
        table[`${phase} ${action}`] = `409 ${(error as ApiError).code}`;
      }
    }
  }
  t.matchSnapshot(table, 'decisions');
  t.end();
});

const MANIFEST = JSON.stringify({
  version: '2.0.0',
  payload: {
    root: { path: 'root.img.zst', size: 1000, sha256: 'x', image_size: 4000 },
    verity: { path: 'root.verity', size: 100, sha256: 'x' },
    kernel: { path: 'vmlinuz', size: 50, sha256: 'x' },
    initrd: { path: 'initrd.img', size: 50, sha256: 'x' },
  },
});

void t.test('progress: downloaded bytes against the manifest, written bytes from io.stat', (t) => {
  const onDisk: Record<string, number> = { 'root.img.zst': 500, 'root.verity': 100, vmlinuz: 999 };
  t.same(downloadProgress(MANIFEST, (p) => onDisk[p]), { stage: 'download', done_bytes: 650, total_bytes: 1200 });
  t.same(writeProgress(MANIFEST, '254:0 rbytes=10 wbytes=1500 rios=1 wios=3 dbytes=0 dios=0\n8:0 rbytes=0 wbytes=500\n'), { stage: 'write', done_bytes: 2000, total_bytes: 4000 });
  t.same(writeProgress(MANIFEST, '254:0 wbytes=9999\n'), { stage: 'write', done_bytes: 4000, total_bytes: 4000 }, 'capped');
  t.equal(downloadProgress('{', () => 0), undefined);
  t.equal(writeProgress('{"payload":{}}', ''), undefined);
  t.end();
});

function routes(control: Partial<UpdateControl> & { state?: UpdateState }) {
  const sent: UpdateEvent[] = [];
  let latched = false;
  const full: UpdateControl = {
    agent: () => (control.state ? { state: () => control.state as UpdateState, send: (e) => void sent.push(e) } : undefined),
    booted: () => ({ slot: 'a', version: '1.0.0' }),
    strategy: () => (control.state ? 'manual' : undefined),
    progress: () => Promise.resolve(undefined),
    applyPending: () => latched,
    requestApply: () => {
      latched = true;
    },
    gates: () => [],
    approve: () => false,
    rollout: () => null,
    fleet: () => null,
    ...control,
  };
  const router = new Router();
  const sleeps: number[] = [];
  const controller = new AbortController();
  registerUpdateRoutes(router, full, (ms) => {
    sleeps.push(ms);
    if (sleeps.length >= 2) controller.abort();
    return Promise.resolve();
  });
  const call = (method: string, path: string, query: Record<string, boolean> = {}): Promise<ApiResponse> => {
    const { route, params } = router.resolve(method, path);
    return route.handler({ method: route.method, path, params, query, body: undefined, signal: controller.signal });
  };
  return { call, sent, latched: () => latched, controller };
}

void t.test('endpoints: 409 when updates are off; check and apply send the decided events', async (t) => {
  const off = routes({});
  await t.rejects(off.call('POST', '/v1/update/check'), { status: 409, code: errorCode('UPDATE_NOT_CONFIGURED') });
  await t.rejects(off.call('POST', '/v1/update/apply'), { status: 409, code: errorCode('UPDATE_NOT_CONFIGURED') });
  const offStatus = await off.call('GET', '/v1/update');
  t.has('json' in offStatus ? offStatus.json : {}, { configured: false, phase: 'off' });

  const idle = routes({ state: stateIn('idle') });
  const checked = await idle.call('POST', '/v1/update/check');
  t.equal(checked.status, 202);
  t.same(idle.sent, [{ type: 'check-requested' }]);
  await idle.call('POST', '/v1/update/apply');
  t.equal(idle.latched(), true, 'apply at rest latches');

  const staged = routes({ state: stateIn('staged') });
  await staged.call('POST', '/v1/update/apply');
  t.same(staged.sent, [{ type: 'reboot-allowed' }]);
  await t.rejects(staged.call('POST', '/v1/update/check'), { status: 409, code: errorCode('UPDATE_BUSY') });

  const confirming = routes({ state: stateIn('confirming') });
  await t.rejects(confirming.call('POST', '/v1/update/apply'), { status: 409, code: errorCode('UPDATE_BUSY') });
  t.same(confirming.sent, []);
});

void t.test('approve opens the manual gate only, and only when the strategy has one', async (t) => {
  await t.rejects(routes({}).call('POST', '/v1/update/approve'), { status: 409, code: errorCode('UPDATE_NOT_CONFIGURED') });
  await t.rejects(routes({ state: stateIn('staged') }).call('POST', '/v1/update/approve'), { status: 409, code: errorCode('UPDATE_NO_MANUAL_GATE') });
  let approvals = 0;
  const r = routes({ state: stateIn('staged'), approve: () => ++approvals > 0 });
  const answer = await r.call('POST', '/v1/update/approve');
  t.equal(answer.status, 202);
  t.equal(approvals, 1);
  t.same(r.sent, [], 'no event: the other gates still decide when to reboot');
});

void t.test('followed status: one NDJSON line per change until the client goes', async (t) => {
  const r = routes({ state: stateIn('downloading'), progress: () => Promise.resolve({ stage: 'download', done_bytes: 1, total_bytes: 2 }) });
  const answer = await r.call('GET', '/v1/update', { follow: true });
  t.ok('stream' in answer);
  const lines: string[] = [];
  if ('stream' in answer) await answer.stream((chunk) => void lines.push(chunk), r.controller.signal);
  t.equal(lines.length, 1, 'unchanged status not repeated');
  t.has(JSON.parse(lines[0] ?? '{}'), { phase: 'downloading', progress: { done_bytes: 1 } });
});

void t.test('the apply latch sends reboot-allowed once the agent is staged, and ends at rest without one', async (t) => {
  const sent: UpdateEvent[] = [];
  let state = stateIn('idle');
  const agent = { state: () => state, send: (e: UpdateEvent) => void sent.push(e), run: () => Promise.resolve(), stop: () => undefined };
  const control = createUpdateControl({ updater: { agent: () => agent, gates: () => [], approve: () => false, rollout: () => undefined }, booted: () => undefined, strategy: 'manual', logger: createLogger({ component: 'api', sinks: [] }) });
  control.requestApply();
  t.equal(control.applyPending(), true);
  state = stateIn('downloading');
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.same(sent, []);
  state = stateIn('staged');
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.same(sent, [{ type: 'reboot-allowed' }]);
  t.equal(control.applyPending(), false);

  state = stateIn('idle');
  control.requestApply();
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(control.applyPending(), true, 'the same state at rest: the check has not run yet');
  state = { ...stateIn('idle') };
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(control.applyPending(), false, 'a later state at rest: the check found nothing');
});

void t.test('the fleet view: the coordinator halt of the staged version and the host reports', async (t) => {
  const agent = { state: () => stateIn('staged'), send: () => undefined, run: () => Promise.resolve(), stop: () => undefined };
  const logger = createLogger({ component: 'api', sinks: [] });
  const halt = { version: '2.0.0', reason: 'nic driver', by: 'admin' as const, since: '2026-12-05T08:00:00.000Z' };
  const control = createUpdateControl({
    updater: { agent: () => agent, gates: () => [], approve: () => false, rollout: () => undefined, fleet: () => ({ halt, reports: { state: 'failing', lastAt: new Date('2026-12-05T08:01:00Z'), lastFailure: 'HTTP 503 store_unavailable: etcd has no quorum' } }) },
    booted: () => undefined,
    strategy: 'fleetlock',
    logger,
  });
  t.same(control.fleet(), { halt, reports: 'failing', last_report_at: '2026-12-05T08:01:00.000Z', report_error: 'HTTP 503 store_unavailable: etcd has no quorum' });
  const withoutLock = createUpdateControl({ updater: { agent: () => agent, gates: () => [], approve: () => false, rollout: () => undefined, fleet: () => undefined }, booted: () => undefined, strategy: 'manual', logger });
  t.equal(withoutLock.fleet(), null, 'null without update.fleetlock');
  const r = routes({ state: stateIn('staged'), fleet: () => control.fleet() });
  const answer = await r.call('GET', '/v1/update');
  t.match(answer, { status: 200, json: { phase: 'staged', fleet: { halt: { version: '2.0.0', by: 'admin' }, reports: 'failing' } } });
});
