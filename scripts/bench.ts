// Boot benchmark: berth's default image against a floor, under the same QEMU settings
// (firmware, machine, CPU, memory, accelerator): the floor is the same kernel, booted by
// the same systemd-boot, with a trivial initramfs that prints its uptime and powers off.
// Prints min/median/max and the berth/floor ratio; absolute times on shared machines are
// noise, ratios are the headline.
import { statSync } from 'node:fs';
import path from 'node:path';
import { type BuiltImage, createMachine, DEBUG_SHELL_CONFIG, loadImage, REPO_ROOT, type Vm } from '../vm/src/index.ts';
import { benchContainers, containersTable, prepareBigImage, type ContainerRun } from './bench/containers.ts';
import { benchUpdate, checkUpdateImages, updateTable, VARIANTS, type UpdateRun, type Variant } from './bench/update.ts';
import { benchRuns, BOOT_TIMEOUT_MS, bootFloor, buildFloorImage, mib, row as benchRow, sh, type Sample } from './bench/common.ts';

const RUNS = benchRuns();

/** Guest clock from the initramfs's "Root mounted" line to init's "Init starting": Node's start-up and loading berth.mjs. */
interface RootToInit {
  totalMs: number;
  /** Split by the Init starting line's figures (Node's clock): root mounted → Node's process start (the initramfs's tail, switch_root, berth-pid1), Node's bootstrap, the module loader to berth.mjs, and init's bundle loaded. */
  toProcessMs: number;
  bootstrapMs: number;
  loaderMs: number;
  bundleMs: number;
}

async function rootToInit(vm: Vm): Promise<RootToInit> {
  const root = await vm.waitFor(/msg="Root mounted through dm-verity" .*?t_ms=(\d+)/, BOOT_TIMEOUT_MS);
  const init = await vm.waitFor(/msg="Init starting" .*?t_ms=(\d+) node_ms=(\d+) node_bootstrap_ms=(\d+) node_entry_ms=(\d+)/, BOOT_TIMEOUT_MS);
  const [rootMs, initMs, nodeMs, bootstrapMs, entryMs] = [root.match[1], ...init.match.slice(1, 5)].map(Number) as [number, number, number, number, number];
  return { totalMs: initMs - rootMs, toProcessMs: initMs - nodeMs - rootMs, bootstrapMs, loaderMs: entryMs - bootstrapMs, bundleMs: nodeMs - entryMs };
}

/** PID 1's memory (berth-pid1 + init's Node) right after BERTH-READY, and init's Node alone: anonymous memory (heaps, stacks) and file pages (mostly its binary). */
interface Pid1Memory {
  rssKb: number;
  nodeAnonKb: number;
  nodeFileKb: number;
}

async function pid1Memory(vm: Vm): Promise<Pid1Memory> {
  const shell = await vm.shell();
  const mem = await shell.run('cat /proc/1/status /proc/$(cut -d" " -f1 /proc/1/task/1/children)/status | grep -E "^(VmRSS|RssAnon|RssFile):"');
  const rssKb = [...mem.output.matchAll(/VmRSS:\s+(\d+) kB/g)].reduce((sum, m) => sum + Number(m[1]), 0);
  // Node's own split (the second status): its heaps and stacks, and the pages of the mapped binary it touched.
  const nodeAnonKb = Number([...mem.output.matchAll(/RssAnon:\s+(\d+) kB/g)].at(-1)?.[1] ?? NaN);
  const nodeFileKb = Number([...mem.output.matchAll(/RssFile:\s+(\d+) kB/g)].at(-1)?.[1] ?? NaN);
  return { rssKb, nodeAnonKb, nodeFileKb };
}

interface BerthBoots {
  first: Sample;
  second: Sample;
  /** After the first boot (Node from the bundle) and the reboot (from init's startup snapshot). */
  firstMemory: Pid1Memory;
  secondMemory: Pid1Memory;
  /** Root mounted → Init starting, first boot (nothing kept) and reboot (from the startup snapshot). */
  firstRootToInit: RootToInit;
  secondRootToInit: RootToInit;
}

async function bootBerth(image: BuiltImage, run: number): Promise<BerthBoots> {
  const machine = await createMachine({ name: `bench-berth-${run}`, image, config: DEBUG_SHELL_CONFIG });
  try {
    let started = performance.now();
    let vm = await machine.boot();
    let ready = await vm.waitForReady(BOOT_TIMEOUT_MS);
    const first = { wallMs: performance.now() - started, guestMs: ready.bootMs };
    const firstRootToInit = await rootToInit(vm);
    const firstMemory = await pid1Memory(vm);
    // The reboot starts from init's startup snapshot only once init built it (after the code cache, 10 s after READY).
    await vm.waitFor(/msg="Startup snapshot saved"/, 240_000);
    await vm.powerdown();
    started = performance.now();
    vm = await machine.boot();
    ready = await vm.waitForReady(BOOT_TIMEOUT_MS);
    const second = { wallMs: performance.now() - started, guestMs: ready.bootMs };
    const secondRootToInit = await rootToInit(vm);
    const secondMemory = await pid1Memory(vm);
    await vm.powerdown();
    return { first, second, firstMemory, secondMemory, firstRootToInit, secondRootToInit };
  } finally {
    await machine.dispose({ keep: false });
  }
}

const row = (label: string, values: number[], floor?: number[], unit?: (v: number) => string) =>
  benchRow(label, values, [floor], unit);

/** BERTH_BENCH_ONLY=boot|containers|update runs one part (default: all). */
const only = process.env.BERTH_BENCH_ONLY;
if (only !== undefined && !['boot', 'containers', 'update'].includes(only)) throw new Error(`BERTH_BENCH_ONLY must be boot, containers or update, got '${only}'`);
const image = await loadImage();
const accel = (await createMachine({ name: 'bench-accel', image })).accel;
if (only === undefined || only === 'boot') await benchBoot();
if (only === undefined || only === 'containers') await benchContainerHost();
if (only === undefined || only === 'update') await benchUpdates();

/** BERTH_BENCH_UPDATE_VARIANTS=unthrottled,throttled,paced picks the update variants (default: all). */
function updateVariants(): Variant[] {
  const all = Object.keys(VARIANTS) as Variant[];
  const asked = process.env.BERTH_BENCH_UPDATE_VARIANTS;
  if (asked === undefined || asked === '') return all;
  const picked = asked.split(',').map((v) => v.trim());
  const unknown = picked.filter((v) => !(all as string[]).includes(v));
  if (unknown.length > 0) throw new Error(`BERTH_BENCH_UPDATE_VARIANTS: unknown variant ${unknown.join(', ')}; expected some of ${all.join(', ')}`);
  return picked as Variant[];
}

/** Updates (issue 4) on the update test's images (BERTH_UPDATE_DIR, default out/update): each variant once per run. */
async function benchUpdates(): Promise<void> {
  const updateDir = process.env.BERTH_UPDATE_DIR ?? path.join(REPO_ROOT, 'out/update');
  await checkUpdateImages(updateDir);
  const updateImage = await loadImage(path.join(updateDir, 'qemu-update'));
  const runs: UpdateRun[] = [];
  for (let run = 1; run <= RUNS; run += 1) {
    for (const variant of updateVariants()) runs.push(await benchUpdate(updateImage, updateDir, variant, run));
  }
  console.log(updateTable(runs, updateImage, accel));
}

/** Containers (issue 3) on the image with the test image preloaded (BERTH_CONTAINERS_IMAGE_DIR, default out/qemu-containers). */
async function benchContainerHost(): Promise<void> {
  const containersImage = await loadImage(process.env.BERTH_CONTAINERS_IMAGE_DIR ?? path.join(REPO_ROOT, 'out/qemu-containers'));
  const big = await prepareBigImage();
  try {
    const runs: ContainerRun[] = [];
    for (let run = 1; run <= RUNS; run += 1) runs.push(await benchContainers(containersImage, big, run));
    console.log(containersTable(runs, containersImage, accel));
  } finally {
    big.stop();
  }
}

async function benchBoot(): Promise<void> {
  const floor = buildFloorImage(image, path.join(REPO_ROOT, 'out/bench/floor'));
  const floorSamples: Sample[] = [];
  const berthFirst: Sample[] = [];
  const berthSecond: Sample[] = [];
  const firstMemory: Pid1Memory[] = [];
  const secondMemory: Pid1Memory[] = [];
  const firstRootToInit: RootToInit[] = [];
  const secondRootToInit: RootToInit[] = [];
  for (let run = 1; run <= RUNS; run += 1) {
    floorSamples.push(await bootFloor(floor, run));
    const b = await bootBerth(image, run);
    berthFirst.push(b.first);
    berthSecond.push(b.second);
    firstMemory.push(b.firstMemory);
    secondMemory.push(b.secondMemory);
    firstRootToInit.push(b.firstRootToInit);
    secondRootToInit.push(b.secondRootToInit);
    process.stderr.write(`run ${run}/${RUNS} done\n`);
  }
  const allocated = (file: string) => Number(sh('du', ['-B1', file]).split('\t')[0]);
  console.log(`\nberth ${image.manifest.version} boot benchmark — ${RUNS} runs each, accel=${accel}, same QEMU settings for berth and floor\n`);
  console.log('| measure | min | median | max | berth / floor (median) |');
  console.log('|---|---|---|---|---|');
  console.log(row('floor: QEMU start → initramfs up', floorSamples.map((s) => s.wallMs)));
  console.log(row('floor: kernel start → initramfs up (guest clock)', floorSamples.map((s) => s.guestMs)));
  console.log(row('berth first boot: QEMU start → BERTH-READY', berthFirst.map((s) => s.wallMs), floorSamples.map((s) => s.wallMs)));
  console.log(row('berth first boot: kernel start → BERTH-READY (boot_ms)', berthFirst.map((s) => s.guestMs), floorSamples.map((s) => s.guestMs)));
  console.log(row('berth reboot: QEMU start → BERTH-READY', berthSecond.map((s) => s.wallMs), floorSamples.map((s) => s.wallMs)));
  console.log(row('berth reboot: kernel start → BERTH-READY (boot_ms)', berthSecond.map((s) => s.guestMs), floorSamples.map((s) => s.guestMs)));
  const part = (runs: RootToInit[], key: keyof RootToInit) => runs.map((r) => r[key]);
  console.log(row('berth first boot: root mounted → Init starting (guest clock; Node start-up, nothing kept yet)', part(firstRootToInit, 'totalMs')));
  console.log(row("berth reboot: root mounted → Init starting (from init's startup snapshot) / first boot", part(secondRootToInit, 'totalMs'), part(firstRootToInit, 'totalMs')));
  console.log(row('of it, reboot: root mounted → Node process start (initramfs tail, switch_root, berth-pid1) / first boot', part(secondRootToInit, 'toProcessMs'), part(firstRootToInit, 'toProcessMs')));
  console.log(row("of it, reboot: Node's V8 and bootstrap (Node's clock) / first boot", part(secondRootToInit, 'bootstrapMs'), part(firstRootToInit, 'bootstrapMs')));
  console.log(row('of it, reboot: module loader → berth.mjs (none from the snapshot) / first boot', part(secondRootToInit, 'loaderMs'), part(firstRootToInit, 'loaderMs')));
  console.log(row("of it, reboot: init's bundle loaded (berth.mjs or the snapshot's main → Init starting) / first boot", part(secondRootToInit, 'bundleMs'), part(firstRootToInit, 'bundleMs')));
  const memory = (runs: Pid1Memory[], key: keyof Pid1Memory) => runs.map((m) => m[key]);
  const inMib = (kb: number) => mib(kb * 1024);
  console.log(row('PID 1 memory after the first boot (berth-pid1 + node RSS)', memory(firstMemory, 'rssKb'), undefined, inMib));
  console.log(row("of it init's Node, anonymous (RssAnon: heaps, stacks)", memory(firstMemory, 'nodeAnonKb'), undefined, inMib));
  console.log(row("of it init's Node, file pages (RssFile: the binary's touched pages)", memory(firstMemory, 'nodeFileKb'), undefined, inMib));
  console.log(row("PID 1 memory after a reboot (Node from init's startup snapshot)", memory(secondMemory, 'rssKb'), undefined, inMib));
  console.log(row("of it init's Node, anonymous (RssAnon: heaps, stacks)", memory(secondMemory, 'nodeAnonKb'), undefined, inMib));
  console.log(row("of it init's Node, file pages (RssFile: the binary's touched pages)", memory(secondMemory, 'nodeFileKb'), undefined, inMib));
  console.log('\n| size | bytes |');
  console.log('|---|---|');
  console.log(`| root image (squashfs + verity), per slot | ${mib(image.manifest.rootImage.sizeBytes)} |`);
  console.log(`| root tree installed | ${mib((image.manifest.rootImage as { treeBytes?: number }).treeBytes ?? 0)} |`);
  console.log(`| disk.raw (apparent / allocated) | ${mib(statSync(path.join(image.dir, 'disk.raw')).size)} / ${mib(allocated(path.join(image.dir, 'disk.raw')))} |`);
  console.log(`| disk.qcow2 | ${mib(statSync(image.qcow2).size)} |`);
  console.log(`| initrd.img | ${mib(statSync(path.join(image.dir, 'initrd.img')).size)} |`);
}
