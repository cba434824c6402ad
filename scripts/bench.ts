// Boot benchmark: berth's default image against a floor, under the same QEMU settings
// (firmware, machine, CPU, memory, accelerator): the floor is the same kernel, booted by
// the same systemd-boot, with a trivial initramfs that prints its uptime and powers off.
// Prints min/median/max and the berth/floor ratio; absolute times on shared machines are
// noise, ratios are the headline.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, statSync, writeFileSync, copyFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { loadImage, REPO_ROOT, type BuiltImage } from '../qemu-tests/harness/image.ts';
import { createMachine, DEBUG_SHELL_CONFIG } from '../qemu-tests/harness/vm.ts';

const RUNS = Number(process.env.BERTH_BENCH_RUNS ?? 3);
const BOOT_TIMEOUT_MS = 240_000;

function sh(file: string, args: string[], options: { input?: string; cwd?: string } = {}): string {
  return execFileSync(file, args, { encoding: 'utf8', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' }, ...options });
}

/** A GPT disk with only an ESP: systemd-boot, berth's kernel and a power-off-at-once initramfs. */
function buildFloorImage(image: BuiltImage, dir: string): BuiltImage {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const initramfs = path.join(dir, 'initramfs');
  for (const d of ['bin', 'dev', 'proc']) mkdirSync(path.join(initramfs, d), { recursive: true });
  copyFileSync('/usr/bin/busybox', path.join(initramfs, 'bin/busybox'));
  for (const applet of ['sh', 'mount', 'poweroff', 'echo']) symlinkSync('busybox', path.join(initramfs, 'bin', applet));
  sh('mknod', [path.join(initramfs, 'dev/console'), 'c', '5', '1']);
  writeFileSync(
    path.join(initramfs, 'init'),
    '#!/bin/sh\nexport PATH=/bin\nmount -t proc proc /proc\nread -r up _ < /proc/uptime\necho "FLOOR-READY uptime_s=$up"\npoweroff -f\n',
  );
  chmodSync(path.join(initramfs, 'init'), 0o755);
  const initrd = path.join(dir, 'floor.img');
  execFileSync('/bin/sh', ['-c', `cd '${initramfs}' && find . | cpio --quiet -o -H newc -R 0:0 | zstd -q -19 > '${initrd}'`]);
  const entry = image.manifest.artifacts['disk.raw'] ? readEntryOptions(image) : 'console=ttyS0,115200 quiet loglevel=3';
  const esp = path.join(dir, 'esp.img');
  sh('mkfs.vfat', ['-C', '-n', 'ESP', esp, String(64 * 1024)]);
  for (const d of ['EFI', 'EFI/BOOT', 'loader', 'loader/entries']) sh('mmd', ['-i', esp, `::/${d}`]);
  writeFileSync(path.join(dir, 'loader.conf'), 'timeout 0\ndefault floor*\n');
  writeFileSync(path.join(dir, 'floor.conf'), `title floor\nlinux /vmlinuz\ninitrd /floor.img\noptions ${entry}\n`);
  const put = (src: string, dest: string) => sh('mcopy', ['-i', esp, '-o', src, `::/${dest}`]);
  put('/usr/lib/systemd/boot/efi/systemd-bootx64.efi', 'EFI/BOOT/BOOTX64.EFI');
  put(path.join(image.dir, 'vmlinuz'), 'vmlinuz');
  put(initrd, 'floor.img');
  put(path.join(dir, 'loader.conf'), 'loader/loader.conf');
  put(path.join(dir, 'floor.conf'), 'loader/entries/floor.conf');
  const raw = path.join(dir, 'disk.raw');
  sh('truncate', ['-s', String(70 * 1024 * 1024), raw]);
  sh('sfdisk', ['--quiet', raw], { input: 'label: gpt\nstart=2048, size=131072, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"\n' });
  sh('dd', [`if=${esp}`, `of=${raw}`, 'bs=1M', 'seek=1', 'conv=notrunc', 'status=none']);
  const qcow2 = path.join(dir, 'disk.qcow2');
  sh('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow2]);
  return { ...image, dir, qcow2, raw };
}

/** The kernel arguments of berth's slot entries minus berth's own keys: same console, same verbosity. */
function readEntryOptions(image: BuiltImage): string {
  const esp = image.partition('esp');
  const out = sh('/bin/sh', ['-c', `dd if='${image.raw}' bs=1M skip=${esp.startBytes / 1048576} count=${esp.sizeBytes / 1048576} status=none > /tmp/berth-bench-esp.img && mtype -i /tmp/berth-bench-esp.img ::/loader/entries/berth-a+3.conf`]);
  const options = /^options (.*)$/m.exec(out)?.[1] ?? '';
  return options.split(' ').filter((a) => !a.startsWith('berth.')).join(' ');
}

interface Sample {
  wallMs: number;
  guestMs: number;
}

function stats(values: number[]): { min: number; median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { min: sorted[0] as number, median, max: sorted[sorted.length - 1] as number };
}

async function bootFloor(floor: BuiltImage, run: number): Promise<Sample> {
  const machine = await createMachine({ name: `bench-floor-${run}`, image: floor, extraDiskBytes: 0 });
  try {
    const started = performance.now();
    const vm = await machine.boot();
    const match = await vm.waitFor(/FLOOR-READY uptime_s=([\d.]+)/, BOOT_TIMEOUT_MS);
    const wallMs = performance.now() - started;
    await vm.waitForExit(60_000).catch(() => vm.kill());
    return { wallMs, guestMs: Number(match.match[1]) * 1000 };
  } finally {
    await machine.dispose({ keep: false });
  }
}

async function bootBerth(image: BuiltImage, run: number): Promise<{ first: Sample; second: Sample; rssKb: number }> {
  const machine = await createMachine({ name: `bench-berth-${run}`, image, config: DEBUG_SHELL_CONFIG });
  try {
    let started = performance.now();
    let vm = await machine.boot();
    let ready = await vm.waitForReady(BOOT_TIMEOUT_MS);
    const first = { wallMs: performance.now() - started, guestMs: ready.bootMs };
    const shell = await vm.shell();
    const mem = await shell.run('cat /proc/1/status /proc/$(cut -d" " -f1 /proc/1/task/1/children)/status | grep VmRSS');
    const rssKb = [...mem.output.matchAll(/VmRSS:\s+(\d+) kB/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    await vm.powerdown();
    started = performance.now();
    vm = await machine.boot();
    ready = await vm.waitForReady(BOOT_TIMEOUT_MS);
    const second = { wallMs: performance.now() - started, guestMs: ready.bootMs };
    await vm.powerdown();
    return { first, second, rssKb };
  } finally {
    await machine.dispose({ keep: false });
  }
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)}s`;
const row = (label: string, values: number[], floor?: number[], unit: (v: number) => string = fmt) => {
  const s = stats(values);
  const ratio = floor ? ` | ${(s.median / stats(floor).median).toFixed(2)}×` : ' | ';
  return `| ${label} | ${unit(s.min)} | ${unit(s.median)} | ${unit(s.max)}${ratio} |`;
};

const image = await loadImage();
const floor = buildFloorImage(image, path.join(REPO_ROOT, 'out/bench/floor'));
const floorSamples: Sample[] = [];
const berthFirst: Sample[] = [];
const berthSecond: Sample[] = [];
const rss: number[] = [];
for (let run = 1; run <= RUNS; run += 1) {
  floorSamples.push(await bootFloor(floor, run));
  const b = await bootBerth(image, run);
  berthFirst.push(b.first);
  berthSecond.push(b.second);
  rss.push(b.rssKb);
  process.stderr.write(`run ${run}/${RUNS} done\n`);
}
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
const allocated = (file: string) => Number(sh('du', ['-B1', file]).split('\t')[0]);
const accel = (await createMachine({ name: 'bench-accel', image })).accel;
console.log(`\nberth ${image.manifest.version} boot benchmark — ${RUNS} runs each, accel=${accel}, same QEMU settings for berth and floor\n`);
console.log('| measure | min | median | max | berth / floor (median) |');
console.log('|---|---|---|---|---|');
console.log(row('floor: QEMU start → initramfs up', floorSamples.map((s) => s.wallMs)));
console.log(row('floor: kernel start → initramfs up (guest clock)', floorSamples.map((s) => s.guestMs)));
console.log(row('berth first boot: QEMU start → BERTH-READY', berthFirst.map((s) => s.wallMs), floorSamples.map((s) => s.wallMs)));
console.log(row('berth first boot: kernel start → BERTH-READY (boot_ms)', berthFirst.map((s) => s.guestMs), floorSamples.map((s) => s.guestMs)));
console.log(row('berth reboot: QEMU start → BERTH-READY', berthSecond.map((s) => s.wallMs), floorSamples.map((s) => s.wallMs)));
console.log(row('berth reboot: kernel start → BERTH-READY (boot_ms)', berthSecond.map((s) => s.guestMs), floorSamples.map((s) => s.guestMs)));
console.log(row('PID 1 memory after boot (tini + node RSS)', rss, undefined, (kb) => mib(kb * 1024)));
console.log('\n| size | bytes |');
console.log('|---|---|');
console.log(`| root image (squashfs + verity), per slot | ${mib(image.manifest.rootImage.sizeBytes)} |`);
console.log(`| root tree installed | ${mib((image.manifest.rootImage as { treeBytes?: number }).treeBytes ?? 0)} |`);
console.log(`| disk.raw (apparent / allocated) | ${mib(statSync(path.join(image.dir, 'disk.raw')).size)} / ${mib(allocated(path.join(image.dir, 'disk.raw')))} |`);
console.log(`| disk.qcow2 | ${mib(statSync(image.qcow2).size)} |`);
console.log(`| initrd.img | ${mib(statSync(path.join(image.dir, 'initrd.img')).size)} |`);
