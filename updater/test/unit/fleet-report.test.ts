import t from 'tap';
import { parseHostReport } from '../../../lib/fleet/protocol.ts';
import { createMemoryLogger } from '../../../lib/log.ts';
import { afterReport, hostStatusOf, INITIAL_REPORT_MEMORY, lastErrorOf, reportDueInMs, REPORT_INTERVAL_MS, REPORT_RETRY_MS } from '../../src/core/fleet-report.ts';
import { initialUpdateState, UPDATE_PHASES, type UpdatePhaseState, type UpdateState } from '../../src/core/state.ts';
import { createFleetReporter } from '../../src/fleet-reporter.ts';
import type { ReportResult } from '../../src/fleetlock.ts';
import type { HostStatus } from '../../../lib/fleet/protocol.ts';

const target = { version: '2.0.0', bundleUrl: 'https://u/b/manifest.json', slot: 'b' as const, from: { slot: 'a' as const, version: '1.0.0' } };
const PHASES: Record<UpdatePhaseState['phase'], UpdatePhaseState> = {
  idle: { phase: 'idle' },
  checking: { phase: 'checking' },
  downloading: { phase: 'downloading', target },
  verifying: { phase: 'verifying', target },
  staged: { phase: 'staged', target, bootId: 'boot-1' },
  rebooting: { phase: 'rebooting', target, bootId: 'boot-1', reason: 'update' },
  confirming: { phase: 'confirming', target, bootId: 'boot-2' },
  succeeded: { phase: 'succeeded', slot: 'b', version: '2.0.0' },
  'rolled-back': { phase: 'rolled-back', slot: 'b', version: '2.0.0', bootedSlot: 'a', bootedVersion: '1.0.0', reason: 'health-failed', detail: 'web unhealthy' },
  failed: { phase: 'failed', error: { code: 'UPDATER_HASH_MISMATCH', message: 'root.erofs.zst: sha256 differs' }, during: 'downloading', version: '2.0.0' },
};
const inPhase = (phase: UpdatePhaseState['phase'], badVersions: string[] = []): UpdateState => ({ ...initialUpdateState(), current: PHASES[phase], badVersions });

void t.test('the report status of every phase is what the coordinator validates', (t) => {
  t.same(Object.keys(PHASES), UPDATE_PHASES, 'every phase covered');
  const booted = { slot: 'a' as const, version: '1.0.0' };
  for (const phase of UPDATE_PHASES) {
    const status = hostStatusOf(inPhase(phase, ['1.5.0']), booted, undefined);
    const parsed = parseHostReport({ client_params: { id: 'h1', group: 'default' }, status });
    t.ok(parsed.ok, `${phase}: valid report${parsed.ok ? '' : ` (${parsed.problems.join('; ')})`}`);
    t.equal(status.phase, phase);
    t.equal(status.version, '1.0.0', `${phase}: the running version`);
    t.same(status.bad_versions, ['1.5.0']);
    t.equal(status.rollbacks, 1);
  }
  t.equal(hostStatusOf(inPhase('idle'), booted, undefined).target_version, undefined, 'idle moves nowhere');
  t.equal(hostStatusOf(inPhase('staged'), booted, undefined).target_version, '2.0.0', 'staged: the version it moves to (the coordinator halts by it)');
  t.same(hostStatusOf(inPhase('rolled-back', ['2.0.0']), booted, undefined), { version: '1.0.0', slot: 'a', phase: 'rolled-back', target_version: '2.0.0', bad_versions: ['2.0.0'], rollbacks: 1 }, 'a rollback names the version that failed, which the halt policy counts');
  // After the reboot into the new slot the agent runs with the new boot's identity.
  t.same(hostStatusOf(inPhase('succeeded'), { slot: 'b', version: '2.0.0' }, undefined), { version: '2.0.0', slot: 'b', phase: 'succeeded', target_version: '2.0.0', bad_versions: [], rollbacks: 0 });

  const failure = lastErrorOf(undefined, inPhase('failed'));
  t.same(failure, { code: 'UPDATER_HASH_MISMATCH', message: 'root.erofs.zst: sha256 differs' });
  t.same(lastErrorOf(failure, inPhase('idle')), failure, 'the last failure is kept after the agent moved on');
  t.match(hostStatusOf(inPhase('idle'), booted, failure), { last_error: { code: 'UPDATER_HASH_MISMATCH' } });
  t.end();
});

void t.test('a report is due on change, periodically, sooner after a failure, and never once the server has no report route', (t) => {
  const m0 = INITIAL_REPORT_MEMORY;
  t.equal(reportDueInMs(m0, 'A', 1000), 0, 'the first report goes at once');
  const accepted = afterReport(m0, 'A', 1000, { status: 200 });
  t.same(accepted, { memory: { state: 'on', lastSent: 'A', lastAtMs: 1000 }, log: undefined });
  t.equal(reportDueInMs(accepted.memory, 'A', 61_000), REPORT_INTERVAL_MS - 60_000, 'unchanged: at the interval');
  t.equal(reportDueInMs(accepted.memory, 'A', 1000 + REPORT_INTERVAL_MS + 5), 0, 'unchanged and old: now');
  t.equal(reportDueInMs(accepted.memory, 'B', 2000), 0, 'changed: now');

  const failed = afterReport(accepted.memory, 'B', 2000, { unreachable: 'connect ECONNREFUSED 127.0.0.1:7480' });
  t.same(failed.memory, { state: 'failing', lastSent: 'A', lastAtMs: 2000, lastFailure: 'connect ECONNREFUSED 127.0.0.1:7480' });
  t.equal(failed.log, 'report-failed');
  t.equal(reportDueInMs(failed.memory, 'B', 12_000), REPORT_RETRY_MS - 10_000, 'failing: retried after 30 s, not hammered on every change');
  const again = afterReport(failed.memory, 'B', 32_000, { unreachable: 'connect ECONNREFUSED 127.0.0.1:7480' });
  t.equal(again.log, undefined, 'the same failure is logged once');
  const other = afterReport(again.memory, 'B', 62_000, { status: 403, kind: 'forbidden', value: "Host 'x' cannot report as 'y'" });
  t.equal(other.log, 'report-failed', 'a different failure is logged');
  t.equal(other.memory.lastFailure, "HTTP 403 forbidden: Host 'x' cannot report as 'y'");
  const back = afterReport(other.memory, 'B', 92_000, { status: 200 });
  t.same(back, { memory: { state: 'on', lastSent: 'B', lastAtMs: 92_000 }, log: 'report-recovered' });

  const off = afterReport(accepted.memory, 'B', 3000, { status: 404, kind: 'not_found', value: 'no route' });
  t.same(off, { memory: { state: 'off', lastAtMs: 3000 }, log: 'reports-off' }, 'a Zincati-only server (404) turns reports off');
  t.equal(reportDueInMs(off.memory, 'C', 10 ** 12), undefined, 'and they stay off');
  t.end();
});

/** A clock whose sleeps wait for the test to advance time (`tick`). */
function steppedClock(start: number) {
  let now = start;
  const sleepers: { until: number; resolve: () => void }[] = [];
  return {
    now: () => new Date(now),
    sleep: (ms: number, signal?: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(new Error('aborted'));
        const entry = { until: now + ms, resolve };
        sleepers.push(entry);
        signal?.addEventListener('abort', () => {
          sleepers.splice(sleepers.indexOf(entry), 1);
          reject(new Error('aborted'));
        }, { once: true });
      }),
    async tick(ms: number) {
      now += ms;
      for (const s of sleepers.filter((x) => x.until <= now)) {
        sleepers.splice(sleepers.indexOf(s), 1);
        s.resolve();
      }
      await new Promise((r) => setTimeout(r, 5));
    },
  };
}

void t.test('the reporter sends on every change and periodically, one at a time; a 404 stops it quietly', async (t) => {
  const logger = createMemoryLogger('updater');
  const clock = steppedClock(Date.parse('2026-12-05T08:00:00Z'));
  let state = inPhase('idle');
  const sent: HostStatus[] = [];
  let answer: ReportResult = { ok: true, released: false };
  let inFlight = 0;
  let maxInFlight = 0;
  const client = {
    report: async (status: HostStatus): Promise<ReportResult> => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      sent.push(status);
      await new Promise((r) => setTimeout(r, 2));
      inFlight -= 1;
      return answer;
    },
  };
  const reporter = createFleetReporter({ client, state: () => state, booted: { slot: 'a', version: '1.0.0' }, clock, logger, intervalMs: 60_000 });
  const controller = new AbortController();
  const running = reporter.run(controller.signal);
  await clock.tick(0);
  t.same(sent.map((s) => s.phase), ['idle'], 'reported at start');
  state = inPhase('downloading');
  reporter.notify();
  state = inPhase('verifying');
  reporter.notify();
  await clock.tick(0);
  t.same(sent.map((s) => s.phase).slice(-1), ['verifying'], 'a change is reported at once (the newest state)');
  const afterChanges = sent.length;
  await reporter.flush();
  t.equal(sent.length, afterChanges, 'an unchanged status is not sent again before the interval');
  await clock.tick(60_000);
  t.equal(sent.length, afterChanges + 1, 'unchanged: sent again after the interval');
  t.equal(maxInFlight, 1, 'one report at a time');
  t.equal(reporter.view().state, 'on');

  answer = { ok: false, status: 404, kind: 'http_404', value: 'Not Found' };
  state = inPhase('staged');
  reporter.notify();
  await running;
  t.equal(reporter.view().state, 'off');
  const count = sent.length;
  state = inPhase('rebooting');
  reporter.notify();
  await reporter.flush();
  t.equal(sent.length, count, 'nothing more once off');
  t.equal(logger.lines.filter((l) => l.includes('Host reports off')).length, 1, 'logged once');
  t.notOk(logger.lines.some((l) => l.includes('level=warn')), 'a Zincati-only server is not a warning');
  controller.abort();
});
