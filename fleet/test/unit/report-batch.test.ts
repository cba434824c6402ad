/**
 * Group commit of reports and the cache's read-only refusals: one put per host per transaction
 * (the last report wins, every request waits for it), transactions within etcd's op limit,
 * holders released by their reports, and a cached view that refuses only a visibly full group.
 */
import t from 'tap';
import type { HostStatus } from '../../../lib/fleet/protocol.ts';
import { MAX_REPORTS_PER_TXN, holdersEndedByReports, isFullFromCache, planReportBatch } from '../../src/core/report-batch.ts';
import type { Holder } from '../../src/core/semaphore.ts';

const status = (phase: HostStatus['phase'], version: string): HostStatus => ({
  version,
  slot: 'a',
  phase,
  bad_versions: [],
  rollbacks: 0,
  target_version: '2.0',
});
const h = (id: string, since_ms = 95_000): Holder => ({
  id,
  since_ms,
  target_version: '2.0',
});

void t.test('a batch puts each host once, its last report, and answers every request of that host', async (t) => {
  const plan = planReportBatch(['a', 'b', 'a', 'c']);
  t.equal(plan.length, 1);
  t.same(plan[0]?.commit, [2, 1, 3], 'a commits its second report (index 2)');
  t.same(
    [...(plan[0]?.waiting ?? new Map<string, number[]>())],
    [
      ['a', [0, 2]],
      ['b', [1]],
      ['c', [3]],
    ],
  );
  t.same(planReportBatch([]), []);
});

void t.test("a large batch splits into transactions within etcd's 128-operation limit", async (t) => {
  const ids = Array.from({ length: 150 }, (_, i) => `h${i}`);
  const plan = planReportBatch(ids);
  t.same(
    plan.map((c) => c.commit.length),
    [42, 42, 42, 24],
  );
  t.ok(MAX_REPORTS_PER_TXN * 3 <= 128, 'two puts per report plus a range per group fit, even with a group per host');
  const all = plan.flatMap((c) => c.commit).sort((a, b) => a - b);
  t.same(
    all,
    ids.map((_, i) => i),
    'every report is committed exactly once',
  );
  t.same(
    planReportBatch(['x', 'y', 'z'], 2).map((c) => c.commit),
    [[0, 1], [2]],
  );
});

void t.test('a committed report releases its holder only when it ends the reboot', async (t) => {
  const holders = [h('a'), h('b'), h('c')];
  const reports = new Map([
    ['a', status('succeeded', '2.0')],
    ['b', status('confirming', '2.0')],
    ['d', status('rolled-back', '1.0')],
  ]);
  t.same(holdersEndedByReports(holders, reports), ['a'], 'b is still confirming, c sent nothing, d holds nothing');
  t.same(holdersEndedByReports(holders, new Map([['c', status('rolled-back', '1.0')]])), ['c']);
});

void t.test('a cached view refuses only a full group of live holders, and never answers for a holder', async (t) => {
  const now = 100_000;
  const timeout = 10_000;
  t.ok(isFullFromCache({ holders: [h('a'), h('b')], slots: 2 }, 'c', now, timeout), 'full of fresh grants');
  t.notOk(isFullFromCache({ holders: [h('a')], slots: 2 }, 'c', now, timeout), 'a free slot goes to etcd (only a transaction grants)');
  t.notOk(isFullFromCache({ holders: [h('a'), h('b')], slots: 2 }, 'a', now, timeout), 'a holder is confirmed in etcd');
  t.notOk(isFullFromCache({ holders: [h('a', 80_000), h('b')], slots: 2 }, 'c', now, timeout), 'a holder that may have expired goes to etcd');
  t.ok(isFullFromCache({ holders: [h('a'), h('b'), h('c')], slots: 1 }, 'd', now, timeout), 'a lowered slot count');
  t.ok(isFullFromCache({ holders: [], slots: 0 }, 'd', now, timeout), 'zero slots');
});
