/**
 * Container figures for `npm run bench`, each beside a floor measured inside the same VM: start
 * to first output (berth's engine vs bare `crun run` of the bundle berth wrote), memory per
 * running container (berth supervising vs detached crun), and pull-and-unpack throughput of a
 * ~100 MB image from a loopback registry (berth vs busybox wget | tar). Effects: writes an OCI
 * layout and registry storage under a temp dir, runs docker-registry, skopeo and VMs.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuiltImage, busyboxEntries, createMachine, DEBUG_SHELL_CONFIG, type DebugShell, HOST_BUSYBOX, TEST_IMAGE_APPLETS, type Vm, writeOciLayout } from '../../vm/src/index.ts';
import { missingRegistryTools, startRegistry } from '../../qemu-tests/harness/index.ts';
import { BOOT_TIMEOUT_MS, initMemoryKb, mib, row } from './common.ts';

/** Idle containers in the memory boot. */
const IDLE_CONTAINERS = 8;
/** Bare crun starts timed per boot. */
const CRUN_RUNS = 5;
/** How long a host sits before its memory is read. */
const SETTLE_MS = 5000;
/** Random (incompressible) bytes in the pulled image's layer. */
const BIG_LAYER_BYTES = 100 * 1024 * 1024;
const GUEST_REGISTRY = '10.0.2.100:5000';
const BUNDLE = '/run/berth/containers/probe';
const FLOOR_DIR = '/run/bench-floor';
const FLOOR_CRUN = `crun --root ${FLOOR_DIR}/state`;

/** What one run of the container bench measured (times in ms, memory in kB, throughput in bytes/s). */
export interface ContainerRun {
  /** Containers starting → first output at the first boot (the preloaded image imported and unpacked first). */
  berthStartMs: number;
  /** The same at the reboot after it (layers unpacked, the container's writable layer kept). */
  berthRebootStartMs: number;
  crunStartMs: number[];
  berthKbPerContainer: number;
  crunKbPerContainer: number;
  berthPullBps: number;
  floorPullBps: number;
  /** PID 1 (berth-pid1 + node) peak resident memory through the pull and unpack, kB. */
  initPeakKbPull: number;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const log = (line: string) => process.stderr.write(`${line}\n`);

const probe = `  probe:
    image: berth-test
    entrypoint: ["/bin/sh", "-c", "echo FIRST-OUTPUT; exec sleep 1000000"]
    network_mode: none
    stop_grace_period: 1s
`;
const idle = (i: number) => `  idle${i}:
    image: berth-test
    entrypoint: ["/bin/sleep", "1000000"]
    network_mode: none
    stop_grace_period: 1s
    depends_on: { probe: { condition: service_started } }
`;

/** Milliseconds since the epoch of an ISO time with any number of fractional digits. */
function isoMs(text: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(text);
  if (!m) throw new Error(`Not an ISO time: '${text}'`);
  return Date.parse(`${m[1]}Z`) + Number(`0.${m[2] ?? '0'}`) * 1000;
}

/** The time= of the `nth` (1-based) init.log line matching `pattern`, polled until it is there. */
async function logTime(shell: DebugShell, file: string, pattern: string, nth = 1, timeoutMs = BOOT_TIMEOUT_MS): Promise<{ ms: number; line: string }> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const { output } = await shell.run(`grep -h -m${nth} -e '${pattern}' ${file} 2>/dev/null | tail -n +${nth}`);
    const line = output.trim().split('\n')[0] ?? '';
    const time = /time=(\S+)/.exec(line)?.[1] ?? /"time":"([^"]+)"/.exec(line)?.[1];
    if (time !== undefined) return { ms: isoMs(time), line };
    if (performance.now() > deadline) throw new Error(`No line matching '${pattern}' in ${file} within ${timeoutMs} ms`);
    await sleep(500);
  }
}

async function memAvailableKb(shell: DebugShell): Promise<number> {
  const out = await shell.check('sync; cat /proc/meminfo');
  return Number(/^MemAvailable:\s+(\d+) kB/m.exec(out)?.[1] ?? NaN);
}

/** Copies berth's bundle of `probe` for bare crun: own cgroup, a command that ends (or idles). */
async function floorBundle(shell: DebugShell, name: string, command: string): Promise<string> {
  const dir = `${FLOOR_DIR}/${name}`;
  await shell.check(
    `mkdir -p ${dir} && ln -sfn ${BUNDLE}/rootfs ${dir}/rootfs && sed -e 's#exec sleep 1000000#${command}#' -e 's#"cgroupsPath": "[^"]*"#"cgroupsPath": "/bench-floor/${name}"#' -e 's#"path": "${BUNDLE}/rootfs"#"path": "${dir}/rootfs"#' ${BUNDLE}/config.json > ${dir}/config.json`,
  );
  return dir;
}

async function stop(vm: Vm): Promise<void> {
  await vm.powerdown(60_000).catch(async () => {
    await vm.kill();
  });
}

/** Containers starting → the probe's first output, of the `nth` boot whose lines the logs hold. */
async function berthStartMs(shell: DebugShell, nth: number): Promise<number> {
  const started = await logTime(shell, '/var/log/berth/init.log', 'msg="Containers starting"', nth);
  const output = await logTime(shell, '/var/log/containers/probe.log', 'FIRST-OUTPUT', nth);
  return output.ms - started.ms;
}

/** Boot 1 and its reboot: berth's probe start and first output, bare crun of its bundle, crun's memory per container. */
async function startAndCrun(image: BuiltImage, run: number): Promise<{ berthStartMs: number; berthRebootStartMs: number; crunStartMs: number[]; baseKb: number; crunKbPerContainer: number }> {
  const machine = await createMachine({ name: `bench-ct-start-${run}`, image, config: `${DEBUG_SHELL_CONFIG}containers:\n${probe}` });
  try {
    const vm = await machine.boot();
    await vm.waitForReady(BOOT_TIMEOUT_MS);
    const shell = await vm.shell();
    const firstBootStartMs = await berthStartMs(shell, 1);

    const crunStartMs: number[] = [];
    for (let i = 1; i <= CRUN_RUNS; i += 1) {
      const dir = await floorBundle(shell, `start${i}`, 'exit 0');
      // The reader stamps the first line the moment it arrives, as berth's log writer does.
      const out = await shell.check(`s=$(date +%s%N); ${FLOOR_CRUN} run -b ${dir} start${i} | { read -r line; e=$(date +%s%N); cat >/dev/null; echo "line=$line took_ns=$((e - s))"; }; ${FLOOR_CRUN} delete -f start${i} >/dev/null 2>&1; true`, { timeoutMs: 60_000 });
      if (!out.includes('line=FIRST-OUTPUT')) throw new Error(`Bare crun run of berth's bundle printed no FIRST-OUTPUT:\n${out}`);
      crunStartMs.push(Number(/took_ns=(\d+)/.exec(out)?.[1]) / 1e6);
    }

    await sleep(SETTLE_MS);
    const baseKb = await memAvailableKb(shell);
    for (let i = 1; i <= IDLE_CONTAINERS; i += 1) {
      const dir = await floorBundle(shell, `idle${i}`, 'exec sleep 1000000');
      await shell.check(`${FLOOR_CRUN} run -d -b ${dir} idle${i} </dev/null >/dev/null 2>&1`, { timeoutMs: 60_000 });
    }
    await sleep(SETTLE_MS);
    const withCrunKb = await memAvailableKb(shell);
    const running = await shell.check(`${FLOOR_CRUN} list -q | wc -l`);
    if (Number(running.trim()) !== IDLE_CONTAINERS) throw new Error(`Expected ${IDLE_CONTAINERS} detached crun containers, crun lists ${running.trim()}`);
    await shell.run(`for c in $(${FLOOR_CRUN} list -q); do ${FLOOR_CRUN} delete -f $c; done`);
    await stop(vm);
    const again = await machine.boot();
    await again.waitForReady(BOOT_TIMEOUT_MS);
    const rebootStartMs = await berthStartMs(await again.shell(), 2);
    await stop(again);
    return { berthStartMs: firstBootStartMs, berthRebootStartMs: rebootStartMs, crunStartMs, baseKb, crunKbPerContainer: (baseKb - withCrunKb) / IDLE_CONTAINERS };
  } finally {
    await machine.dispose({ keep: false });
  }
}

/** Boot 2: the probe plus IDLE_CONTAINERS idle containers under berth; MemAvailable once all run. */
async function berthMemory(image: BuiltImage, run: number): Promise<number> {
  const config = `${DEBUG_SHELL_CONFIG}containers:\n${probe}${Array.from({ length: IDLE_CONTAINERS }, (_, i) => idle(i + 1)).join('')}`;
  const machine = await createMachine({ name: `bench-ct-mem-${run}`, image, config });
  try {
    const vm = await machine.boot();
    await vm.waitForReady(BOOT_TIMEOUT_MS);
    const shell = await vm.shell();
    const deadline = performance.now() + 120_000;
    for (;;) {
      const out = await shell.run("crun --root /run/berth/crun list | grep -c ' running '");
      if (Number(out.output.trim()) === IDLE_CONTAINERS + 1) break;
      if (performance.now() > deadline) throw new Error(`Not all ${IDLE_CONTAINERS + 1} containers run under berth:\n${out.output}`);
      await sleep(1000);
    }
    await sleep(SETTLE_MS);
    const kb = await memAvailableKb(shell);
    await stop(vm);
    return kb;
  } finally {
    await machine.dispose({ keep: false });
  }
}

/** The ~100 MB image in a loopback registry, for the pull boots. */
export interface BigImage {
  registryPort: number;
  layerDigest: string;
  layerBytes: number;
  stop(): void;
}

/** Writes an image of busybox plus BIG_LAYER_BYTES random bytes and pushes it to a fresh loopback registry. */
export async function prepareBigImage(): Promise<BigImage> {
  const missing = missingRegistryTools();
  if (missing.length > 0) throw new Error(missing.join('\n'));
  const work = await mkdtemp(join(tmpdir(), 'berth-bench-registry-'));
  const registry = await startRegistry(join(work, 'registry'));
  const busybox = await readFile(HOST_BUSYBOX);
  const image = await writeOciLayout(join(work, 'layout'), {
    entries: busyboxEntries(busybox, TEST_IMAGE_APPLETS, [{ name: 'var/big.bin', type: 'file', mode: 0o644, data: randomBytes(BIG_LAYER_BYTES) }]),
    config: { Env: ['PATH=/bin'], Entrypoint: ['/bin/sleep', '1000000'] },
    refName: '1',
    createdBy: 'berth bench: incompressible image',
  });
  await registry.push(image.layoutDir, '1', 'bench/big:1');
  const manifest = JSON.parse((image.files.find(([name]) => name === `blobs/sha256/${image.manifestDigest.slice(7)}`)?.[1] ?? Buffer.from('{}')).toString()) as {
    layers?: Array<{ digest: string }>;
  };
  const layerDigest = manifest.layers?.[0]?.digest ?? '';
  await rm(image.layoutDir, { recursive: true, force: true });
  return {
    registryPort: registry.port,
    layerDigest,
    layerBytes: image.layer.length,
    stop() {
      registry.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/** Boot 3: berth pulls and unpacks the big image; then busybox wget | tar of the same layer. */
export async function pull(image: BuiltImage, big: BigImage, run: number): Promise<{ berthBps: number; floorBps: number; initPeakKb: number }> {
  const config = `${DEBUG_SHELL_CONFIG}registries:\n  "${GUEST_REGISTRY}": { insecure: true }\ncontainers:\n  big:\n    image: ${GUEST_REGISTRY}/bench/big:1\n    network_mode: none\n    stop_grace_period: 1s\n`;
  const machine = await createMachine({ name: `bench-ct-pull-${run}`, image, config, guestForwards: [{ guestAddress: '10.0.2.100', guestPort: 5000, hostPort: big.registryPort }] });
  try {
    const vm = await machine.boot();
    await vm.waitForReady(BOOT_TIMEOUT_MS);
    const shell = await vm.shell();
    const pulling = await logTime(shell, '/var/log/berth/init.log', 'msg="Pulling image"');
    const unpacked = await logTime(shell, '/var/log/berth/init.log', 'msg="Image layers unpacked" container=big');
    const bytes = Number(/bytes=(\d+)/.exec(unpacked.line)?.[1] ?? big.layerBytes);
    const berthBps = bytes / ((unpacked.ms - pulling.ms) / 1000);
    // Read before the floor runs: node's VmHWM is its peak since boot, the pull's included.
    const { peakKb: initPeakKb } = await initMemoryKb(shell);
    const out = await shell.check(
      `rm -rf /var/tmp/bench-pull && mkdir -p /var/tmp/bench-pull && s=$(date +%s%N) && busybox wget -q -O - http://${GUEST_REGISTRY}/v2/bench/big/blobs/${big.layerDigest} | busybox tar -xz -C /var/tmp/bench-pull && sync && e=$(date +%s%N) && echo "took_ns=$((e - s))"; rm -rf /var/tmp/bench-pull`,
      { timeoutMs: 300_000 },
    );
    const floorBps = big.layerBytes / (Number(/took_ns=(\d+)/.exec(out)?.[1]) / 1e9);
    await stop(vm);
    return { berthBps, floorBps, initPeakKb };
  } finally {
    await machine.dispose({ keep: false });
  }
}

/** One run: three boots of the containers image. */
export async function benchContainers(image: BuiltImage, big: BigImage, run: number): Promise<ContainerRun> {
  const start = await startAndCrun(image, run);
  log(`containers run ${run}: start berth=${start.berthStartMs.toFixed(0)}ms reboot=${start.berthRebootStartMs.toFixed(0)}ms crun=${start.crunStartMs.map((v) => v.toFixed(0)).join(',')}ms`);
  const berthKb = await berthMemory(image, run);
  const p = await pull(image, big, run);
  log(`containers run ${run}: pull berth=${mib(p.berthBps)}/s floor=${mib(p.floorBps)}/s init_peak=${(p.initPeakKb / 1024).toFixed(1)} MiB`);
  return {
    berthStartMs: start.berthStartMs,
    berthRebootStartMs: start.berthRebootStartMs,
    crunStartMs: start.crunStartMs,
    berthKbPerContainer: (start.baseKb - berthKb) / IDLE_CONTAINERS,
    crunKbPerContainer: start.crunKbPerContainer,
    berthPullBps: p.berthBps,
    floorPullBps: p.floorBps,
    initPeakKbPull: p.initPeakKb,
  };
}

const ms = (v: number) => `${v.toFixed(0)} ms`;
const kib = (v: number) => `${(v / 1024).toFixed(2)} MiB`;
const rate = (v: number) => `${mib(v)}/s`;

/** The containers table: berth rows carry their ratio to the floor row above them. */
export function containersTable(runs: readonly ContainerRun[], image: BuiltImage, accel: string): string {
  const crunStart = runs.flatMap((r) => r.crunStartMs);
  const crunKb = runs.map((r) => r.crunKbPerContainer);
  const floorPull = runs.map((r) => r.floorPullBps);
  return [
    `\nberth ${image.manifest.version} container benchmark — ${runs.length} runs (4 boots each, ${CRUN_RUNS} bare crun starts per run), accel=${accel}, floors measured in the same VMs\n`,
    '| measure | min | median | max | berth / floor (median) |',
    '|---|---|---|---|---|',
    row('floor: bare `crun run` of berth\'s bundle → first output', crunStart, [], ms),
    row('berth: engine starts the container at the first boot → first output (json-file log; the preloaded image imported and unpacked first)', runs.map((r) => r.berthStartMs), [crunStart], ms),
    row('berth: the same at the reboot (layers unpacked)', runs.map((r) => r.berthRebootStartMs), [crunStart], ms),
    row(`floor: MemAvailable drop per detached crun container (${IDLE_CONTAINERS} idle, same VM)`, crunKb, [], kib),
    row(`berth: MemAvailable drop per berth container (${IDLE_CONTAINERS} idle, vs the first boot)`, runs.map((r) => r.berthKbPerContainer), [crunKb], kib),
    row(`floor: busybox wget → tar -xz of the ${mib(BIG_LAYER_BYTES)} random-data layer from the loopback registry (guestfwd)`, floorPull, [], rate),
    row('berth: pull + verify + unpack of the same image', runs.map((r) => r.berthPullBps), [floorPull], rate),
    row('berth: PID 1 peak memory through that pull and unpack (berth-pid1 RSS + node VmHWM)', runs.map((r) => r.initPeakKbPull), [], kib),
  ].join('\n');
}
