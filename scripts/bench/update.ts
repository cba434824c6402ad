/**
 * Update figures for `npm run bench` (issue 4), on the update test's images (1.0.0 booted, the
 * signed 2.0.0 bundle served by a static server on 127.0.0.1 through guestfwd):
 *  - end-to-end update time, split into download, apply (slot write, read-back, ESP), reboot
 *    (the agent's reboot to BERTH-READY of the new slot) and bless (READY to the blessed entry,
 *    the soak included);
 *  - apply throughput (the slot writer's own "Slot written" figures) with no throttle and with
 *    io.max/cpu.max, beside two floors measured in the same VM: the disk (`dd oflag=direct`
 *    to the same inactive slot) and the CPU (the same downloaded payload hashed, decompressed
 *    and hashed again by the guest's node with nothing written: what the writer cannot beat);
 *  - the p99 latency of an HTTP container (busybox httpd, published port) while the update is
 *    applied (slot write, read-back, ESP), beside its p99 with no update in the same VM;
 *  - the download: its time and rate (bundle bytes over the download phase, and the root
 *    payload's rate as the static server counted it after its first second) against
 *    update.throttle.download_bps, and the HTTP p99 during the download against no update.
 * Each run is one fresh machine per variant, with `strategy: manual`: the update is started on
 * request (POST /v1/update/check) once the no-update latency and the disk floor are measured,
 * the CPU floor runs while the staged update waits, and POST /v1/update/apply reboots into it;
 * the end-to-end time is the sum of the phases, without that wait. Effects: a static server
 * directory under out/bench/, VMs.
 */
import { execFile } from 'node:child_process';
import { access, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BerthError } from '../../lib/errors.ts';
import { type BuiltImage, createMachine, freePort, REPO_ROOT, type Vm } from '../../vm/src/index.ts';
import { guestApiOk, servedRate, servedTimeline, startStaticServer } from '../../qemu-tests/harness/index.ts';
import { BOOT_TIMEOUT_MS, initMemoryKb, mib, row } from './common.ts';

const run = promisify(execFile);
const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** The two ways the slot is written: no limits, and the limits of the issue's example config. */
export const VARIANTS: Record<'unthrottled' | 'throttled' | 'paced', { label: string; throttle?: string; downloadBps?: number }> = {
  unthrottled: { label: 'no throttle' },
  throttled: { label: 'io.max 5 MiB/s + 500 IOPS, cpu.max 20%', throttle: '{ write_bps: 5M, write_iops: 500, cpu: 20% }' },
  paced: { label: 'download_bps 2 MiB/s', throttle: '{ download_bps: 2M }', downloadBps: 2 * 1024 * 1024 },
};
export type Variant = keyof typeof VARIANTS;

const SOAK = '10s';
/** One request every 50 ms (20/s), one at a time, each on a new connection (busybox httpd closes it). */
const REQUEST_INTERVAL_MS = 50;
/** How long the no-update latency is sampled. */
const QUIET_MS = 20_000;
/** The floor's write to the inactive slot. */
const FLOOR_BYTES = 64 * 1024 * 1024;
/** Download, write and read-back of a ~110 MiB root under TCG, throttled, generously. */
const STAGE_MS = 600_000;
const GUEST_SERVER = '10.0.2.100';

export interface UpdateRun {
  variant: Variant;
  downloadMs: number;
  applyMs: number;
  rebootMs: number;
  blessMs: number;
  totalMs: number;
  /** The slot writer's bytes over its whole write, and its steady rate (after io.max's first burst). */
  writeBps: number;
  steadyBps: number;
  /** dd oflag=direct to the inactive slot. */
  diskFloorBps: number;
  /** hash + zstd decompress + hash of the payload, nothing written (decompressed bytes/s). */
  cpuFloorBps: number;
  quietLatencies: number[];
  updateLatencies: number[];
  /** Bundle bytes the server sent for 2.0.0, and the root payload's rate after its first second as the server counted it. */
  downloadBytes: number;
  rootServedBps: number;
  downloadLatencies: number[];
  failedRequests: number;
  /** PID 1 (berth-pid1 + node) peak resident memory through the download, verification and slot write, kB. */
  initPeakKb: number;
}

/** Sequential GETs at a fixed pace, each stamped with the host's clock. */
class HttpProbe {
  readonly samples: Array<{ at: number; ms: number; ok: boolean }> = [];
  #running = true;
  readonly #loop: Promise<void>;

  constructor(url: string) {
    this.#loop = (async () => {
      while (this.#running) {
        const at = performance.now();
        const ok = await fetch(url, { signal: AbortSignal.timeout(10_000) }).then(
          async (response) => response.ok && (await response.text()).length > 0,
          () => false,
        );
        const ms = performance.now() - at;
        this.samples.push({ at, ms, ok });
        await sleep(Math.max(0, REQUEST_INTERVAL_MS - ms));
      }
    })();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  between(from: number, to: number): { latencies: number[]; failed: number } {
    const inside = this.samples.filter((s) => s.at >= from && s.at + s.ms <= to);
    return { latencies: inside.filter((s) => s.ok).map((s) => s.ms), failed: inside.filter((s) => !s.ok).length };
  }
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

function config(channel: string, variant: Variant): string {
  const throttle = VARIANTS[variant].throttle;
  return `debug:
  shell: ttyS1
update:
  server: http://${GUEST_SERVER}/
  channel: ${channel}
  check_interval: 1h
  strategy: manual
  soak: ${SOAK}
${throttle === undefined ? '' : `  throttle: ${throttle}\n`}containers:
  web:
    image: berth-test
    ports: ["8080:8080"]
    read_only: true
    stop_grace_period: 1s
`;
}

/**
 * node -e source for the CPU floor: the payload file (argv[1]) read, hashed, decompressed with
 * zstd and hashed again as the slot writer does, with nothing written; prints the bytes and ms.
 */
const CPU_FLOOR_SCRIPT =
  "const fs=require('fs'),zlib=require('zlib'),crypto=require('crypto'),{pipeline,Writable}=require('stream');" +
  "const packed=crypto.createHash('sha256'),plain=crypto.createHash('sha256');let bytes=0;const t=process.hrtime.bigint();" +
  "pipeline(fs.createReadStream(process.argv[1],{highWaterMark:4<<20}).on('data',(d)=>packed.update(d)),zlib.createZstdDecompress()," +
  "new Writable({write(c,e,cb){plain.update(c);bytes+=c.length;cb()}}),(err)=>{if(err)throw err;" +
  "console.log('bytes='+bytes+' ms='+Math.round(Number(process.hrtime.bigint()-t)/1e6))})";

async function publish(bundles: string, version: string, channel: string, root: string): Promise<void> {
  // The bundles' key (build-update-images.sh) also signs the channel metadata.
  const signingKey = join(bundles, '..', 'keys', 'berth-signing.key');
  await run(process.execPath, [join(REPO_ROOT, 'bin/berth.js'), 'publish', join(bundles, version), '--channel', channel, '--to', root, '--signing-key', signingKey], { cwd: REPO_ROOT });
}

/** Waits for `pattern` on the console after `from`; returns the host time it was seen and the line. */
async function mark(vm: Vm, pattern: RegExp, from: number, timeoutMs = STAGE_MS): Promise<{ at: number; end: number; match: RegExpExecArray }> {
  const found = await vm.waitFor(pattern, timeoutMs, { from });
  return { at: performance.now(), end: found.end, match: found.match };
}

/** The update directory of qemu-tests/build-update-images.sh: the 1.0.0 image and the bundles. */
export async function checkUpdateImages(updateDir: string): Promise<void> {
  for (const version of ['1.0.0', '2.0.0']) {
    await access(join(updateDir, 'bundles', version, 'manifest.json')).catch(() => {
      throw new Error(`The update bench needs the bundles in ${join(updateDir, 'bundles')}: run qemu-tests/build-update-images.sh first`);
    });
  }
}

/** One machine: quiet latency, the dd floor, then 1.0.0 -> 2.0.0 on request, through the reboot and the bless. */
export async function benchUpdate(image: BuiltImage, updateDir: string, variant: Variant, runNumber: number): Promise<UpdateRun> {
  const bundles = join(updateDir, 'bundles');
  const root = join(REPO_ROOT, 'out/bench/update-server');
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });
  // The channel the bundles are signed for (build-update-images.sh builds them for stable): a host refuses any other.
  const channel = 'stable';
  await publish(bundles, '1.0.0', channel, root);
  const server = await startStaticServer(root);
  const httpPort = await freePort();
  const machine = await createMachine({
    name: `bench-update-${variant}-${runNumber}`,
    image,
    config: config(channel, variant),
    hostForwards: [{ protocol: 'tcp', hostPort: httpPort, guestPort: 8080 }],
    guestForwards: [{ guestAddress: GUEST_SERVER, guestPort: 80, hostPort: server.port, mode: 'process' }],
  });
  let probe: HttpProbe | undefined;
  try {
    let vm = await machine.boot();
    const ready = await vm.waitForReady(BOOT_TIMEOUT_MS);
    if (ready.version !== '1.0.0') throw new Error(`The update bench boots 1.0.0, the image is ${ready.version}`);
    // After the first boot's soak the agent blesses slot a and finds 1.0.0 current: a quiet host.
    await vm.waitFor(/msg="Boot entry blessed" slot=a/, 120_000);
    const idle = await vm.waitFor(/msg="Update phase" from=checking to=idle[^\n]*/, 120_000);
    const shell = await vm.shell();
    probe = new HttpProbe(`http://127.0.0.1:${httpPort}/`);
    const warm = performance.now() + 60_000;
    while (!probe.samples.some((s) => s.ok)) {
      if (performance.now() > warm) throw new Error('The web container never answered through hostfwd');
      await sleep(500);
    }
    const quietFrom = performance.now();
    await sleep(QUIET_MS);
    const quiet = probe.between(quietFrom, performance.now());

    // The disk floor: what the guest's disk takes with direct I/O and no limit, on the slot the update will write.
    const dd = await shell.check(`dd if=/dev/zero of=$(blkid -t PARTLABEL=root-b -o device) bs=4M count=${FLOOR_BYTES / (4 * 1024 * 1024)} oflag=direct 2>&1`, { timeoutMs: 300_000 });
    const ddSeconds = Number(/ copied, ([\d.]+) s/.exec(dd)?.[1]);
    if (!Number.isFinite(ddSeconds)) throw new Error(`dd printed no time:\n${dd}`);
    const diskFloorBps = FLOOR_BYTES / ddSeconds;

    await publish(bundles, '2.0.0', channel, root);
    await guestApiOk(shell, 'POST', '/v1/update/check');
    const downloading = await mark(vm, /msg="Update phase" from=checking to=downloading/, idle.end);
    const verifying = await mark(vm, /msg="Update phase" from=downloading to=verifying/, downloading.end);
    const whileDownloading = probe.between(downloading.at, verifying.at);
    const bundleGets = server.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/bundles/2.0.0/'));
    const downloadBytes = bundleGets.reduce((sum, r) => sum + (r.timeline.at(-1)?.[1] ?? 0), 0);
    // Paced, the root payload comes in Range pieces: their bytes together, as the server sent them.
    const rootGets = bundleGets.filter((r) => r.path.endsWith('/root.squashfs.zst'));
    const rootServedBps = servedRate({ timeline: servedTimeline(rootGets) }, 1000)?.bytesPerSecond ?? Number.NaN;
    const written = await mark(vm, /msg="Slot written" slot=b bytes=(\d+) ms=(\d+) bytes_per_s=(\d+) steady_bytes_per_s=(\d+)/, verifying.end);
    const staged = await mark(vm, /msg="Waiting for reboot gates" blocking=manual/, written.end);
    const during = probe.between(verifying.at, staged.at);
    // Before the CPU floor's own node runs: init's VmHWM is its peak since boot, the update's included.
    const { peakKb: initPeakKb } = await initMemoryKb(shell);

    // The CPU floor, on the downloaded payload while the staged update waits for the operator,
    // with the same HTTP load as during the write (busybox httpd forks per request: guest CPU).
    const payload = (await shell.check('ls /var/lib/berth/update/2.0.0/root.*.zst')).trim();
    const cpu = await shell.check(`/usr/lib/berth/node/bin/node -e "${CPU_FLOOR_SCRIPT}" ${payload}`, { timeoutMs: 600_000 });
    await probe.stop();
    probe = undefined;
    const cpuMatch = /bytes=(\d+) ms=(\d+)/.exec(cpu);
    if (!cpuMatch) throw new Error(`The CPU floor printed no figures:\n${cpu}`);
    const cpuFloorBps = Number(cpuMatch[1]) / (Number(cpuMatch[2]) / 1000);

    // apply reboots the guest at once: the shell may close before the request's command returns
    // (a run lost its answer that way, after the 202). The console line below is the proof.
    await guestApiOk(shell, 'POST', '/v1/update/apply').catch((error: unknown) => {
      if (!(error instanceof BerthError && error.code === 'QEMU_SHELL_CLOSED')) throw error;
    });
    const rebooting = await mark(vm, /msg="Rebooting for the update"/, staged.end);
    await vm.waitForExit(120_000);

    vm = await machine.boot();
    const newReady = await vm.waitForReady(BOOT_TIMEOUT_MS);
    const readyAt = performance.now();
    if (newReady.slot !== 'b' || newReady.version !== '2.0.0') throw new Error(`Expected BERTH-READY slot=b version=2.0.0, got slot=${newReady.slot} version=${newReady.version}`);
    const blessed = await mark(vm, /msg="Boot entry blessed" slot=b/, 0, 300_000);
    await vm.powerdown(60_000).catch(async () => vm.kill());

    const result: UpdateRun = {
      variant,
      downloadMs: verifying.at - downloading.at,
      applyMs: staged.at - verifying.at,
      rebootMs: readyAt - rebooting.at,
      blessMs: blessed.at - readyAt,
      totalMs: staged.at - downloading.at + (blessed.at - rebooting.at),
      writeBps: Number(written.match[3]),
      steadyBps: Number(written.match[4]),
      diskFloorBps,
      cpuFloorBps,
      quietLatencies: quiet.latencies,
      updateLatencies: during.latencies,
      downloadBytes,
      rootServedBps,
      downloadLatencies: whileDownloading.latencies,
      failedRequests: quiet.failed + during.failed + whileDownloading.failed,
      initPeakKb,
    };
    log(
      `update ${variant} run ${runNumber}: total ${(result.totalMs / 1000).toFixed(1)} s, write ${mib(result.writeBps)}/s (floors: disk ${mib(diskFloorBps)}/s, CPU ${mib(cpuFloorBps)}/s), ` +
        `p99 ${percentile(result.updateLatencies, 99).toFixed(0)} ms during / ${percentile(result.quietLatencies, 99).toFixed(0)} ms quiet`,
    );
    return result;
  } finally {
    await probe?.stop();
    await machine.dispose({ keep: false });
    await server.close();
  }
}

const ms = (v: number) => `${v.toFixed(0)} ms`;
const seconds = (v: number) => `${(v / 1000).toFixed(1)} s`;
const rate = (v: number) => `${mib(v)}/s`;

/** The update table: apply rates beside the dd floor, latency during the write beside the quiet p99. */
export function updateTable(runs: readonly UpdateRun[], image: BuiltImage, accel: string): string {
  const lines = [
    `\nberth update benchmark (1.0.0 → 2.0.0, root image ${mib(image.manifest.rootImage.sizeBytes)} with its verity tree) — ${runs.length} updates, accel=${accel}, soak ${SOAK}, floors measured in the same VMs\n`,
    '| measure | min | median | max | ratio (median) |',
    '|---|---|---|---|---|',
  ];
  const disk = runs.map((r) => r.diskFloorBps);
  const cpu = runs.map((r) => r.cpuFloorBps);
  lines.push(
    row('floor, disk: dd oflag=direct of zeros to the inactive slot', disk, [], rate),
    row('floor, CPU: the payload hashed + zstd-decompressed + hashed by node, nothing written (same HTTP load)', cpu, [], rate),
  );
  for (const variant of Object.keys(VARIANTS) as Variant[]) {
    const these = runs.filter((r) => r.variant === variant);
    if (these.length === 0) continue;
    const name = VARIANTS[variant].label;
    const quietP99 = these.map((r) => percentile(r.quietLatencies, 99));
    const limit = VARIANTS[variant].downloadBps;
    lines.push(
      row(`${name}: end-to-end (check → blessed, without the manual strategy's wait)`, these.map((r) => r.totalMs), [], seconds),
      row(`${name}: download`, these.map((r) => r.downloadMs), [], seconds),
      row(
        `${name}: download rate (bundle bytes / download time)${limit ? ' / download_bps' : ''}`,
        these.map((r) => (r.downloadBytes * 1000) / r.downloadMs),
        limit ? [[limit]] : [],
        rate,
      ),
      row(`${name}: root payload rate as the server sent it (after its first second)${limit ? ' / download_bps' : ''}`, these.map((r) => r.rootServedBps), limit ? [[limit]] : [], rate),
      row(`${name}: HTTP p99 during the download / no update`, these.map((r) => percentile(r.downloadLatencies, 99)), [quietP99], ms),
      row(`${name}: apply (slot write, read-back, ESP)`, these.map((r) => r.applyMs), [], seconds),
      row(`${name}: reboot → BERTH-READY slot=b`, these.map((r) => r.rebootMs), [], seconds),
      row(`${name}: READY → entry blessed (soak ${SOAK})`, these.map((r) => r.blessMs), [], seconds),
      row(`${name}: slot write rate (whole write) / CPU floor`, these.map((r) => r.writeBps), [cpu], rate),
      row(`${name}: slot write rate while a write is in flight (after io.max's first 2 s) / disk floor`, these.map((r) => r.steadyBps), [disk], rate),
      row(`${name}: HTTP p99, no update (same VM)`, quietP99, [], ms),
      row(`${name}: HTTP p99 while the update is applied / no update`, these.map((r) => percentile(r.updateLatencies, 99)), [quietP99], ms),
      row(`${name}: HTTP p50 while the update is applied / no update`, these.map((r) => percentile(r.updateLatencies, 50)), [these.map((r) => percentile(r.quietLatencies, 50))], ms),
      row(`${name}: PID 1 peak memory through download, verification and slot write (berth-pid1 RSS + node VmHWM)`, these.map((r) => r.initPeakKb), [], (kb) => mib(kb * 1024)),
    );
  }
  const failed = runs.reduce((sum, r) => sum + r.failedRequests, 0);
  const requests = runs.reduce((sum, r) => sum + r.quietLatencies.length + r.updateLatencies.length + r.downloadLatencies.length, 0);
  lines.push('', `HTTP: one GET every ${REQUEST_INTERVAL_MS} ms through hostfwd to busybox httpd on a published port; ${requests} answered, ${failed} failed or timed out (10 s).`);
  return lines.join('\n');
}
