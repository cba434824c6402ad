// Side-by-side benchmark: berth's image against a peer a user would otherwise pick (Debian
// trixie, systemd as PID 1, podman with crun, the same kernel package, booted the same way
// under the same QEMU settings) and against the floor (the same kernel with a trivial
// initramfs). Boots each several times (BERTH_BENCH_RUNS, default 3), prints min/median/max
// and the ratios berth/peer and berth/floor, and writes boot timelines as SVG under out/bench/.
// Not a test: it asserts nothing about speed. Every VM runs under the caller's flock.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseBootConsole, renderBootSvg } from '../cli/src/index.ts';
import { loadProfileFile, ROOT_SQUASHFS_COMPRESSION } from '../image-builder/src/index.ts';
import { type BuiltImage, createMachine, DEBUG_SHELL_CONFIG, loadImage, PANIC_PATTERN, REPO_ROOT, type Vm } from '../vm/src/index.ts';
import { guestApiOk } from '../qemu-tests/harness/index.ts';
import { benchRuns, BOOT_TIMEOUT_MS, bootFloor, buildFloorImage, fmtSeconds, mib, stats, type Sample } from './bench/common.ts';
import { idleMemory, type IdleMemory } from './bench/idle-memory.ts';
import { BENCH_IMAGE_REF, buildPeerImage, CONTAINER_COMMAND, CONTAINER_OUTPUT_PATTERN, PEER_READY_PATTERN } from './bench/peer-image.ts';

const RUNS = benchRuns();
const OUT = path.join(REPO_ROOT, 'out/bench');
/** How long a booted host sits before its memory is read. */
const SETTLE_MS = 5000;
/** Container starts timed per booted host and tool. */
const LATENCY_RUNS = 5;

interface HostRun {
  first: Sample;
  reboot: Sample;
  /** Idle memory 5 s after ready, and what it is made of. */
  memory: IdleMemory;
  /** The reboot's console and its firmware offset (QEMU start -> kernel start), for the SVG. */
  console: string;
  firmwareMs: number;
  /** Container start → first output, ms: berth's engine at boot (both boots) or `podman run` at idle. */
  startMs: number[];
  /** berth only: POST /v1/containers/bench/start on the idle host, request sent → first output, ms. */
  onRequestMs: number[];
  /** Bare `crun run` of the same image in this guest → first output, ms. */
  crunMs: number[];
}

const log = (line: string) => process.stderr.write(`${line}\n`);

async function idleMemoryOf(vm: Vm): Promise<IdleMemory> {
  const shell = await vm.shell();
  const [meminfo, zoneinfo] = [await shell.check('cat /proc/meminfo'), await shell.check('cat /proc/zoneinfo')];
  return idleMemory(meminfo, zoneinfo);
}

/**
 * Times `command` → its first output line LATENCY_RUNS times in the guest: the reader stamps the
 * first line the moment it arrives, as berth's supervisor does ('Container first output').
 */
async function timeFirstOutput(vm: Vm, command: (i: number) => string, cleanup: (i: number) => string = () => 'true'): Promise<number[]> {
  const shell = await vm.shell();
  const samples: number[] = [];
  for (let i = 1; i <= LATENCY_RUNS; i += 1) {
    const out = await shell.check(
      `s=$(date +%s%N); ${command(i)} 2>/tmp/bench-first-output.err | { read -r line; e=$(date +%s%N); cat >/dev/null; echo "line=$line took_ns=$((e - s))"; }; ${cleanup(i)} >/dev/null 2>&1; true`,
      { timeoutMs: 120_000 },
    );
    if (!/line=CONTAINER-OUTPUT/.test(out)) {
      const { output: stderr } = await shell.run('cat /tmp/bench-first-output.err');
      throw new Error(`'${command(i)}' in the guest printed no CONTAINER-OUTPUT first:\n${out}\nstderr:\n${stderr}`);
    }
    samples.push(Number(/took_ns=(\d+)/.exec(out)?.[1]) / 1e6);
  }
  return samples;
}

/** berth's engine at boot: 'Container creating' → 'Container first output' of the bench container (t_ms, guest clock). */
async function berthEngineStartMs(vm: Vm): Promise<number> {
  const shell = await vm.shell();
  const out = await shell.check(`grep -E 'msg="Container (creating|first output)" container=bench ' /var/log/berth/init.log | tail -n 2`);
  const at = (msg: string) => Number(new RegExp(`msg="Container ${msg}" container=bench .*t_ms=(\\d+)`).exec(out)?.[1] ?? NaN);
  const ms = at('first output') - at('creating');
  if (!Number.isFinite(ms)) throw new Error(`No 'Container creating' and 'Container first output' lines with t_ms for bench in init.log:\n${out}`);
  return ms;
}

/**
 * berth on request, on the idle host, as `podman run` is timed on the peer: the bench container
 * (which printed and exited at boot) is started LATENCY_RUNS times through the management API.
 * guestApi stamps the request with /proc/uptime as it sends it, from a client that already
 * sent one request (as a tool or an orchestrator holding the API would); the engine stamps its
 * 'Container first output' line with the same clock (t_ms), so the client's own start-up is not counted.
 */
async function berthOnRequestMs(vm: Vm): Promise<number[]> {
  const shell = await vm.shell();
  const firstOutputs = async () =>
    (await shell.run(`grep -E 'msg="Container first output" container=bench ' /var/log/berth/init.log`)).output
      .split('\n')
      .map((line) => Number(/t_ms=(\d+)/.exec(line)?.[1] ?? NaN))
      .filter(Number.isFinite);
  const samples: number[] = [];
  for (let i = 1; i <= LATENCY_RUNS; i += 1) {
    // Started only once the last run has exited: a running container is left alone (changed: false).
    const exitedBy = performance.now() + 60_000;
    while (!/"state":\s*"(exited|stopped)"/.test((await guestApiOk(shell, 'GET', '/v1/containers/bench')).body)) {
      if (performance.now() > exitedBy) throw new Error("berth's bench container did not exit after its output");
      await sleep(500);
    }
    const before = (await firstOutputs()).length;
    const { sentMs, body } = await guestApiOk(shell, 'POST', '/v1/containers/bench/start', { warm: true });
    const deadline = performance.now() + 60_000;
    for (;;) {
      const outputs = await firstOutputs();
      const at = outputs.length > before ? outputs[outputs.length - 1] : undefined;
      if (at !== undefined) {
        samples.push(at - sentMs);
        break;
      }
      if (performance.now() > deadline) throw new Error(`berth's bench container printed nothing within 60 s of POST /v1/containers/bench/start (${body})`);
      await sleep(250);
    }
  }
  return samples;
}

/** Where bare crun keeps its state and bundles, apart from berth's and podman's. */
const FLOOR_DIR = '/run/bench-floor';
const FLOOR_CRUN = `crun --root ${FLOOR_DIR}/state`;

async function stop(vm: Vm): Promise<void> {
  await vm.powerdown(60_000).catch(async () => {
    await vm.kill();
  });
}

/** berth runs the same container as the peer, from the image its profile preloaded. */
const BERTH_CONFIG = `${DEBUG_SHELL_CONFIG}containers:
  bench:
    image: berth-test
    entrypoint: ${JSON.stringify(CONTAINER_COMMAND)}
    network_mode: none
`;

/**
 * berth's container output goes to its json-file log, not the console: read it through the
 * debug shell (/var/log/containers/<name>.log). The line carries the guest clock; the wall clock adds this boot's firmware
 * offset (QEMU start -> kernel start, from BERTH-READY's wall and guest times).
 */
async function waitForBerth(vm: Vm): Promise<{ sample: Sample; ready: Sample; outputLine: string }> {
  const ready = await vm.waitForReady(BOOT_TIMEOUT_MS);
  const shell = await vm.shell();
  const deadline = performance.now() + BOOT_TIMEOUT_MS;
  for (;;) {
    const { output } = await shell.run('grep -rh CONTAINER-OUTPUT /var/log/containers /var/log/berth 2>/dev/null | head -n 1');
    const match = CONTAINER_OUTPUT_PATTERN.exec(output);
    if (match) {
      const guestMs = Number(match[1]) * 1000;
      return { sample: { wallMs: ready.wallMs - ready.bootMs + guestMs, guestMs }, ready: { wallMs: ready.wallMs, guestMs: ready.bootMs }, outputLine: match[0] };
    }
    if (performance.now() > deadline) throw new Error(`berth's bench container printed nothing within ${BOOT_TIMEOUT_MS} ms:\n${vm.console.tail()}`);
    await sleep(500);
  }
}

async function bootBerth(image: BuiltImage, run: number): Promise<HostRun> {
  const machine = await createMachine({ name: `bench-peer-berth-${run}`, image, config: BERTH_CONFIG });
  try {
    let vm = await machine.boot();
    const first = (await waitForBerth(vm)).sample;
    const startMs = [await berthEngineStartMs(vm)];
    // Every later boot of a machine starts init from the startup snapshot its first boot keeps
    // (10 s after READY, then a few seconds' build): the reboot measures that boot.
    await vm.waitFor(/msg="Startup snapshot saved"/, BOOT_TIMEOUT_MS);
    // /var persists: clear the container log so the reboot's line is the only one.
    await (await vm.shell()).check('rm -f /var/log/containers/*.log && sync');
    await stop(vm);
    vm = await machine.boot();
    const again = await waitForBerth(vm);
    const reboot = again.sample;
    startMs.push(await berthEngineStartMs(vm));
    await sleep(SETTLE_MS);
    const memory = await idleMemoryOf(vm);
    // The floor: bare crun of berth's own bundle for the bench container (its config.json,
    // hosts, resolv.conf), on the image's unpacked layer instead of the overlay the engine
    // unmounted when the container ended; own state dir and cgroup.
    const shell = await vm.shell();
    const layer = (await shell.check('ls -d /var/lib/berth/runtime/layers/sha256-*/root | head -n 1')).trim();
    await shell.check(
      `mkdir -p ${FLOOR_DIR}/state && sed -e 's#"path": "/run/berth/containers/bench/rootfs"#"path": "${layer}"#' -e 's#"cgroupsPath": "[^"]*"#"cgroupsPath": "/bench-floor/run"#' /run/berth/containers/bench/config.json > ${FLOOR_DIR}/config.json && grep -q '"path": "${layer}"' ${FLOOR_DIR}/config.json`,
    );
    const crunMs = await timeFirstOutput(vm, (i) => `${FLOOR_CRUN} run -b ${FLOOR_DIR} floor${i}`, (i) => `${FLOOR_CRUN} delete -f floor${i}`);
    const onRequestMs = await berthOnRequestMs(vm);
    await stop(vm);
    // The output line joins the console so the chart can mark it.
    const console = `${vm.console.text()}\n${again.outputLine}\n`;
    return { first, reboot, memory, console, firmwareMs: again.ready.wallMs - again.ready.guestMs, startMs, onRequestMs, crunMs };
  } finally {
    await machine.dispose({ keep: false });
  }
}

/** Waits for the peer's container output (journald forwards it to the console). */
async function waitForPeer(vm: Vm): Promise<Sample> {
  const output = await vm.waitFor(CONTAINER_OUTPUT_PATTERN, BOOT_TIMEOUT_MS, { failOn: [PANIC_PATTERN] });
  return { wallMs: performance.now() - vm.startedAt, guestMs: Number(output.match[1]) * 1000 };
}

/**
 * systemd's own view of the boot, read through the shell on serial 1 once boot finished: the
 * report unit's copy on ttyS0 can be lost when the serial getty hangs the line up.
 */
async function systemdReport(vm: Vm): Promise<string> {
  const shell = await vm.shell();
  const { output } = await shell.run(
    'systemctl is-system-running --wait >/dev/null 2>&1; read up _ </proc/uptime; systemd-analyze time; ' +
      'systemd-analyze critical-chain berth-bench-container.service; systemd-analyze critical-chain; echo "PEER-READY uptime_s=$up"',
    { timeoutMs: BOOT_TIMEOUT_MS },
  );
  if (!PEER_READY_PATTERN.test(output)) throw new Error(`The peer's systemd report is incomplete:\n${output}`);
  return output;
}

async function bootPeer(peer: BuiltImage, run: number): Promise<HostRun> {
  const machine = await createMachine({ name: `bench-peer-peer-${run}`, image: peer, extraDiskBytes: 0 });
  try {
    let vm = await machine.boot();
    const first = await waitForPeer(vm);
    await stop(vm);
    vm = await machine.boot();
    const reboot = await waitForPeer(vm);
    const report = await systemdReport(vm);
    await sleep(SETTLE_MS);
    const memory = await idleMemoryOf(vm);
    const command = `${CONTAINER_COMMAND[0] ?? ''} ${BENCH_IMAGE_REF} ${CONTAINER_COMMAND[1] ?? ''} '${CONTAINER_COMMAND[2] ?? ''}'`;
    const startMs = await timeFirstOutput(vm, () => `podman run --rm --network none --entrypoint ${command}`);
    // The floor: the image's bundle built into the peer (crun spec, same layer), running the same command.
    const shell = await vm.shell();
    await shell.check(
      `mkdir -p ${FLOOR_DIR}/state && sed -e 's#"/bin/true"#"/bin/sh", "-c", "echo -n CONTAINER-OUTPUT; cat /proc/uptime"#' -e 's#"path": "rootfs"#"path": "/var/lib/berth-bench/bundle/rootfs"#' /var/lib/berth-bench/bundle/config.json > ${FLOOR_DIR}/config.json && grep -q CONTAINER-OUTPUT ${FLOOR_DIR}/config.json`,
    );
    const crunMs = await timeFirstOutput(vm, (i) => `${FLOOR_CRUN} run -b ${FLOOR_DIR} floor${i}`, (i) => `${FLOOR_CRUN} delete -f floor${i}`);
    await stop(vm);
    return { first, reboot, memory, console: `${vm.console.text()}\n${report}\n`, firmwareMs: reboot.wallMs - reboot.guestMs, startMs, onRequestMs: [], crunMs };
  } finally {
    await machine.dispose({ keep: false });
  }
}

const cell = (values: readonly number[], unit: (v: number) => string) => {
  if (values.length === 0) return 'n/a';
  const s = stats(values);
  return `${unit(s.min)} / **${unit(s.median)}** / ${unit(s.max)}`;
};
const ratio = (a: readonly number[], b: readonly number[]) => (a.length > 0 && b.length > 0 ? `${(stats(a).median / stats(b).median).toFixed(2)}×` : '');
const msUnit = (ms: number) => `${Math.round(ms)} ms`;
const kbUnit = (kb: number) => mib(kb * 1024);

const image = await loadImage(path.resolve(process.env.BERTH_IMAGE_DIR ?? path.join(REPO_ROOT, 'out/bench-peer/qemu-containers')));
const profile = await loadProfileFile(path.join(REPO_ROOT, 'image-builder/profiles/qemu.yaml'));
const peerImage = buildPeerImage({
  repoRoot: REPO_ROOT,
  outRoot: path.resolve(process.env.BERTH_PEER_DIR ?? path.join(REPO_ROOT, 'out/peer')),
  berthKernelArgs: profile.kernelArgs,
  suite: profile.suite,
  log,
});
if (process.argv.includes('--build-only')) process.exit(0);
const peer: BuiltImage = { ...image, dir: peerImage.dir, qcow2: peerImage.qcow2 };
delete peer.raw;
mkdirSync(OUT, { recursive: true });
const floor = buildFloorImage(image, path.join(OUT, 'floor'));

const floorRuns: Sample[] = [];
const berthRuns: HostRun[] = [];
const peerRuns: HostRun[] = [];
for (let run = 1; run <= RUNS; run += 1) {
  floorRuns.push(await bootFloor(floor, run));
  berthRuns.push(await bootBerth(image, run));
  peerRuns.push(await bootPeer(peer, run));
  log(`run ${run}/${RUNS} done`);
}

const pick = (runs: HostRun[], f: (r: HostRun) => number) => runs.map(f);
const floorWall = floorRuns.map((s) => s.wallMs);
const floorGuest = floorRuns.map((s) => s.guestMs);
const berthManifest = image.manifest as typeof image.manifest & { kernel?: string; rootImage: { dataBytes?: number; treeBytes?: number } };
const accel = (await createMachine({ name: 'bench-peer-accel', image })).accel;

const rows: string[][] = [];
const add = (measure: string, berth: readonly number[], peerValues: readonly number[], floorValues: readonly number[], unit: (v: number) => string = fmtSeconds) =>
  rows.push([measure, cell(berth, unit), cell(peerValues, unit), cell(floorValues, unit), ratio(berth, peerValues), ratio(berth, floorValues)]);
add('first boot: QEMU start → first container output', pick(berthRuns, (r) => r.first.wallMs), pick(peerRuns, (r) => r.first.wallMs), floorWall);
add('reboot: QEMU start → first container output', pick(berthRuns, (r) => r.reboot.wallMs), pick(peerRuns, (r) => r.reboot.wallMs), floorWall);
add('first boot: kernel start → same (guest clock)', pick(berthRuns, (r) => r.first.guestMs), pick(peerRuns, (r) => r.first.guestMs), floorGuest);
add('reboot: kernel start → same (guest clock)', pick(berthRuns, (r) => r.reboot.guestMs), pick(peerRuns, (r) => r.reboot.guestMs), floorGuest);
add(`idle memory ${SETTLE_MS / 1000}s after ready (MemTotal − MemAvailable)`, pick(berthRuns, (r) => r.memory.usedKb), pick(peerRuns, (r) => r.memory.usedKb), [], kbUnit);
const memoryPart = (measure: string, part: (m: IdleMemory) => number) =>
  add(`of it: ${measure}`, pick(berthRuns, (r) => part(r.memory)), pick(peerRuns, (r) => part(r.memory)), [], kbUnit);
memoryPart('anonymous pages (AnonPages: processes\' heaps and stacks)', (m) => m.anonKb);
memoryPart('kernel (SUnreclaim + KernelStack + PageTables + VmallocUsed + Percpu)', (m) => m.kernelKb);
memoryPart('free pages parked on the per-CPU lists (/proc/zoneinfo pagesets count)', (m) => m.perCpuFreeKb);
memoryPart('the rest (shmem, the reserves MemAvailable keeps back, unnamed)', (m) => m.restKb);
add(`root filesystem, compressed (squashfs ${ROOT_SQUASHFS_COMPRESSION.join(' ')}, as berth builds it)`, [berthManifest.rootImage.dataBytes ?? berthManifest.rootImage.sizeBytes], [peerImage.squashfsBytes], [], mib);
add('root filesystem, installed (du -sb of the tree)', berthManifest.rootImage.treeBytes === undefined ? [] : [berthManifest.rootImage.treeBytes], [peerImage.treeBytes], [], mib);
const berthCrun = berthRuns.flatMap((r) => r.crunMs);
const peerCrun = peerRuns.flatMap((r) => r.crunMs);
add(
  'container start → first output: berth engine at boot (Container creating → first output, t_ms) / peer `podman run --rm` on the idle host / floor: bare `crun run` in berth\'s guest',
  berthRuns.flatMap((r) => r.startMs),
  peerRuns.flatMap((r) => r.startMs),
  berthCrun,
  msUnit,
);
add(
  'container start on request → first output: berth `POST /v1/containers/bench/start` on the idle host (request sent → first output, guest clock) / peer `podman run --rm` / floor: bare `crun run` in berth\'s guest',
  berthRuns.flatMap((r) => r.onRequestMs),
  peerRuns.flatMap((r) => r.startMs),
  berthCrun,
  msUnit,
);
add('floor: bare `crun run` of the same image → first output, berth\'s guest / peer\'s guest', berthCrun, peerCrun, [], msUnit);

// Boot timelines of the last run's reboots, on one time scale so they compare at a glance.
const lastBerth = berthRuns[berthRuns.length - 1] as HostRun;
const lastPeer = peerRuns[peerRuns.length - 1] as HostRun;
const berthTimeline = parseBootConsole(lastBerth.console, { firmwareMs: lastBerth.firmwareMs });
const peerTimeline = parseBootConsole(lastPeer.console, { firmwareMs: lastPeer.firmwareMs });
const axisEndMs = Math.max(berthTimeline.endMs, peerTimeline.endMs);
const svgs = {
  berth: path.join(OUT, 'berth-boot.svg'),
  peer: path.join(OUT, 'peer-boot.svg'),
};
writeFileSync(path.join(OUT, 'berth-console.log'), lastBerth.console);
writeFileSync(path.join(OUT, 'peer-console.log'), lastPeer.console);
writeFileSync(svgs.berth, renderBootSvg(berthTimeline, { title: `berth ${image.manifest.version}: reboot to first container output`, axisEndMs }));
writeFileSync(svgs.peer, renderBootSvg(peerTimeline, { title: 'peer: Debian trixie + systemd + podman, reboot to first container output', axisEndMs }));

console.log(
  `\nberth ${image.manifest.version} vs peer (Debian trixie, systemd, podman + crun; kernel ${peerImage.kernel}; berth kernel ${berthManifest.kernel ?? '?'}) vs floor — ` +
    `${RUNS} runs each, accel=${accel}, same QEMU settings, OVMF + systemd-boot for all three\n`,
);
console.log('| measure | berth min / **median** / max | peer min / **median** / max | floor min / **median** / max | berth / peer | berth / floor |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
const headline = (label: string, f: (r: HostRun) => number) =>
  `${label}: berth/peer ${ratio(pick(berthRuns, f), pick(peerRuns, f))}, berth/floor ${ratio(pick(berthRuns, f), label.includes('guest') ? floorGuest : floorWall)}`;
console.log(`\nHeadline (medians), reboot to first container output — ${headline('wall clock', (r) => r.reboot.wallMs)}; ${headline('guest clock', (r) => r.reboot.guestMs)}`);
console.log(`\nfloor: QEMU start → trivial initramfs up (guest clock for the kernel-start rows). Container image: ${BENCH_IMAGE_REF} (busybox-static, one layer), preloaded.`);
console.log(`Boot timelines (last run's reboot, shared time axis):\n  ${path.relative(process.cwd(), svgs.berth)}\n  ${path.relative(process.cwd(), svgs.peer)}`);
