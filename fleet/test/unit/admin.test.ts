import t from 'tap';
import { formatStatus, summarize, type SnapshotView } from '../../src/index.ts';

// `berth fleet status` was reported to print the VERSION header without rows while `--json`
// listed three versions: the table and the JSON must come from one view and agree row for row.
void t.test('status table has one VERSION row per version the JSON view lists', async (t) => {
  const now = Date.parse('2026-12-05T12:00:00Z');
  const host = (id: string, version: string, seenAgoMs: number): SnapshotView['hosts'][number] => ({
    id,
    group: 'rack-0',
    status: { version, slot: 'a', phase: 'idle', bad_versions: [], rollbacks: 0 },
    last_seen_ms: now - seenAgoMs,
  });
  const snapshot: SnapshotView = {
    now_ms: now,
    groups: [{ group: 'rack-0', slots: 30, configured: false, holders: [] }],
    // One silent host: silence must not drop its version from the table.
    hosts: [host('h1', '1.0.0', 1000), host('h2', '1.1.0', 1000), host('h3', '1.1.0', 2000), host('h4', '1.2.0', 3_600_000)],
    halts: [],
  };
  const view = summarize(snapshot, 600_000);
  t.same(view.versions, { '1.0.0': 1, '1.1.0': 2, '1.2.0': 1 });
  const text = formatStatus(view).split('\n');
  const header = text.indexOf('VERSION  HOSTS');
  t.ok(header >= 0, 'VERSION header printed');
  t.same(text.slice(header + 1, header + 4), ['1.0.0    1', '1.1.0    2', '1.2.0    1']);
  t.equal(text[header + 4], '', 'the version table ends after its rows');
});
