/**
 * `npm run bench:fleet`: a real 3-member etcd cluster and two coordinator replicas (`berth fleet
 * serve`, separate processes) on loopback, and N simulated hosts (default 10,000) running the
 * updater's real decision logic (chooseRelease with waves, the reduceUpdate state machine) and
 * its FleetLock client, with the slot write and the reboot simulated and time compressed. A good
 * release rolls out in waves, then a bad one whose first hosts fail the health gate and roll back
 * until the coordinator halts it. Mid-run one etcd member and one replica are killed. Prints the
 * figures and writes an SVG chart of hosts per version over time. Not a test: numbers only.
 * Effects: spawns etcd and node, listens on loopback, writes under out/bench-fleet/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPORT_ROUTE, type HostReport, type HostStatus } from '../lib/fleet/protocol.ts';
import { EtcdClient } from '../fleet/src/index.ts';
import { describeError } from '../lib/errors.ts';
import { freePort } from '../lib/sys/free-port.ts';
import { startEtcdCluster } from '../fleet/test/integration/etcd-cluster.ts';
import { chooseRelease, createFleetLockClient, initialUpdateState, reduceUpdate, type FleetLockClient, type UpdateState } from '../updater/src/host.ts';
import { WAVE_PLANS, type ChannelMetadata } from '../updater/src/index.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number(process.env[`BENCH_FLEET_${name.toUpperCase().replace(/-/g, '_')}`] ?? fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
};
const N = arg('hosts', 10_000);
const GROUPS = arg('groups', 10);
const SLOTS = arg('slots', 30);
/** Simulated seconds per real second. */
const K = arg('speed', 60);
const MIN = 60_000;
const HOUR = 60 * MIN;
/** The simulated hosts' request timeout (real ms): a saturated coordinator answers late, not never. */
const REQUEST_TIMEOUT_MS = 30_000;
/**
 * The holder timeout in real seconds: 30 simulated minutes (twice the longest simulated reboot
 * plus a report), but never under ten request timeouts (a host resends a report
 * up to four times, each waiting a request timeout). Time compression shrinks the reboot,
 * not etcd's latency under load: a holder whose reports are only slow must not look dead.
 */
const HOLDER_TIMEOUT_S = Math.max((30 * MIN) / K / 1000, (10 * REQUEST_TIMEOUT_MS) / 1000);

// --- simulated time ---------------------------------------------------------------------------
const realStart = performance.now();
const simStart = Date.parse('2026-12-01T00:00:00Z');
const simNow = (): number => simStart + (performance.now() - realStart) * K;
const realS = (): number => (performance.now() - realStart) / 1000;
const sleepSim = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms / K));
const sleepReal = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const jitter = (ms: number): number => ms * (0.5 + Math.random());

// --- the channel: what `berth publish` would serve ---------------------------------------------
const GOOD = '1.1.0';
const BAD = '1.2.0';
let channel: ChannelMetadata | undefined;
const publish = (version: string): void => {
  channel = { format: 2, channel: 'stable', version, released: new Date(simNow()).toISOString(), expires: '2030-01-01T00:00:00Z', bundle_url: `bundles/${version}/manifest.json`, waves: [...WAVE_PLANS.fast] } as unknown as ChannelMetadata;
};

// --- measurements ----------------------------------------------------------------------------
const latencies: number[] = [];
type Kind = 'report' | 'preReboot' | 'steadyState';
const latencyOf: Record<Kind, number[]> = { report: [], preReboot: [], steadyState: [] };
let requests = 0;
let failedRequests = 0;
const holding = new Map<string, number>();
const maxHolding = new Map<string, number>();
let overruns = 0;
let tookBad = 0;
let tookBadBeforeHalt = 0;
let firstRollbackReal: number | undefined;
let haltSeenReal: number | undefined;
let haltedRefusals = 0;
let done = false;
let lastReportError = '';
let lastLockError = '';
const series: { t: number; counts: Record<string, number> }[] = [];

interface SimHost {
  id: string;
  group: string;
  position: number;
  state: UpdateState;
  running: { slot: 'a' | 'b'; version: string };
  rollbacks: number;
  learnedHalts: Set<string>;
  clients: FleetLockClient[];
  replica: number;
  boots: number;
  lastReport: number;
  /** Real ms when the host's current slot was granted (host side); undefined when it holds none. */
  heldSince: number | undefined;
}

let replicaUrls: string[] = [];

async function timed<T>(kind: Kind, work: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await work();
  } finally {
    const ms = performance.now() - t0;
    latencies.push(ms);
    latencyOf[kind].push(ms);
    requests += 1;
  }
}

function statusOf(h: SimHost): HostStatus {
  const c = h.state.current;
  const target = 'target' in c ? c.target.version : c.phase === 'rolled-back' ? c.version : undefined;
  return { version: h.running.version, slot: h.running.slot, phase: c.phase, bad_versions: [...h.state.badVersions], rollbacks: h.rollbacks, ...(target !== undefined ? { target_version: target } : {}) };
}

async function report(h: SimHost): Promise<void> {
  const t0 = performance.now();
  try {
    await reportOnce(h);
  } finally {
    const spent = holdReportMs.get(h);
    if (spent !== undefined) holdReportMs.set(h, spent + performance.now() - t0);
  }
}

async function reportOnce(h: SimHost): Promise<void> {
  const body: HostReport = { client_params: { id: h.id, group: h.group }, status: statusOf(h) };
  for (let attempt = 0; attempt < 4; attempt += 1) {
    const url = replicaUrls[h.replica] as string;
    try {
      const res = await timed('report', () => fetch(`${url}${REPORT_ROUTE}`, { method: 'POST', headers: { 'fleet-lock-protocol': 'true', 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }));
      if (!res.ok) lastReportError = `${res.status} ${await res.text()}`;
      else await res.body?.cancel();
      if (res.ok) {
        h.lastReport = simNow();
        return;
      }
    } catch (error) {
      // Replica gone: the next attempt goes to the other one.
      lastReportError = `${url}: ${describeError(error)}`;
    }
    failedRequests += 1;
    h.replica = 1 - h.replica;
    await sleepReal(200);
  }
}

/** A FleetLock call through the updater's own client, failing over to the other replica. */
async function fleetLock(h: SimHost, op: 'preReboot' | 'steadyState') {
  for (;;) {
    try {
      return await timed(op, () => (h.clients[h.replica] as FleetLockClient)[op]());
    } catch (error) {
      lastLockError = `${h.replica}: ${describeError(error)}`;
      failedRequests += 1;
      h.replica = 1 - h.replica;
      await sleepReal(200);
    }
  }
}

/** Host-side holders per group, to tell an overrun the coordinator caused from one a holder expiry explains. */
const holders = new Map<string, Set<SimHost>>();
/** Overruns while some holder of the group had held longer than the holder timeout (the coordinator may expire it: by design). */
let overrunsAfterExpiry = 0;
/** Host-side holds, real seconds from grant to release, and how long of that went to report requests. */
const holdS: number[] = [];
let holdsOverTimeout = 0;
const holdReportMs = new Map<SimHost, number>();
const holdReportS: number[] = [];
const enterHold = (h: SimHost): void => {
  const set = holders.get(h.group) ?? new Set<SimHost>();
  holders.set(h.group, set);
  const now = performance.now();
  const n = set.size + 1;
  if (n > SLOTS) {
    const anyExpirable = [...set].some((o) => now - (o.heldSince ?? now) > HOLDER_TIMEOUT_S * 1000);
    if (anyExpirable) overrunsAfterExpiry += 1;
    else overruns += 1;
  }
  h.heldSince = now;
  holdReportMs.set(h, 0);
  set.add(h);
  holding.set(h.group, n);
  maxHolding.set(h.group, Math.max(maxHolding.get(h.group) ?? 0, n));
};
const leaveHold = (h: SimHost): void => {
  const s = (performance.now() - (h.heldSince ?? performance.now())) / 1000;
  holdS.push(s);
  if (s > HOLDER_TIMEOUT_S) holdsOverTimeout += 1;
  holdReportS.push((holdReportMs.get(h) ?? 0) / 1000);
  holdReportMs.delete(h);
  h.heldSince = undefined;
  holders.get(h.group)?.delete(h);
  holding.set(h.group, (holding.get(h.group) ?? 1) - 1);
};

async function runHost(h: SimHost): Promise<void> {
  // Hosts come up spread over an hour and report once; then on every change and every 6 h.
  await sleepSim(Math.random() * HOUR);
  await report(h);
  while (!done) {
    await sleepSim(jitter(10 * MIN));
    if (done || !channel) continue;
    let t = reduceUpdate(h.state, { type: 'check-requested' });
    h.state = t.state;
    const decision = chooseRelease({
      channel: { ...channel, halted: [...h.learnedHalts] },
      runningVersion: h.running.version,
      badVersions: h.state.badVersions,
      allowDowngrade: false,
      rollout: { now: new Date(simNow()), position: h.position },
    });
    if (decision.kind === 'none') {
      h.state = reduceUpdate(h.state, { type: 'check-no-update', reason: decision.reason }).state;
      if (simNow() - h.lastReport > 6 * HOUR) await report(h);
      continue;
    }
    const from = { ...h.running };
    const slot = from.slot === 'a' ? 'b' : 'a';
    h.state = reduceUpdate(h.state, { type: 'check-found-update', version: decision.version, bundleUrl: 'sim', slot, from }).state;
    await report(h);
    await sleepSim(jitter(4 * MIN));
    h.state = reduceUpdate(h.state, { type: 'download-finished' }).state;
    await sleepSim(jitter(MIN));
    const bootId = `${h.id}-${h.boots}`;
    h.state = reduceUpdate(h.state, { type: 'stage-finished', bootId }).state;
    await report(h);
    // await-reboot-permission: FleetLock pre-reboot until granted, or refused for a halt.
    let refusedForHalt = false;
    for (;;) {
      const res = await fleetLock(h, 'preReboot');
      if (res.ok) break;
      if (res.kind === 'version_halted') {
        haltedRefusals += 1;
        // The agent learns the halt from the refusal and stops trying the version (it is not marked bad).
        h.learnedHalts.add(decision.version);
        refusedForHalt = true;
        break;
      }
      await sleepSim(jitter(15 * MIN));
    }
    if (refusedForHalt) {
      // Drop the staged update (its entry is cleared) and go back to idle on the running version.
      h.state = { ...h.state, current: { phase: 'idle' } };
      await report(h);
      continue;
    }
    enterHold(h);
    if (decision.version === BAD) {
      tookBad += 1;
      if (haltSeenReal === undefined) tookBadBeforeHalt += 1;
    }
    t = reduceUpdate(h.state, { type: 'reboot-allowed' });
    h.state = t.state;
    await report(h);
    await sleepSim(jitter(2 * MIN));
    h.boots += 1;
    h.state = reduceUpdate(h.state, { type: 'agent-started', booted: { slot, version: decision.version, bootId: `${h.id}-${h.boots}` } }).state;
    await report(h);
    await sleepSim(jitter(MIN));
    if (decision.version === BAD) {
      h.state = reduceUpdate(h.state, { type: 'health-failed', reason: 'web: not ready after 60s' }).state;
      await sleepSim(jitter(2 * MIN));
      h.boots += 1;
      h.state = reduceUpdate(h.state, { type: 'agent-started', booted: { slot: from.slot, version: from.version, bootId: `${h.id}-${h.boots}` } }).state;
      h.rollbacks += 1;
      if (firstRollbackReal === undefined) firstRollbackReal = realS();
    } else {
      h.state = reduceUpdate(h.state, { type: 'health-passed' }).state;
      h.running = { slot, version: decision.version };
    }
    leaveHold(h);
    await report(h);
    await fleetLock(h, 'steadyState');
  }
}

// --- processes -------------------------------------------------------------------------------
function procStats(pid: number): Promise<{ cpuS: number; rssMiB: number; hwmMiB: number }> {
  return Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/status`, 'utf8')]).then(([stat, status]) => {
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { cpuS: ticks / 100, rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
  });
}

function startReplica(port: number, endpoints: string[], logFile: string): ChildProcess {
  const child = spawn(
    process.execPath,
    [path.join(repoRoot, 'bin/berth.js'), 'fleet', 'serve', '--etcd', endpoints.join(','), '--listen', `127.0.0.1:${port}`, '--insecure-http', '--allow-anonymous-hosts', '--default-slots', String(SLOTS), '--holder-timeout', String(HOLDER_TIMEOUT_S), '--report-ttl', String((3 * HOUR) / K / 1000), '--sweep-interval', '2'],
    { env: { PATH: '/usr/bin:/bin', NODE_OPTIONS: '--max-old-space-size=1024' }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const out = createWriteStream(logFile);
  child.stdout?.pipe(out);
  return child;
}

async function waitUp(url: string): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    try {
      await fetch(`${url}/v1/fleet/snapshot`);
      return;
    } catch {
      await sleepReal(200);
    }
  }
  throw new Error(`Coordinator ${url} did not start`);
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;

function svgChart(rows: typeof series, versions: string[]): string {
  const W = 760;
  const H = 320;
  const L = 60;
  const B = 40;
  const tMax = Math.max(1, ...rows.map((r) => r.t));
  const x = (t: number) => L + ((W - L - 20) * t) / tMax;
  const y = (n: number) => H - B - ((H - B - 20) * n) / N;
  const colors = ['#888', '#2a7', '#d33', '#36c'];
  const lines = versions.map((v, i) => `<polyline fill="none" stroke="${colors[i % colors.length] ?? '#000'}" stroke-width="2" points="${rows.map((r) => `${x(r.t).toFixed(1)},${y(r.counts[v] ?? 0).toFixed(1)}`).join(' ')}"/>`);
  const legend = versions.map((v, i) => `<text x="${L + 10 + i * 110}" y="16" fill="${colors[i % colors.length] ?? '#000'}" font-size="12">${v}</text>`);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<text x="${L - 6}" y="${y(N * f) + 4}" font-size="10" text-anchor="end">${Math.round(N * f)}</text>`);
  const xt = [0, 0.25, 0.5, 0.75, 1].map((f) => `<text x="${x(tMax * f)}" y="${H - B + 14}" font-size="10" text-anchor="middle">${((tMax * f * K) / 3600).toFixed(1)}h</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif"><rect width="100%" height="100%" fill="#fff"/><line x1="${L}" y1="${H - B}" x2="${W - 20}" y2="${H - B}" stroke="#000"/><line x1="${L}" y1="20" x2="${L}" y2="${H - B}" stroke="#000"/>${ticks.join('')}${xt.join('')}${lines.join('')}${legend.join('')}<text x="${W / 2}" y="${H - 6}" font-size="11" text-anchor="middle">simulated time (hosts running each version; ${N} hosts)</text></svg>\n`;
}

// --- the run ---------------------------------------------------------------------------------
const dir = await mkdtemp(path.join(tmpdir(), 'berth-bench-fleet-'));
const etcd = await startEtcdCluster(dir);
const ports = [await freePort(), await freePort()];
replicaUrls = ports.map((p) => `http://127.0.0.1:${p}`);
const outDir = path.join(repoRoot, 'out/bench-fleet');
await mkdir(outDir, { recursive: true });
const replicas = ports.map((p, i) => startReplica(p, etcd.endpoints, path.join(outDir, `replica-${i + 1}.log`)));
try {
  for (const url of replicaUrls) await waitUp(url);
  const hosts: SimHost[] = Array.from({ length: N }, (_, i) => {
    const id = `host-${String(i).padStart(5, '0')}`;
    const position = createHash('sha256').update(id).digest().readUInt32BE(0) / 2 ** 32;
    const group = `rack-${i % GROUPS}`;
    const clients = replicaUrls.map((url) => createFleetLockClient({ url, group, nodeId: id, timeoutMs: REQUEST_TIMEOUT_MS }));
    return { id, group, position, state: initialUpdateState(), running: { slot: 'a', version: '1.0.0' }, rollbacks: 0, learnedHalts: new Set<string>(), clients, replica: i % 2, boots: 0, lastReport: 0, heldSince: undefined };
  });
  console.log(`bench:fleet: ${N} hosts in ${GROUPS} groups of ${SLOTS} slots, 3 etcd members, 2 replicas; time x${K} (1 simulated hour = ${(3600 / K).toFixed(1)} s)`);
  publish(GOOD);
  const loops = hosts.map((h) => runHost(h));
  const watcher = new EtcdClient({ endpoints: etcd.endpoints });
  let storedMax = 0;
  const sampler = (async () => {
    while (!done) {
      const counts: Record<string, number> = {};
      for (const h of hosts) counts[h.running.version] = (counts[h.running.version] ?? 0) + 1;
      series.push({ t: realS(), counts });
      if (haltSeenReal === undefined && firstRollbackReal !== undefined) {
        const kv = await watcher.get(`/berth/fleet/halts/${BAD}`).catch(() => undefined);
        if (kv && (JSON.parse(kv.value) as { state: string }).state === 'halted') haltSeenReal = realS();
      }
      const locks = await watcher.range('/berth/fleet/locks/', { prefix: true }).catch(() => undefined);
      for (const kv of locks?.kvs ?? []) storedMax = Math.max(storedMax, (JSON.parse(kv.value) as { holders: unknown[] }).holders.length);
      await sleepReal(250);
    }
  })();
  let killedAt = '';
  let phaseLog: string[] = [];
  const t0cpu = await Promise.all(replicas.map((r) => procStats(r.pid as number)));
  // The simulator's own event-loop delay: when it is large, the hosts (not the coordinator) are the bottleneck.
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  const etcdCpuS = [0, 0, 0];
  const etcdCpu = async (): Promise<void> => {
    for (let i = 0; i < 3; i += 1) {
      const pid = etcd.pid(i);
      if (pid !== undefined) etcdCpuS[i] = (await procStats(pid).catch(() => ({ cpuS: etcdCpuS[i] ?? 0 }))).cpuS;
    }
  };
  // Good release: wait until every host runs it (or the waves' 4 h plus slack have passed).
  const goodDeadline = simNow() + 8 * HOUR;
  while (hosts.some((h) => h.running.version !== GOOD) && simNow() < goodDeadline) {
    await sleepReal(500);
    if (!killedAt && hosts.filter((h) => h.running.version === GOOD).length > N * 0.4) {
      killedAt = `${realS().toFixed(1)} s (${hosts.filter((h) => h.running.version === GOOD).length} hosts on ${GOOD})`;
      await etcdCpu();
      await etcd.kill(1);
      replicas[1]?.kill('SIGKILL');
    }
  }
  const goodDone = realS();
  phaseLog.push(`${GOOD}: ${hosts.filter((h) => h.running.version === GOOD).length}/${N} hosts at ${goodDone.toFixed(1)} s (${((goodDone * K) / 3600).toFixed(1)} simulated h)`);
  publish(BAD);
  const badStart = realS();
  const badDeadline = simNow() + 2 * HOUR;
  while (simNow() < badDeadline) await sleepReal(500);
  done = true;
  const survivor = await procStats(replicas[0]?.pid as number);
  await etcdCpu();
  loopDelay.disable();
  await Promise.race([Promise.all(loops), sleepReal(20_000)]);
  await sampler;
  const wall = realS();
  const sorted = [...latencies].sort((a, b) => a - b);
  const servedS = wall;
  const firstWave = Math.round(N * (WAVE_PLANS.fast[0]?.fraction ?? 0));
  console.log(phaseLog.join('\n'));
  console.log(`${BAD} (bad): published at ${badStart.toFixed(1)} s; ${tookBad} hosts rebooted into it, ${tookBadBeforeHalt} of them before the halt was visible; first wave = ${firstWave} hosts, slots in flight = ${GROUPS * SLOTS}`);
  console.log(`  first rollback at ${firstRollbackReal?.toFixed(1) ?? '-'} s, halt in etcd at ${haltSeenReal?.toFixed(1) ?? '-'} s: ${firstRollbackReal !== undefined && haltSeenReal !== undefined ? `${(haltSeenReal - firstRollbackReal).toFixed(2)} s real (${(((haltSeenReal - firstRollbackReal) * K) / 60).toFixed(1)} simulated min)` : 'no halt'}; ${haltedRefusals} pre-reboot refusals with version_halted`);
  console.log(`  hosts per version at the end: ${JSON.stringify(series[series.length - 1]?.counts ?? {})}`);
  if (lastReportError) console.log(`last refused report: ${lastReportError.slice(0, 300)}`);
  if (lastLockError) console.log(`last failed FleetLock call: ${lastLockError.slice(0, 300)}`);
  console.log(`killed etcd member m2 and replica 2 at ${killedAt || 'never'}`);
  console.log(`slots: max simultaneous holders per group ${Math.max(...maxHolding.values())} of ${SLOTS} (per group: ${[...maxHolding.entries()].sort().map(([g, n]) => `${g}=${n}`).join(' ')}); stored semaphore max ${storedMax}; host-side overruns ${overruns + overrunsAfterExpiry} (split below)`);
  console.log(`requests: ${requests} in ${servedS.toFixed(1)} s = ${(requests / servedS).toFixed(0)}/s (failed, retried on the other replica: ${failedRequests}); latency p50 ${pct(sorted, 50).toFixed(1)} ms, p99 ${pct(sorted, 99).toFixed(1)} ms, max ${(sorted[sorted.length - 1] ?? 0).toFixed(0)} ms`);
  const cpu0 = survivor.cpuS - (t0cpu[0]?.cpuS ?? 0);
  console.log(`coordinator replica 1 (survivor, served everything after the kill): CPU ${cpu0.toFixed(1)} s over ${wall.toFixed(1)} s = ${((cpu0 / wall) * 100).toFixed(0)}% of one core; RSS ${survivor.rssMiB.toFixed(0)} MiB, peak ${survivor.hwmMiB.toFixed(0)} MiB`);
  // The survivor's last counters line (logged every minute): etcd requests per host request.
  const counters = (await readFile(path.join(outDir, 'replica-1.log'), 'utf8').catch(() => ''))
    .split('\n')
    .filter((l) => l.includes('msg="Coordinator counters"'))
    .pop();
  if (counters) {
    const field = (name: string): number => Number(new RegExp(`${name}=(\\d+)`).exec(counters)?.[1] ?? 0);
    const served = field('requests');
    console.log(
      `replica 1 counters (last minute mark): ${served} requests, ${field('etcd_calls')} etcd requests = ${(field('etcd_calls') / Math.max(1, served)).toFixed(2)} per host request; ${field('reports')} reports in ${field('report_txns')} transactions (${(field('reports') / Math.max(1, field('report_txns'))).toFixed(1)} per commit); ${field('cache_hits')} answered from the cached view; ${field('abandoned')} lock requests dropped (client gone); ${field('grants')} grants, ${field('expired')} holders expired, ${field('conflicts')} conflicts`,
    );
  }
  console.log(`holder timeout ${HOLDER_TIMEOUT_S} s real (${((HOLDER_TIMEOUT_S * K) / 60).toFixed(0)} simulated min); request timeout ${REQUEST_TIMEOUT_MS / 1000} s`);
  const self = process.resourceUsage();
  const selfCpuS = (self.userCPUTime + self.systemCPUTime) / 1e6;
  console.log(`bench process (the ${N} simulated hosts): CPU ${selfCpuS.toFixed(1)} s = ${((selfCpuS / wall) * 100).toFixed(0)}% of one core, peak RSS ${(self.maxRSS / 1024).toFixed(0)} MiB; event-loop delay p50 ${(loopDelay.percentile(50) / 1e6).toFixed(0)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms, max ${(loopDelay.max / 1e6).toFixed(0)} ms`);
  console.log(`etcd members CPU: ${etcdCpuS.map((c, i) => `m${i + 1} ${c.toFixed(1)} s`).join(', ')} (m2 up to its kill) = ${((etcdCpuS.reduce((a, b) => a + b, 0) / wall) * 100).toFixed(0)}% of one core together`);
  const kindLine = (Object.keys(latencyOf) as Kind[]).map((k) => {
    const l = [...latencyOf[k]].sort((a, b) => a - b);
    return `${k} ${l.length} (p50 ${pct(l, 50).toFixed(0)} ms, p99 ${pct(l, 99).toFixed(0)} ms)`;
  });
  console.log(`requests by kind: ${kindLine.join('; ')}`);
  // Compression multiplies every host's request rate by K: divided by K, this is what a real fleet of N would send with the same periods.
  console.log(`offered load: ${(requests / servedS).toFixed(0)} req/s at x${K} = ${(requests / servedS / K).toFixed(1)} req/s for a real (uncompressed) fleet of ${N} hosts with these periods`);
  const holds = [...holdS].sort((a, b) => a - b);
  const inReports = [...holdReportS].sort((a, b) => a - b);
  console.log(
    `host-side holds (grant to release, real s): ${holds.length}, p50 ${pct(holds, 50).toFixed(1)} s, p99 ${pct(holds, 99).toFixed(1)} s, max ${(holds[holds.length - 1] ?? 0).toFixed(1)} s; of it in report requests p50 ${pct(inReports, 50).toFixed(1)} s, p99 ${pct(inReports, 99).toFixed(1)} s; ${holdsOverTimeout} holds longer than the holder timeout (${HOLDER_TIMEOUT_S} s): the coordinator may release those by design`,
  );
  console.log(`host-side overruns: ${overruns} with every other holder inside the holder timeout (a coordinator fault), ${overrunsAfterExpiry} while a holder of the group had outlived the timeout (expiry by design; the host still thought it held)`);
  const versions = [...new Set(series.flatMap((r) => Object.keys(r.counts)))].sort();
  await writeFile(path.join(outDir, 'versions.svg'), svgChart(series, versions));
  const every = Math.max(1, Math.floor(series.length / 12));
  console.log('hosts on each version over time (real s / simulated h):');
  for (let i = 0; i < series.length; i += every) {
    const r = series[i];
    if (r) console.log(`  ${r.t.toFixed(0).padStart(4)} s  ${((r.t * K) / 3600).toFixed(1).padStart(5)} h  ${versions.map((v) => `${v}=${r.counts[v] ?? 0}`).join('  ')}`);
  }
  console.log(`chart: ${path.relative(process.cwd(), path.join(outDir, 'versions.svg'))}`);
  phaseLog = [];
} finally {
  done = true;
  for (const r of replicas) r.kill('SIGKILL');
  await etcd.stop();
  await rm(dir, { recursive: true, force: true });
}
