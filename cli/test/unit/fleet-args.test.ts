/**
 * `berth fleet …` and `berth keys fleet …` argument parsing, and the fleet view's tables drawn
 * from a snapshot.
 */
import t from 'tap';
import { parseCliArgs } from '../../src/args.ts';
import { formatGroups, formatHosts, formatLocks, formatStatus, summarize, type SnapshotView } from '../../../fleet/src/index.ts';
import { errorCode } from '../../../lib/errors.ts';

const env = { BERTH_FLEET_SERVER: 'https://fleet:7480', BERTH_FLEET_CERT: 'a.crt', BERTH_FLEET_KEY: 'a.key', BERTH_FLEET_CA: 'ca.crt' };

void t.test('fleet serve', async (t) => {
  t.same(parseCliArgs(['fleet', 'serve', '--etcd', 'http://127.0.0.1:2379,http://127.0.0.2:2379', '--listen', '127.0.0.1:7000', '--cert', 's.crt', '--key', 's.key', '--ca', 'ca.crt', '--holder-timeout=60', '--max-failures', '3']), {
    kind: 'fleet-serve',
    host: '127.0.0.1',
    port: 7000,
    etcd: ['http://127.0.0.1:2379', 'http://127.0.0.2:2379'],
    insecureHttp: false,
    allowAnonymousHosts: false,
    cert: 's.crt',
    key: 's.key',
    ca: 'ca.crt',
    holderTimeoutS: 60,
    maxFailures: 3,
  });
  t.throws(() => parseCliArgs(['fleet', 'serve', '--etcd', 'http://e:2379']), { code: errorCode('CLI_USAGE'), message: /needs --cert, --key and --ca/ });
  t.throws(() => parseCliArgs(['fleet', 'serve']), { code: errorCode('CLI_USAGE'), message: /needs --etcd/ });
  t.throws(() => parseCliArgs(['fleet', 'serve', '--etcd', 'x', '--insecure-http', '--cert', 'c']), { message: /exclude each other/ });
  t.throws(() => parseCliArgs(['fleet', 'serve', '--etcd', 'x', '--insecure-http', '--default-slots', '0']), { message: /--default-slots '0'/ });
});

void t.test('fleet admin commands', async (t) => {
  const target = { server: 'https://fleet:7480', cert: 'a.crt', key: 'a.key', ca: 'ca.crt' };
  t.same(parseCliArgs(['fleet', 'status', '--json'], env), { kind: 'fleet', target, json: true, silentAfterS: 600, action: 'status' });
  t.same(parseCliArgs(['fleet', 'unlock', 'h1', '--group', 'web'], env), { kind: 'fleet', target, json: false, silentAfterS: 600, action: 'unlock', id: 'h1', group: 'web' });
  t.same(parseCliArgs(['fleet', 'halt', '1.4.0', '--reason', 'bad nic driver'], env), { kind: 'fleet', target, json: false, silentAfterS: 600, action: 'halt', version: '1.4.0', reason: 'bad nic driver' });
  t.same(parseCliArgs(['fleet', 'groups', 'set', 'etcd', '1'], env), { kind: 'fleet', target, json: false, silentAfterS: 600, action: 'set-group', group: 'etcd', slots: 1 });
  t.throws(() => parseCliArgs(['fleet', 'status']), { code: errorCode('CLI_USAGE'), message: /needs --server/ });
  t.throws(() => parseCliArgs(['fleet', 'status', '--server', 'https://f']), { message: /needs --cert, --key/ });
  t.throws(() => parseCliArgs(['fleet', 'resume'], env), { message: /takes one VERSION/ });
  t.throws(() => parseCliArgs(['fleet', 'halt', '1.0', '--group', 'x'], env), { message: /--group is not an option/ });
  t.throws(() => parseCliArgs(['fleet', 'groups', 'set', 'bad group', '1'], env), { message: /must match/ });
  t.throws(() => parseCliArgs(['fleet', 'reboot'], env), { message: /Unknown fleet command 'reboot'/ });
});

void t.test('keys fleet', async (t) => {
  t.same(parseCliArgs(['keys', 'fleet', 'host', 'node-1', '--out', 'k']), { kind: 'keys-fleet', role: 'host', name: 'node-1', hosts: [], outDir: 'k' });
  t.same(parseCliArgs(['keys', 'fleet', 'server', '--host', '10.0.0.1', '--ca-dir', 'ca']), { kind: 'keys-fleet', role: 'server', hosts: ['10.0.0.1'], outDir: '.', caDir: 'ca' });
  t.throws(() => parseCliArgs(['keys', 'fleet', 'host']), { message: /needs the host's FleetLock id/ });
  t.throws(() => parseCliArgs(['keys', 'fleet', 'admin', '../x']), { message: /names the files too/ });
  t.throws(() => parseCliArgs(['keys', 'fleet', 'ca', '--ca-dir', 'x']), { message: /Unexpected argument '--ca-dir'/ });
});

const snapshot: SnapshotView = {
  now_ms: Date.parse('2026-12-04T21:00:00Z'),
  groups: [{ group: 'default', slots: 2, configured: true, holders: [{ id: 'h2', target_version: '1.1', since_ms: Date.parse('2026-12-04T20:59:30Z') }] }],
  hosts: [
    { id: 'h1', group: 'default', status: { version: '1.1', slot: 'b', phase: 'succeeded', bad_versions: [], rollbacks: 0 }, last_seen_ms: Date.parse('2026-12-04T20:59:50Z') },
    { id: 'h2', group: 'default', status: { version: '1.0', slot: 'a', phase: 'rebooting', target_version: '1.1', bad_versions: [], rollbacks: 0 }, last_seen_ms: Date.parse('2026-12-04T20:40:00Z') },
    { id: 'h3', group: 'default', last_seen_ms: Date.parse('2026-12-03T20:00:00Z') },
  ],
  halts: [{ version: '1.2', state: 'halted', reason: '2 hosts rolled back', by: 'policy', since: '2026-12-04T20:00:00.000Z', baseline: 0 }],
};

void t.test('the fleet view', async (t) => {
  const view = summarize(snapshot, 600_000);
  t.same(view, {
    hosts: 3,
    versions: { '1.0': 1, '1.1': 1 },
    phases: { rebooting: 1, succeeded: 1 },
    health: { reporting: 1, silent: 1, gone: 1 },
    groups: [{ group: 'default', slots: 2, held: 1 }],
    halted: [{ version: '1.2', by: 'policy', reason: '2 hosts rolled back', since: '2026-12-04T20:00:00.000Z' }],
    silent: ['h2', 'h3'],
  });
  t.matchSnapshot([formatStatus(view), formatHosts(snapshot, 600_000), formatLocks(snapshot), formatGroups(snapshot)].join('\n\n'));
});
