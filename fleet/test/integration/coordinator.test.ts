/**
 * The coordinator against a real 3-member etcd cluster (Debian's etcd-server on loopback) with
 * two replicas and a dozen mutual-TLS clients: slots are never exceeded while members and
 * replicas are killed and restarted, a changed slot count applies, a silent holder is released,
 * a halted version is refused with its reason, and unauthenticated or wrong-role clients are refused.
 * berth's own agent client (updater's FleetLock client, reporter and reboot gate) runs against it too.
 */
import t from 'tap';
import { createLogger } from '../../../lib/log.ts';
import { issueCertificate } from '../../../lib/tls/x509.ts';
import { FLEETLOCK_ROUTES, REPORT_ROUTE, parseHaltRefusal, type HostStatus } from '../../../lib/fleet/protocol.ts';
import { EtcdClient, createFleetAdminClient, fleetRequest, startCoordinator, type CoordinatorOptions, type FleetClientOptions, type RunningCoordinator } from '../../src/index.ts';
import { freePort } from '../../../lib/sys/free-port.ts';
import { startEtcdCluster } from './etcd-cluster.ts';
import { awaitRebootPermission, createFleetLockClient, createFleetReporter, createGateTracker, resolveFleetLockIdentity, type GateFacts, type UpdateState } from '../../../updater/src/host.ts';

const notBefore = new Date(Date.now() - 60_000);
const ca = issueCertificate({ role: 'ca', commonName: 'berth fleet CA', notBefore, validDays: 2 });
const server = issueCertificate({ role: 'server', commonName: 'fleet', altNames: ['127.0.0.1'], notBefore, validDays: 2, issuer: ca });
const leaf = (cn: string, issuer = ca) => issueCertificate({ role: 'client', commonName: cn, notBefore, validDays: 2, issuer });
const adminCert = leaf('admin:ops');
const tls = { certPem: server.certPem, keyPem: server.keyPem, caPem: ca.certPem };
const lines: string[] = [];
const log = createLogger({ component: 'fleet', sinks: [(l) => lines.push(l)] });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const client = (url: string, cert?: { certPem: string; keyPem: string }): FleetClientOptions => ({ url, caPem: ca.certPem, timeoutMs: 10_000, ...(cert ? { certPem: cert.certPem, keyPem: cert.keyPem } : {}) });
const fl = { 'fleet-lock-protocol': 'true' };
const body = (id: string, group: string) => ({ client_params: { id, group } });
const status = (phase: HostStatus['phase'], version: string, extra: Partial<HostStatus> = {}): HostStatus => ({ version, slot: 'a', phase, bad_versions: [], rollbacks: 0, ...extra });

void t.test('coordinator on a 3-member etcd cluster', async (t) => {
  const dir = t.testdir();
  const etcd = await startEtcdCluster(dir);
  t.teardown(() => etcd.stop());
  const ports = [await freePort(), await freePort()];
  const options = (port: number, extra: Partial<CoordinatorOptions> = {}): CoordinatorOptions => ({ host: '127.0.0.1', port, tls, etcdEndpoints: etcd.endpoints, log, holderTimeoutMs: 20_000, sweepIntervalMs: 1000, ...extra });
  const replicas: (RunningCoordinator | undefined)[] = [await startCoordinator(options(ports[0] as number)), await startCoordinator(options(ports[1] as number))];
  t.teardown(async () => {
    for (const r of replicas) await r?.close();
  });
  const urls = ports.map((p) => `https://127.0.0.1:${p}`);
  const admin = createFleetAdminClient(client(urls[0] as string, adminCert));

  await t.test('unauthenticated and wrong-role clients are refused', async (t) => {
    const url = urls[1] as string;
    const anon = await fleetRequest(client(url), 'POST', FLEETLOCK_ROUTES.preReboot, body('h1', 'default'), fl);
    t.match(anon, { status: 401, body: { kind: 'unauthenticated' } });
    const h1 = leaf('host:h1');
    const asOther = await fleetRequest(client(url, h1), 'POST', FLEETLOCK_ROUTES.preReboot, body('h2', 'default'), fl);
    t.match(asOther, { status: 403, body: { kind: 'forbidden', value: "Host 'h1' cannot lock as 'h2'" } });
    const hostAdmin = await fleetRequest(client(url, h1), 'POST', '/v1/fleet/halt', { version: '9' });
    t.match(hostAdmin, { status: 403, body: { kind: 'forbidden' } });
    const hostRead = await fleetRequest(client(url, h1), 'GET', '/v1/fleet/snapshot');
    t.equal(hostRead.status, 403);
    const adminLock = await fleetRequest(client(url, adminCert), 'POST', FLEETLOCK_ROUTES.preReboot, body('h1', 'default'), fl);
    t.match(adminLock, { status: 403, body: { kind: 'forbidden' } });
    const foreignCa = issueCertificate({ role: 'ca', commonName: 'other CA', notBefore, validDays: 2 });
    const foreign = await fleetRequest(client(url, leaf('admin:ops', foreignCa)), 'GET', '/v1/fleet/snapshot');
    t.match(foreign, { status: 401, body: { kind: 'unauthenticated' } }, 'a certificate from another CA is not an identity');
    const noRole = await fleetRequest(client(url, leaf('ops')), 'GET', '/v1/fleet/snapshot');
    t.equal(noRole.status, 401);
    const noHeader = await fleetRequest(client(url, h1), 'POST', FLEETLOCK_ROUTES.preReboot, body('h1', 'default'));
    t.match(noHeader, { status: 400, body: { kind: 'missing_protocol_header' } });
    const badBody = await fleetRequest(client(url, h1), 'POST', FLEETLOCK_ROUTES.preReboot, { client_params: { id: 'h1', group: 'a b' } }, fl);
    t.match(badBody, { status: 400, body: { kind: 'bad_request', value: /client_params.group/ } });
    const snap = await admin.snapshot();
    t.same(
      snap.groups.flatMap((g) => g.holders),
      [],
      'no refused request took a slot',
    );
  });

  await t.test('a dozen hosts never exceed the slots while etcd members and replicas die; a changed slot count applies', async (t) => {
    await admin.setGroup('web', 3);
    const hosts = Array.from({ length: 12 }, (_, i) => ({ id: `w${i + 1}`, cert: leaf(`host:w${i + 1}`) }));
    let current = 0;
    let phase: 'three' | 'draining' | 'one' = 'three';
    const max = { three: 0, draining: 0, one: 0 };
    let grants = 0;
    let stop = false;
    const call = async (h: (typeof hosts)[number], path: string, b: unknown, attempt: number) => {
      // Alternate replicas; a dead one is a connection error and the next try goes to the other.
      try {
        return await fleetRequest(client(urls[attempt % 2] as string, h.cert), 'POST', path, b, fl);
      } catch {
        return { status: 0, body: undefined };
      }
    };
    const run = async (h: (typeof hosts)[number], n: number) => {
      let attempt = n;
      while (!stop) {
        await call(h, REPORT_ROUTE, { client_params: { id: h.id, group: 'web' }, status: status('staged', '1.0', { target_version: '2.0' }) }, attempt++);
        for (;;) {
          if (stop) return;
          const res = await call(h, FLEETLOCK_ROUTES.preReboot, body(h.id, 'web'), attempt++);
          if (res.status === 200) break;
          await sleep(30 + Math.random() * 80);
        }
        current += 1;
        grants += 1;
        max[phase] = Math.max(max[phase], current);
        await sleep(50 + Math.random() * 150);
        current -= 1;
        for (;;) {
          const res = await call(h, FLEETLOCK_ROUTES.steadyState, body(h.id, 'web'), attempt++);
          if (res.status === 200) break;
          await sleep(50);
        }
      }
    };
    const clients = hosts.map((h, i) => run(h, i));
    // The stored semaphore, read straight from etcd, must never list more holders than slots either.
    const store = new EtcdClient({ endpoints: etcd.endpoints });
    const stored: Record<string, number> = { three: 0, one: 0 };
    const poll = (async () => {
      while (!stop) {
        const p: string = phase;
        const kv = await store.get('/berth/fleet/locks/web').catch(() => undefined);
        const held = kv ? (JSON.parse(kv.value) as { holders: unknown[] }).holders.length : 0;
        if (p !== 'draining' && phase === p) stored[p] = Math.max(stored[p] ?? 0, held);
        await sleep(25);
      }
    })();
    // Progress is judged per failure window, not by a total over wall time: each window lasts at
    // least its planned time and then until it has seen `need` grants, and fails only when none
    // come for 30 s, so a loaded machine slows the test down instead of failing it.
    const windows: { label: string; grants: number; ok: boolean }[] = [];
    const progress = async (label: string, minMs: number, need: number) => {
      const from = grants;
      const t0 = Date.now();
      while ((grants - from < need || Date.now() - t0 < minMs) && Date.now() - t0 < 30_000) await sleep(50);
      windows.push({ label, grants: grants - from, ok: grants - from >= need });
    };
    const chaos = async () => {
      await progress('all up', 3000, 3);
      await etcd.kill(0);
      await progress('etcd member 1 down', 3000, 3);
      await replicas[0]?.close();
      replicas[0] = undefined;
      await progress('member 1 and replica 1 down', 2000, 3);
      await etcd.start(0);
      replicas[0] = await startCoordinator(options(ports[0] as number));
      await progress('member 1 and replica 1 back', 3000, 3);
      await etcd.kill(2);
      await replicas[1]?.close();
      replicas[1] = undefined;
      await progress('member 3 and replica 2 down', 3000, 3);
      replicas[1] = await startCoordinator(options(ports[1] as number));
      await etcd.start(2);
      await etcd.waitHealthy();
    };
    await chaos();
    phase = 'draining';
    await admin.setGroup('web', 1);
    // Holders granted before the change leave within their hold time; from then on, one at a time.
    while (current > 1) await sleep(20);
    // A lowered count evicts nobody: the phase starts once the stored semaphore has drained too
    // (the last hosts' steady-state requests may still be on their way).
    for (const t0 = Date.now(); Date.now() - t0 < 30_000; await sleep(50)) {
      const kv = await store.get('/berth/fleet/locks/web').catch(() => undefined);
      if (kv && (JSON.parse(kv.value) as { holders: unknown[] }).holders.length <= 1) break;
    }
    phase = 'one';
    await progress('one slot', 2000, 3);
    await etcd.kill(1);
    await progress('one slot, member 2 down', 3000, 3);
    await etcd.start(1);
    await sleep(2000);
    stop = true;
    await Promise.all([...clients, poll]);
    t.ok((stored.three ?? 0) <= 3 && (stored.one ?? 0) <= 1, `the stored semaphore never overran (max ${stored.three ?? 0} of 3, then ${stored.one ?? 0} of 1)`);
    for (const w of windows) t.ok(w.ok, `hosts kept rebooting: ${w.label} (${w.grants} grants)`);
    t.ok(max.three >= 2 && max.three <= 3, `with 3 slots, up to 3 hosts held one at once and never more (max ${max.three})`);
    t.equal(max.one, 1, 'after the change to 1 slot, never more than 1');
    const snap = await admin.snapshot();
    t.same(
      snap.groups.find((g) => g.group === 'web'),
      { group: 'web', slots: 1, configured: true, holders: [] },
    );
    t.equal(snap.hosts.filter((h) => h.group === 'web').length, 12);
  });

  await t.test('a silent holder is released; a report on the new version releases its holder', async (t) => {
    const port = await freePort();
    const quick = await startCoordinator(options(port, { prefix: '/silent/', holderTimeoutMs: 1500, sweepIntervalMs: 300 }));
    t.teardown(() => quick.close());
    const url = `https://127.0.0.1:${port}`;
    const a = leaf('host:a');
    const b = leaf('host:b');
    t.equal((await fleetRequest(client(url, a), 'POST', FLEETLOCK_ROUTES.preReboot, body('a', 'db'), fl)).status, 200);
    t.match(await fleetRequest(client(url, b), 'POST', FLEETLOCK_ROUTES.preReboot, body('b', 'db'), fl), { status: 409, body: { kind: 'failed_lock_semaphore_full', value: /\(a\)/ } });
    await sleep(2500);
    const quickAdmin = createFleetAdminClient(client(url, adminCert));
    t.same((await quickAdmin.snapshot()).groups.find((g) => g.group === 'db')?.holders, [], 'the sweep released the silent holder');
    await fleetRequest(client(url, b), 'POST', REPORT_ROUTE, { client_params: { id: 'b', group: 'db' }, status: status('staged', '1.0', { target_version: '2.0' }) }, fl);
    t.equal((await fleetRequest(client(url, b), 'POST', FLEETLOCK_ROUTES.preReboot, body('b', 'db'), fl)).status, 200);
    // b is rebooting; its report on the new version ends the hold.
    await fleetRequest(client(url, b), 'POST', REPORT_ROUTE, { client_params: { id: 'b', group: 'db' }, status: status('confirming', '2.0', { target_version: '2.0' }) }, fl);
    t.equal((await quickAdmin.snapshot()).groups.find((g) => g.group === 'db')?.holders.length, 1, 'confirming keeps the slot');
    t.match(await fleetRequest(client(url, b), 'POST', REPORT_ROUTE, { client_params: { id: 'b', group: 'db' }, status: status('succeeded', '2.0', { target_version: '2.0' }) }, fl), { status: 200, body: { released: true } });
    t.same((await quickAdmin.snapshot()).groups.find((g) => g.group === 'db')?.holders, []);
  });

  await t.test('two rollbacks halt a version: the next host is refused with the reason until an admin resumes it', async (t) => {
    const url = urls[1] as string;
    for (const id of ['r1', 'r2']) {
      const cert = leaf(`host:${id}`);
      await fleetRequest(client(url, cert), 'POST', REPORT_ROUTE, { client_params: { id, group: 'canary' }, status: status('staged', '1.0', { target_version: '3.0' }) }, fl);
      t.equal((await fleetRequest(client(url, cert), 'POST', FLEETLOCK_ROUTES.preReboot, body(id, 'canary'), fl)).status, 200);
      const rb = await fleetRequest(client(url, cert), 'POST', REPORT_ROUTE, { client_params: { id, group: 'canary' }, status: status('rolled-back', '1.0', { target_version: '3.0', bad_versions: ['3.0'], rollbacks: 1 }) }, fl);
      t.match(rb, { status: 200, body: { released: true } });
    }
    const r3 = leaf('host:r3');
    await fleetRequest(client(url, r3), 'POST', REPORT_ROUTE, { client_params: { id: 'r3', group: 'canary' }, status: status('staged', '1.0', { target_version: '3.0' }) }, fl);
    const refused = await fleetRequest(client(url, r3), 'POST', FLEETLOCK_ROUTES.preReboot, body('r3', 'canary'), fl);
    t.equal(refused.status, 409);
    const parsed = parseHaltRefusal(refused.body);
    t.match(parsed, { ok: true, value: { kind: 'version_halted', halt: { version: '3.0', by: 'policy', reason: '2 hosts rolled back (policy: halt at 2 failures; 2 took it)' } } });
    const snap = await admin.snapshot();
    t.match(snap.halts, [{ version: '3.0', state: 'halted' }]);
    await admin.resume('3.0');
    t.equal((await fleetRequest(client(url, r3), 'POST', FLEETLOCK_ROUTES.preReboot, body('r3', 'canary'), fl)).status, 200, 'resumed: the lock is granted');
  });
  await t.test("berth's agent client: its reports arrive, a halted version is refused and recorded (not bad), a resume lets it go on", async (t) => {
    const agentLines: string[] = [];
    const agentLog = createLogger({ component: 'updater', sinks: [(l) => agentLines.push(l)] });
    const cert = leaf('host:agent-1');
    // The agent's own setup: the id comes from the host certificate, TLS from update.fleetlock.tls.
    const identity = await resolveFleetLockIdentity({ tls: { ca: ca.certPem, cert: cert.certPem, key: cert.keyPem } }, 'machine-id', () => Promise.reject(new Error('no files')));
    t.equal(identity.nodeId, 'agent-1');
    const fleetlock = createFleetLockClient({ url: urls[0] as string, group: 'agents', nodeId: identity.nodeId, ...(identity.tls ? { tls: identity.tls } : {}) });
    const target = { version: '4.0.0', bundleUrl: 'https://updates.invalid/b/manifest.json', slot: 'b' as const, from: { slot: 'a' as const, version: '1.0.0' } };
    let state: UpdateState = { current: { phase: 'staged', target, bootId: 'boot-1' }, badVersions: [], failures: 0 };
    const reporter = createFleetReporter({ client: fleetlock, state: () => state, booted: { slot: 'a', version: '1.0.0' }, clock: { now: () => new Date(), sleep: (ms, signal) => sleep(Math.min(ms, 50)).then(() => signal?.throwIfAborted()) }, logger: agentLog, intervalMs: 60_000 });
    const stopReports = new AbortController();
    const reporting = reporter.run(stopReports.signal);
    await reporter.flush();
    const host = (await admin.snapshot()).hosts.find((h) => h.id === 'agent-1');
    t.match(host, { group: 'agents', status: { version: '1.0.0', slot: 'a', phase: 'staged', target_version: '4.0.0', bad_versions: [], rollbacks: 0 } }, 'the report arrived');
    t.equal(reporter.view().state, 'on');

    await admin.halt('4.0.0', 'nic driver drops links');
    const tracker = createGateTracker();
    const sleeps: number[] = [];
    let seenWhileHalted: GateFacts['lock'] | undefined;
    // The gate loop's clock: its one wait (after the refusal) is where an operator resumes the version.
    const clock = {
      now: () => new Date(),
      random: () => 0.5,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        seenWhileHalted = tracker.lock;
        await admin.resume('4.0.0');
      },
    };
    await awaitRebootPermission({ policy: { gates: ['fleetlock'], pin: {} }, fleetlock, tracker, targetVersion: '4.0.0', beforeLock: () => reporter.flush(), clock, logger: agentLog }, new AbortController().signal);
    t.match(seenWhileHalted, { state: 'halted', halt: { version: '4.0.0', by: 'admin', reason: 'nic driver drops links' } }, 'the agent recorded the halt and its reason');
    t.same(sleeps, [300_000], 'then waited the halt re-check interval, not a quick retry');
    t.same(tracker.lock, { state: 'held' }, 'resumed: the lock was granted');
    t.same(state.badVersions, [], 'the halted version was not marked bad');
    t.match(agentLines.join('\n'), /msg="Version halted by the fleet: not rebooting into it" version=4.0.0 by=admin/);
    t.match((await admin.snapshot()).groups.find((g) => g.group === 'agents')?.holders, [{ id: 'agent-1', target_version: '4.0.0' }]);

    // The new boot: its agent reports success on the new version, which ends the hold.
    stopReports.abort();
    await reporting;
    state = { current: { phase: 'succeeded', slot: 'b', version: '4.0.0' }, badVersions: [], failures: 0 };
    const after = createFleetReporter({ client: fleetlock, state: () => state, booted: { slot: 'b', version: '4.0.0' }, clock: { now: () => new Date(), sleep: () => Promise.resolve() }, logger: agentLog });
    await after.flush();
    t.same((await admin.snapshot()).groups.find((g) => g.group === 'agents')?.holders, [], 'the succeeded report released the slot');
    t.match(agentLines.join('\n'), /msg="Reboot lock released by the coordinator on this report" phase=succeeded version=4.0.0/);
    t.match((await admin.snapshot()).hosts.find((h) => h.id === 'agent-1')?.status, { version: '4.0.0', phase: 'succeeded' });
  });
  t.notOk(lines.some((l) => l.includes('level=error') && !l.includes('FLEET_ETCD_UNAVAILABLE')), 'no request failed except while etcd was unreachable');
});
