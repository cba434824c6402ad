/**
 * `npm run test:fleet-vms` (issue 12's VM test, kept out of `npm test`: three VMs at once under
 * TCG take the better part of half an hour on 2 shared cores). Three berth hosts on a private
 * QEMU network (socket netdevs through a hub on 127.0.0.1; only the VMs are on it) form an etcd
 * cluster and each run a fleet coordinator; release 2.0.0 is published and the three update one
 * at a time through their FleetLock group `etcd-berth-etcd` (one slot) while a client on this
 * machine writes and reads etcd through hostfwd the whole time. Passes when every write was
 * committed by some member (failing over between the three forwards, as the coordinator's client
 * does), every linearizable read saw the last write, no two hosts were down at once, the stored
 * group never had more than one holder, and `berth fleet status` shows the three hosts on 2.0.0.
 * Needs qemu-tests/build-fleet-images.sh first; run it under the VM lock:
 * `flock /tmp/berth-vm.lock npm run test:fleet-vms`. Effects: QEMU processes, files under
 * out/fleet-vms/ and out/qemu-tests/fleet-n*, HTTP on 127.0.0.1 only.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dump } from 'js-yaml';
import { describeError } from '../lib/errors.ts';
import { issueCertificate } from '../lib/tls/x509.ts';
import { createFleetAdminClient, type SnapshotView } from '../fleet/src/index.ts';
import { createMachine, freePort, loadImage, privateMac, REPO_ROOT, startNetworkHub, type Machine } from '../vm/src/index.ts';
import { startStaticServer } from '../qemu-tests/harness/index.ts';

const run = promisify(execFile);
const DIR = process.env.BERTH_FLEET_VMS_DIR ?? join(REPO_ROOT, 'out/fleet-vms');
const BUNDLES = join(DIR, 'bundles');
const SIGNING_KEY = join(DIR, 'keys/berth-signing.key');
const NAMES = ['n1', 'n2', 'n3'] as const;
const GROUP = 'etcd-berth-etcd';
const BOOT_MS = 600_000;
const TOTAL_MS = Number(process.env.BERTH_FLEET_VMS_TIMEOUT_MIN ?? 50) * 60_000;
const started = performance.now();
const elapsed = (): string => `${((performance.now() - started) / 1000).toFixed(0)}s`;
const log = (line: string): void => console.log(`[${elapsed()}] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const version of ['1.0.0', '2.0.0']) {
  try {
    await access(join(BUNDLES, version, 'manifest.json'));
  } catch {
    throw new Error(`fleet-vms needs the bundles in ${BUNDLES}: run qemu-tests/build-fleet-images.sh first`);
  }
}
const image = await loadImage(join(DIR, 'qemu-fleet'));

// --- keys: the fleet CA, one server certificate for the three coordinators, a host certificate each, an admin
const notBefore = new Date(Date.now() - 3_600_000);
const ca = issueCertificate({ role: 'ca', commonName: 'berth fleet-vms CA', notBefore, validDays: 2 });
const ips = NAMES.map((_, i) => `10.0.3.${i + 1}`);
const server = issueCertificate({ role: 'server', commonName: 'fleet', altNames: [...ips, '127.0.0.1'], notBefore, validDays: 2, issuer: ca });
const hostCerts = NAMES.map((n) => issueCertificate({ role: 'client', commonName: `host:${n}`, notBefore, validDays: 2, issuer: ca }));
const admin = issueCertificate({ role: 'client', commonName: 'admin:fleet-vms', notBefore, validDays: 2, issuer: ca });
const keyDir = join(DIR, 'fleet-keys');
await mkdir(keyDir, { recursive: true });
await writeFile(join(keyDir, 'fleet-ca.crt'), ca.certPem);
await writeFile(join(keyDir, 'admin.crt'), admin.certPem);
await writeFile(join(keyDir, 'admin.key'), admin.keyPem, { mode: 0o600 });

// --- the update server: what `berth publish` wrote, reached from the guests through guestfwd only
const root = join(DIR, 'server');
await rm(root, { recursive: true, force: true });
await mkdir(root, { recursive: true });
const publish = (version: string) => run(process.execPath, [join(REPO_ROOT, 'bin/berth.js'), 'publish', join(BUNDLES, version), '--channel', 'stable', '--to', root, '--signing-key', SIGNING_KEY], { cwd: REPO_ROOT });
// 1.0.0 first: the hosts find themselves up to date instead of failing their checks with backoff.
await publish('1.0.0');
const updates = await startStaticServer(root);
const hub = await startNetworkHub();

function configOf(i: number): string {
  const name = NAMES[i] as string;
  const cert = hostCerts[i];
  if (!cert) throw new Error('fixture');
  return dump(
    {
      hostname: name,
      debug: { shell: 'ttyS1' },
      network: { interfaces: { eth0: {}, eth1: { addresses: [`${ips[i]}/24`] } } },
      etcd: {
        name,
        peer_urls: [`http://${ips[i]}:2380`],
        client_urls: [`http://${ips[i]}:2379`],
        initial_cluster: Object.fromEntries(NAMES.map((n, j) => [n, `http://${ips[j]}:2380`])),
        initial_cluster_state: 'new',
      },
      fleet_coordinator: { tls: { ca: ca.certPem, cert: server.certPem, key: server.keyPem }, etcd_endpoints: ips.map((ip) => `http://${ip}:2379`) },
      update: {
        server: 'http://10.0.2.100/',
        channel: 'stable',
        check_interval: '1m',
        soak: '10s',
        // The three stage at once: the writer's share of the one virtual CPU leaves etcd and init room.
        throttle: { cpu: '50%' },
        strategy: ['fleetlock'],
        // Each host asks its own coordinator; any replica serves the same fleet.
        fleetlock: { url: `https://${ips[i]}:7480/`, group: GROUP, tls: { ca: ca.certPem, cert: cert.certPem, key: cert.keyPem } },
      },
    },
    { lineWidth: -1 },
  );
}

// Invalid configs are refused here, with every problem, before any VM boots.
for (const [i, name] of NAMES.entries()) {
  const file = join(keyDir, `${name}.yaml`);
  await writeFile(file, configOf(i), { mode: 0o600 });
  await run(process.execPath, [join(REPO_ROOT, 'bin/berth.js'), 'config', 'validate', file], { cwd: REPO_ROOT }).catch((error: { stdout?: string; stderr?: string }) => {
    throw new Error(`${name}'s machine config is invalid:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
  });
}

const etcdPorts = await Promise.all(NAMES.map(() => freePort()));
const fleetPorts = await Promise.all(NAMES.map(() => freePort()));
const machines: Machine[] = [];
for (const [i, name] of NAMES.entries()) {
  machines.push(
    await createMachine({
      name: `fleet-${name}`,
      image,
      config: configOf(i),
      memoryMiB: 1536,
      cpus: 1,
      hostForwards: [
        { protocol: 'tcp', hostPort: etcdPorts[i] as number, guestPort: 2379 },
        { protocol: 'tcp', hostPort: fleetPorts[i] as number, guestPort: 7480 },
      ],
      guestForwards: [{ guestAddress: '10.0.2.100', guestPort: 80, hostPort: updates.port, mode: 'process' }],
      privateNics: [{ hubPort: hub.port, mac: privateMac('fleet-vms', name, (t) => createHash('sha256').update(t).digest()) }],
    }),
  );
}

// --- each VM: boot, wait for BERTH-READY, boot again whenever the guest reboots (-no-reboot ends QEMU)
interface Window {
  host: string;
  down: number;
  up?: number;
}
const windows: Window[] = [];
const versions: Record<string, string> = {};
const problems: string[] = [];
let stopping = false;
const runners = machines.map(async (machine, i) => {
  const name = NAMES[i] as string;
  let downSince: number | undefined;
  while (!stopping) {
    const vm = await machine.boot();
    try {
      const ready = await vm.waitForReady(BOOT_MS);
      versions[name] = ready.version;
      if (downSince !== undefined) windows.push({ host: name, down: downSince, up: performance.now() });
      log(`${name}: BERTH-READY slot=${ready.slot} version=${ready.version} (${(ready.wallMs / 1000).toFixed(0)} s)`);
    } catch (error) {
      problems.push(`${name}: no BERTH-READY: ${describeError(error)}`);
      await vm.kill();
      return;
    }
    const exit = await vm.exited;
    if (stopping) return;
    downSince = performance.now();
    log(`${name}: QEMU ended (${exit.code === null ? `signal ${exit.signal}` : `code ${exit.code}`}): the guest rebooted; booting it again`);
  }
});

// --- the etcd client on this machine: a write and a linearizable read every 250 ms, failing over between the three forwards
const endpoints = etcdPorts.map((p) => `http://127.0.0.1:${p}`);
const b64 = (s: string) => Buffer.from(s).toString('base64');
let current = 0;
const stats = { writes: 0, failedWrites: 0, reads: 0, staleReads: 0, failovers: 0 };
const writeMs: number[] = [];
/**
 * Under TCG with three VMs on two cores a member answers in seconds while its neighbours write
 * their slots (etcd logs "apply request took too long" at 1-2 s): a request waits up to 15 s for
 * a member before it tries the next, and a write counts as failed only when no member committed it.
 */
const ATTEMPT_MS = 15_000;
async function onAny<T>(path: string, body: unknown, check: (json: unknown) => T): Promise<T | undefined> {
  for (let tries = 0; tries < endpoints.length * 2; tries++) {
    const url = `${endpoints[current]}${path}`;
    try {
      const res = await fetch(url, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(ATTEMPT_MS) });
      if (res.ok) return check(await res.json());
      await res.body?.cancel();
    } catch {
      // A rebooting member: its forward refuses or hangs; the next member takes the request.
    }
    current = (current + 1) % endpoints.length;
    stats.failovers += 1;
  }
  return undefined;
}
async function waitForQuorum(): Promise<void> {
  const deadline = performance.now() + BOOT_MS * 2;
  while (performance.now() < deadline) {
    if (problems.length > 0) throw new Error(problems.join('; '));
    const ok = await onAny('/v3/kv/put', { key: b64('/fleet-vms/probe'), value: b64('0') }, () => true);
    if (ok) return;
    await sleep(2000);
  }
  throw new Error('etcd never took a write through the forwards');
}
let clientRunning = true;
async function client(): Promise<void> {
  let n = 0;
  while (clientRunning) {
    n += 1;
    const value = String(n);
    const t0 = performance.now();
    const wrote = await onAny('/v3/kv/put', { key: b64('/fleet-vms/probe'), value: b64(value) }, () => true);
    const ms = performance.now() - t0;
    stats.writes += 1;
    if (!wrote) {
      stats.failedWrites += 1;
      log(`etcd write ${value} FAILED on every member`);
    } else writeMs.push(ms);
    const read = await onAny('/v3/kv/range', { key: b64('/fleet-vms/probe') }, (json) => {
      const kv = (json as { kvs?: { value?: string }[] }).kvs?.[0];
      return kv?.value ? Buffer.from(kv.value, 'base64').toString() : '';
    });
    if (read !== undefined) {
      stats.reads += 1;
      if (wrote && read !== value) {
        stats.staleReads += 1;
        log(`etcd read saw ${read} after write ${value}`);
      }
    }
    await sleep(250);
  }
}

// --- the fleet view through any live coordinator (admin certificate)
const admins = fleetPorts.map((p) => createFleetAdminClient({ url: `https://127.0.0.1:${p}`, caPem: ca.certPem, certPem: admin.certPem, keyPem: admin.keyPem, timeoutMs: 5000 }));
async function snapshot(): Promise<{ snap: SnapshotView; via: number } | undefined> {
  for (const [i, a] of admins.entries()) {
    try {
      return { snap: await a.snapshot(), via: i };
    } catch {
      // That host is rebooting: ask the next.
    }
  }
  return undefined;
}

let exitCode = 1;
let maxHolders = 0;
try {
  log(`3 VMs (${machines[0]?.accel}), private network hub 127.0.0.1:${hub.port}, update server 127.0.0.1:${updates.port}, etcd forwards ${etcdPorts.join(',')}`);
  await waitForQuorum();
  log('etcd cluster takes writes through the forwards: client starts');
  const writer = client();
  // Every host reporting 1.0.0 to the coordinators before the release appears.
  for (;;) {
    if (problems.length > 0) throw new Error(problems.join('; '));
    const s = await snapshot();
    if (s && NAMES.every((n) => s.snap.hosts.some((h) => h.id === n && h.status?.version === '1.0.0'))) break;
    if (performance.now() - started > TOTAL_MS) throw new Error('the hosts never all reported to the coordinators');
    await sleep(5000);
  }
  log('all three hosts report 1.0.0; publishing 2.0.0');
  await publish('2.0.0');
  let lastLine = '';
  for (;;) {
    if (problems.length > 0) throw new Error(problems.join('; '));
    const s = await snapshot();
    if (s) {
      const holders = s.snap.groups.find((g) => g.group === GROUP)?.holders ?? [];
      maxHolders = Math.max(maxHolders, holders.length);
      const line = s.snap.hosts
        .filter((h) => (NAMES as readonly string[]).includes(h.id))
        .map((h) => `${h.id}=${h.status?.version ?? '?'}/${h.status?.phase ?? 'gone'}${h.status?.target_version ? `->${h.status.target_version}` : ''}`)
        .join(' ');
      const full = `${line} holders=[${holders.map((h) => h.id).join(',')}]`;
      if (full !== lastLine) log(`fleet: ${full}`);
      lastLine = full;
      const done = NAMES.every((n) => s.snap.hosts.some((h) => h.id === n && h.status?.version === '2.0.0' && (h.status.phase === 'succeeded' || h.status.phase === 'idle')));
      if (done && holders.length === 0) break;
    }
    if (performance.now() - started > TOTAL_MS) throw new Error(`not every host reached 2.0.0 within ${TOTAL_MS / 60_000} min`);
    await sleep(3000);
  }
  // A little more traffic on the updated cluster, then the verdict.
  await sleep(5000);
  clientRunning = false;
  await writer;
  const live = (await snapshot())?.via ?? 0;
  const env = { ...process.env, BERTH_FLEET_SERVER: `https://127.0.0.1:${fleetPorts[live]}`, BERTH_FLEET_CERT: join(keyDir, 'admin.crt'), BERTH_FLEET_KEY: join(keyDir, 'admin.key'), BERTH_FLEET_CA: join(keyDir, 'fleet-ca.crt') };
  const status = await run(process.execPath, [join(REPO_ROOT, 'bin/berth.js'), 'fleet', 'status'], { cwd: REPO_ROOT, env });
  console.log(`\n$ berth fleet status\n${status.stdout}`);
  const hosts = await run(process.execPath, [join(REPO_ROOT, 'bin/berth.js'), 'fleet', 'hosts'], { cwd: REPO_ROOT, env });
  console.log(`$ berth fleet hosts\n${hosts.stdout}`);
  const statusJson = JSON.parse((await run(process.execPath, [join(REPO_ROOT, 'bin/berth.js'), 'fleet', 'status', '--json'], { cwd: REPO_ROOT, env })).stdout) as { versions: Record<string, number> };

  const sorted = [...writeMs].sort((a, b) => a - b);
  const percentile = (q: number): string => (sorted.length === 0 ? '-' : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number).toFixed(0));
  const overlaps = windows.flatMap((a, i) => windows.slice(i + 1).filter((b) => a.host !== b.host && a.down < (b.up ?? Infinity) && b.down < (a.up ?? Infinity)).map((b) => `${a.host}+${b.host}`));
  const checks: [boolean, string][] = [
    [stats.failedWrites === 0, `etcd writes: ${stats.writes}, failed on every member: ${stats.failedWrites} (failovers ${stats.failovers}; committed writes p50 ${percentile(0.5)} ms, p99 ${percentile(0.99)} ms, max ${percentile(1)} ms)`],
    [stats.staleReads === 0, `linearizable reads: ${stats.reads}, not seeing the last write: ${stats.staleReads}`],
    [windows.length === 3 && NAMES.every((n) => windows.some((w) => w.host === n)), `reboots: ${windows.map((w) => `${w.host} down ${(((w.up ?? 0) - w.down) / 1000).toFixed(0)} s`).join(', ')}`],
    [overlaps.length === 0, `hosts down at the same time: ${overlaps.length === 0 ? 'none' : overlaps.join(', ')}`],
    [maxHolders <= 1, `holders of ${GROUP} seen at once: at most ${maxHolders} (1 slot)`],
    [statusJson.versions['2.0.0'] === 3 && Object.keys(statusJson.versions).length === 1, `berth fleet status versions: ${JSON.stringify(statusJson.versions)}`],
    [NAMES.every((n) => versions[n] === '2.0.0'), `BERTH-READY versions: ${NAMES.map((n) => `${n}=${versions[n]}`).join(' ')}`],
  ];
  for (const [ok, text] of checks) console.log(`${ok ? 'ok' : 'not ok'} - ${text}`);
  exitCode = checks.every(([ok]) => ok) ? 0 : 1;
  console.log(`# ${exitCode === 0 ? 'PASS' : 'FAIL'} fleet-vms: ${checks.filter(([ok]) => ok).length}/${checks.length} checks in ${elapsed()}`);
} catch (error) {
  console.log(`not ok - ${describeError(error)}`);
  // What the run got to, for the record: the client's counts, the reboots, the fleet's last view.
  console.log(`# etcd writes ${stats.writes}, failed on every member ${stats.failedWrites}, reads ${stats.reads}, stale ${stats.staleReads}; reboots ${windows.map((w) => `${w.host} down ${(((w.up ?? performance.now()) - w.down) / 1000).toFixed(0)} s`).join(', ') || 'none'}; most holders seen ${maxHolders}; BERTH-READY versions ${NAMES.map((n) => `${n}=${versions[n] ?? '?'}`).join(' ')}`);
  console.log(`# FAIL fleet-vms after ${elapsed()}; consoles kept in ${machines.map((m) => m.paths.consoleLog).join(' ')}`);
} finally {
  clientRunning = false;
  stopping = true;
  for (const m of machines) await m.dispose({ keep: exitCode !== 0 || process.env.BERTH_QEMU_KEEP === '1' });
  await Promise.allSettled(runners);
  await updates.close();
  await hub.close();
}
process.exit(exitCode);
