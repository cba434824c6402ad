/**
 * What both benches share: the floor image (berth's kernel behind the same systemd-boot with
 * a trivial initramfs that prints its uptime and powers off), booting it, statistics and
 * table rows. Effects: builds the floor image with mkfs.vfat/mtools/sfdisk/qemu-img, runs VMs.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type BuiltImage, createMachine } from '../../vm/src/index.ts';

export const BOOT_TIMEOUT_MS = 240_000;

/** BERTH_BENCH_RUNS, default 3. */
export function benchRuns(env: NodeJS.ProcessEnv = process.env): number {
  const runs = Number(env.BERTH_BENCH_RUNS ?? 3);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`BERTH_BENCH_RUNS must be a whole number from 1, got '${env.BERTH_BENCH_RUNS}'`);
  return runs;
}

export function sh(file: string, args: string[], options: { input?: string; cwd?: string } = {}): string {
  return execFileSync(file, args, { encoding: 'utf8', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' }, ...options });
}

/** A GPT disk with only an ESP: systemd-boot, berth's kernel and a power-off-at-once initramfs. */
export function buildFloorImage(image: BuiltImage, dir: string): BuiltImage {
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
export function readEntryOptions(image: BuiltImage): string {
  const esp = image.partition('esp');
  const out = sh('/bin/sh', [
    '-c',
    `dd if='${image.raw}' bs=1M skip=${esp.startBytes / 1048576} count=${esp.sizeBytes / 1048576} status=none > /tmp/berth-bench-esp.img && mtype -i /tmp/berth-bench-esp.img ::/loader/entries/berth-a+3.conf`,
  ]);
  const options = /^options (.*)$/m.exec(out)?.[1] ?? '';
  return options.split(' ').filter((a) => !a.startsWith('berth.')).join(' ');
}

/** One boot's figures: wall clock from QEMU start (host) and kernel start (guest clock). */
export interface Sample {
  wallMs: number;
  guestMs: number;
}

export function stats(values: readonly number[]): { min: number; median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { min: sorted[0] as number, median, max: sorted[sorted.length - 1] as number };
}

export async function bootFloor(floor: BuiltImage, run: number): Promise<Sample> {
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

export const fmtSeconds = (ms: number) => `${(ms / 1000).toFixed(2)}s`;
export const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

/** `| label | min | median | max | ratio... |`, each ratio the median over a reference's median. */
export function row(label: string, values: readonly number[], refs: ReadonlyArray<readonly number[] | undefined> = [], unit: (v: number) => string = fmtSeconds): string {
  if (values.length === 0) return `| ${label} | n/a | n/a | n/a |${refs.map(() => ' |').join('')}`;
  const s = stats(values);
  const ratios = refs.map((ref) => (ref && ref.length > 0 ? ` ${(s.median / stats(ref).median).toFixed(2)}× |` : ' |')).join('');
  return `| ${label} | ${unit(s.min)} | ${unit(s.median)} | ${unit(s.max)} |${ratios}`;
}

/**
 * PID 1's memory as the goals count it (berth-pid1 plus init's node): resident now, and the
 * peak since boot (node's VmHWM; berth-pid1 stays at its size), read through the debug shell.
 */
export async function initMemoryKb(shell: { check(command: string): Promise<string> }): Promise<{ rssKb: number; peakKb: number }> {
  const out = await shell.check('cat /proc/1/status /proc/$(cut -d" " -f1 /proc/1/task/1/children)/status | grep -E "^(VmRSS|VmHWM):"');
  const rss = [...out.matchAll(/VmRSS:\s+(\d+) kB/g)].map((m) => Number(m[1]));
  const hwm = [...out.matchAll(/VmHWM:\s+(\d+) kB/g)].map((m) => Number(m[1]));
  if (rss.length !== 2 || hwm.length !== 2) throw new Error(`Cannot read PID 1's memory from:\n${out}`);
  return { rssKb: (rss[0] ?? 0) + (rss[1] ?? 0), peakKb: (rss[0] ?? 0) + (hwm[1] ?? 0) };
}
