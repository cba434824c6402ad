/**
 * `berth ctl` config and update commands: argument parsing (snapshots of actions and usage
 * errors), the plan, apply report and update status for people (snapshots), and runs against a
 * fake API: plan of an invalid config exits 1 with its problems, try passes --timeout, a failed
 * step exits 1, update apply --wait follows to the reboot (bar on a terminal, lines otherwise,
 * NDJSON with --json) and exits 1 with the error when the update fails.
 */
import t from 'tap';
import { ConnectError } from '../../src/ctl/client.ts';
import { formatApplyReport, formatPlan, formatUpdateBar, formatUpdateStatus, runConfigUpdateAction, type ApplyReportView, type ConfigUpdateAction, type PlanView, type UpdateStatusView } from '../../src/ctl/config-update.ts';
import type { CtlRequests } from '../../src/ctl/containers.ts';
import { actionOrError } from './ctl-fixtures.ts';
import { errorCode } from '../../../lib/errors.ts';

const CASES: string[][] = [
  ['config', 'plan', 'new.yaml'],
  ['config', 'apply', 'new.yaml', '--json'],
  ['config', 'try', 'new.yaml'],
  ['config', 'try', 'new.yaml', '--timeout', '2m'],
  ['config', 'try', '--timeout=90s', 'new.yaml'],
  ['config', 'confirm'],
  ['config', 'get'],
  ['config', 'validate', 'x.yaml'],
  ['update'],
  ['update', 'status'],
  ['update', 'check'],
  ['update', 'approve'],
  ['update', 'apply'],
  ['update', 'apply', '--wait'],
  ['config', 'plan'],
  ['config', 'apply', 'a.yaml', 'b.yaml'],
  ['config', 'try', 'new.yaml', '--timeout', '60'],
  ['config', 'apply', 'new.yaml', '--timeout', '60s'],
  ['config', 'confirm', 'now'],
  ['config', 'frobnicate'],
  ['update', 'install'],
  ['update', 'check', '--wait'],
  ['status', '--wait'],
];

void t.test('argument parsing', (t) => {
  const results: Record<string, unknown> = {};
  for (const argv of CASES) results[argv.join(' ')] = actionOrError(argv);
  t.matchSnapshot(results, 'actions and usage errors');
  t.end();
});

const PLAN: PlanView = {
  changed: true,
  reboot_required: true,
  sections: [
    { section: 'hostname', effect: 'live', changes: ['web-1 -> web-2'] },
    { section: 'kernel_modules', effect: 'reboot', changes: ['- br_netfilter'], reason: 'a loaded module (br_netfilter) is not unloaded while the host runs' },
    { section: 'containers', effect: 'live', changes: ['recreate web (environment)', 'create cache'] },
  ],
  containers: [
    { name: 'db', action: 'keep', reasons: [] },
    { name: 'web', action: 'recreate', reasons: ['environment'] },
    { name: 'sidecar', action: 'recreate', reasons: ['shares the network of web'] },
    { name: 'cache', action: 'create', reasons: [] },
    { name: 'old', action: 'remove', reasons: [] },
  ],
};

const REPORT: ApplyReportView = {
  plan: PLAN,
  warnings: [{ path: 'debug.shell', line: 3, column: 10, message: 'an unauthenticated root shell will run on /dev/ttyS1' }],
  applied: [
    { step: 'set-hostname', ok: true, detail: 'hostname web-2' },
    { step: 'reconcile-containers', ok: false, detail: 'containers recreated web', error: 'Containers failed to start: web' },
  ],
  reboot_required: true,
  saved: true,
};

const STATUS: UpdateStatusView = {
  configured: true,
  phase: 'downloading',
  booted_slot: 'a',
  current_version: '1.0.0',
  available_version: '2.0.0',
  target_slot: 'b',
  strategy: 'window',
  progress: { stage: 'download', done_bytes: 50 * 1024 * 1024, total_bytes: 200 * 1024 * 1024 },
  bad_versions: ['1.5.0'],
  failures: 0,
  last_error: null,
  apply_requested: true,
};

void t.test('output formatting', (t) => {
  t.matchSnapshot(formatPlan(PLAN), 'plan');
  t.equal(formatPlan({ changed: false, reboot_required: false, sections: [], containers: [] }), 'No changes: the config is the one in force\n');
  t.matchSnapshot(formatApplyReport('new.yaml', REPORT), 'apply report');
  t.matchSnapshot(formatApplyReport('new.yaml', { ...REPORT, applied: [REPORT.applied[0] ?? { step: '', ok: true, detail: '' }], reboot_required: false, saved: false, pending_try: { deadline: '2026-01-01T00:01:00.000Z', timeout_ms: 60_000 } }), 'try report');
  t.matchSnapshot(formatUpdateStatus(STATUS), 'update status downloading');
  t.matchSnapshot(
    formatUpdateStatus({ ...STATUS, phase: 'failed', progress: null, apply_requested: false, failures: 2, last_error: { code: errorCode('UPDATER_SIGNATURE_INVALID'), message: 'Refusing manifest: bad signature' } }),
    'update status failed',
  );
  t.matchSnapshot(formatUpdateStatus({ ...STATUS, configured: false, phase: 'off', available_version: null, target_slot: null, strategy: null, progress: null, bad_versions: [], apply_requested: false }), 'update status off');
  t.matchSnapshot(formatUpdateBar(STATUS, 20), 'progress bar');
  t.matchSnapshot(
    formatUpdateStatus({
      ...STATUS,
      phase: 'staged',
      progress: null,
      apply_requested: false,
      strategy: 'window+fleetlock+manual',
      gates: [
        { gate: 'window', holds: false, detail: 'closed (Europe/Berlin)', opens_at: '2026-11-28T01:00:00.000Z', closes_at: '2026-11-28T04:00:00.000Z' },
        { gate: 'fleetlock', holds: false, detail: 'lock requested only once every other gate holds', opens_at: '2026-11-28T01:00:00.000Z', closes_at: null },
        { gate: 'manual', holds: true, detail: 'approved by an operator', opens_at: null, closes_at: null },
        { gate: 'pin', holds: true, detail: '2.0.0 fits pin 2.x', opens_at: null, closes_at: null },
      ],
      rollout: { version: '2.0.0', decision: 'update', wave: 2, waves: 4, eligible_at: '2026-11-20T14:37:00.000Z', halted_versions: ['1.9.0'], running_halted: false, metadata_expires: '2026-11-23T10:00:00.000Z' },
    }),
    'update status with gates',
  );
  t.matchSnapshot(
    formatUpdateStatus({
      ...STATUS,
      phase: 'staged',
      progress: null,
      apply_requested: false,
      strategy: 'fleetlock',
      gates: [{ gate: 'fleetlock', holds: false, detail: "2.0.0 halted by the fleet halt policy since 2026-12-05T08:00:00.000Z: 2 hosts rolled back (policy: halt at 2 failures; 2 took it); not rebooting into it (it is not marked bad), asking again every 5 min until 'berth fleet resume 2.0.0'", opens_at: null, closes_at: null }],
      fleet: { halt: { version: '2.0.0', reason: '2 hosts rolled back (policy: halt at 2 failures; 2 took it)', by: 'policy', since: '2026-12-05T08:00:00.000Z' }, reports: 'on', last_report_at: '2026-12-05T08:01:00.000Z', report_error: null },
    }),
    'update status with a fleet halt',
  );
  t.matchSnapshot(formatUpdateStatus({ ...STATUS, fleet: { halt: null, reports: 'off', last_report_at: '2026-12-05T08:01:00.000Z', report_error: null } }), 'update status with a Zincati-only FleetLock server');
  t.end();
});

function fakeRequests(answers: Record<string, unknown>): CtlRequests & { calls: string[] } {
  const calls: string[] = [];
  const queues = new Map(Object.entries(answers).map(([k, v]) => [k, Array.isArray(v) ? [...(v as unknown[])] : [v]]));
  return {
    calls,
    json(method, path, _expect, body) {
      calls.push(`${method} ${path}${body ? ` <${body.text}>` : ''}`);
      const queue = queues.get(`${method} ${path}`);
      const next = queue && queue.length > 1 ? queue.shift() : queue?.[0];
      if (next === undefined) return Promise.reject(new Error(`unexpected ${method} ${path}`));
      if (next instanceof Error) return Promise.reject(next);
      return Promise.resolve(next);
    },
    lines: () => Promise.reject(new Error('not used')),
  };
}

async function run(action: ConfigUpdateAction, requests: CtlRequests, options: { json?: boolean; isTty?: boolean } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runConfigUpdateAction(action, options.json ?? false, requests, {
    out: (s) => void out.push(s),
    err: (s) => void err.push(s),
    readFile: (path) => Promise.resolve(`# ${path}\nhostname: web-2\n`),
    isTty: options.isTty ?? false,
    sleep: () => Promise.resolve(),
  });
  return { code, out: out.join(''), err: err.join('') };
}

void t.test('config commands against a fake API', async (t) => {
  const invalid = await run(
    { op: 'config-plan', file: 'bad.yaml' },
    fakeRequests({ 'POST /v1/config/plan': { valid: false, problems: [{ path: 'hostnme', line: 2, column: 1, message: 'unknown key' }], warnings: [] } }),
  );
  t.equal(invalid.code, 1);
  t.match(invalid.err, /bad\.yaml:2:1: hostnme: unknown key/);

  const plan = await run({ op: 'config-plan', file: 'new.yaml' }, fakeRequests({ 'POST /v1/config/plan': { valid: true, problems: [], warnings: [], plan: PLAN } }));
  t.equal(plan.code, 0);
  t.match(plan.out, /hostname: applied now/);

  const requests = fakeRequests({ 'POST /v1/config/try?timeout=2m': { ...REPORT, applied: [REPORT.applied[0]], saved: false, pending_try: { deadline: 'D', timeout_ms: 120_000 } } });
  const tried = await run({ op: 'config-try', file: 'new.yaml', timeout: '2m' }, requests);
  t.equal(tried.code, 0);
  t.same(requests.calls, ['POST /v1/config/try?timeout=2m <# new.yaml\nhostname: web-2\n>']);
  t.match(tried.out, /berth ctl config confirm/);

  const applied = await run({ op: 'config-apply', file: 'new.yaml' }, fakeRequests({ 'POST /v1/config/apply': REPORT }));
  t.equal(applied.code, 1, 'a failed step exits 1');

  const approveRequests = fakeRequests({ 'POST /v1/update/approve': { phase: 'staged', message: 'Approved' } });
  const approved = await run({ op: 'update-approve' }, approveRequests);
  t.same(approveRequests.calls, ['POST /v1/update/approve']);
  t.equal(approved.out, 'Approved\n');

  const confirmed = await run({ op: 'config-confirm' }, fakeRequests({ 'POST /v1/config/confirm': { confirmed: true, saved: true } }), { json: true });
  t.same(JSON.parse(confirmed.out), { confirmed: true, saved: true });
});

const at = (phase: UpdateStatusView['phase'], extra: Partial<UpdateStatusView> = {}): UpdateStatusView => ({ ...STATUS, phase, progress: null, ...extra });

void t.test('update apply --wait follows to the reboot', async (t) => {
  const sequence = [
    at('idle', { available_version: null }),
    at('checking', { available_version: null }),
    at('downloading', { progress: { stage: 'download', done_bytes: 0, total_bytes: 1000 } }),
    at('downloading', { progress: { stage: 'download', done_bytes: 550, total_bytes: 1000 } }),
    at('verifying', { progress: { stage: 'write', done_bytes: 4000, total_bytes: 4000 } }),
    at('rebooting', { apply_requested: false }),
    new ConnectError('connection refused'),
  ];
  const answers = { 'POST /v1/update/apply': { phase: 'idle', message: 'Checking now' }, 'GET /v1/update': sequence };
  const plain = await run({ op: 'update-apply', wait: true }, fakeRequests(answers));
  t.equal(plain.code, 0);
  t.matchSnapshot(plain.out, 'plain lines');
  const tty = await run({ op: 'update-apply', wait: true }, fakeRequests(answers), { isTty: true });
  t.equal(tty.code, 0);
  t.matchSnapshot(tty.out.replace(/\r/g, '<CR>').replace(/\u001b/g, '<ESC>'), 'terminal bar (CR and ESC made visible)');
  const asJson = await run({ op: 'update-apply', wait: true }, fakeRequests(answers), { json: true });
  t.equal(asJson.code, 0);
  t.equal(asJson.out.trim().split('\n').filter((l) => l.startsWith('{"configured"')).length, 6, 'one NDJSON status per change');
});

void t.test('update apply --wait: a failure exits 1 with the error, nothing newer exits 0', async (t) => {
  const failed = await run(
    { op: 'update-apply', wait: true },
    fakeRequests({
      'POST /v1/update/apply': { phase: 'idle', message: 'Checking now' },
      'GET /v1/update': [at('checking'), at('failed', { apply_requested: false, last_error: { code: errorCode('UPDATER_SIGNATURE_INVALID'), message: 'Refusing manifest: bad signature' } })],
    }),
  );
  t.equal(failed.code, 1);
  t.match(failed.err, /bad signature \[UPDATER_SIGNATURE_INVALID\]/);
  const none = await run(
    { op: 'update-apply', wait: true },
    fakeRequests({ 'POST /v1/update/apply': { phase: 'idle', message: 'Checking now' }, 'GET /v1/update': [at('idle', { apply_requested: true }), at('idle', { apply_requested: false, available_version: null })] }),
  );
  t.equal(none.code, 0);
  t.match(none.out, /No update to apply/);
  const status = await run({ op: 'update-status' }, fakeRequests({ 'GET /v1/update': STATUS }));
  t.match(status.out, /download +25% \(50\.0 MiB of 200\.0 MiB\)/);
});
