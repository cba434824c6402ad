/**
 * A fake berth machine for shell tests: sysfs/procfs files of a QEMU VM with a virtio
 * disk, and an exec handler that keeps /proc/self/mountinfo in step with mount/umount.
 */
import type { RecordedCall } from '../../../lib/sys/exec.ts';
import { createFakeSys, type FakeSys } from '../../src/sys/fakes.ts';
import { errorCode } from '../../../lib/errors.ts';

export interface FakeMachineOptions {
  /** blkid's answer for the data partition (undefined: blank). */
  dataFsType?: string;
  diskSectors?: number;
  fwCfgConfig?: string;
  savedConfig?: string;
  entries?: string[];
  cmdline?: string;
  /** Exit code e2fsck -p returns. */
  fsckExit?: number;
  /** Commands (file + args joined by spaces) that fail. */
  failing?: RegExp;
  /** Commands that fail the first time only. */
  failingOnce?: RegExp;
  /** The data partition's ext4 superblock (at byte 1024 of /dev/vda4); absent: the device reads as missing. */
  dataSuperblock?: Uint8Array;
  /** Where the ESP's files appear (default /efi; the root image may lack /efi). */
  espDir?: string;
  /** Mounts already present when init starts (the initramfs moves /proc, /sys, /dev). */
  premounted?: { target: string; fsType: string; source: string }[];
}

export interface FakeMachine {
  sys: FakeSys;
  /** Commands run, as `file arg arg`. */
  commands(): string[];
  mounted(): string[];
}

const GiB = 2 * 1024 * 1024;
const BLOCK = '/sys/class/block';
const DEVICES = '/sys/devices/pci0000:00/0000:00:04.0/virtio2/block';

export function createFakeMachine(options: FakeMachineOptions = {}): FakeMachine {
  const mounts: { target: string; fsType: string; source: string }[] = [
    { target: '/', fsType: 'squashfs', source: '/dev/mapper/berth-root' },
    ...(options.premounted ?? []),
  ];
  const partitions: [string, number, string, number, number][] = [
    ['vda1', 1, 'esp', 2048, 262144],
    ['vda2', 2, 'root-a', 264192, 1048576],
    ['vda3', 3, 'root-b', 1312768, 1048576],
    ['vda4', 4, 'data', 2361344, 2 * GiB - 2361344 - 2048 - 33],
  ];
  const files: Record<string, string> = {
    '/proc/uptime': '2.345 1.2\n',
    '/proc/cmdline': options.cmdline ?? 'console=ttyS0,115200 panic=10 berth.slot=a berth.version=1.0.0 berth.roothash=ab berth.verity=1:1:cd\n',
    '/proc/self/oom_score_adj': '0',
    '/proc/sys/kernel/ctrl-alt-del': '1',
    '/proc/sys/kernel/hostname': '(none)',
    [`${BLOCK}/vda/uevent`]: 'MAJOR=254\nMINOR=0\nDEVNAME=vda\nDEVTYPE=disk\n',
    [`${BLOCK}/vda/size`]: `${options.diskSectors ?? 2 * GiB}\n`,
    '/sys/fs/cgroup/cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma misc\n',
    '/sys/fs/cgroup/cgroup.procs': '1\n2\n',
    '/sys/fs/cgroup/cgroup.subtree_control': '',
    '/sys/class/input/event0/device/name': 'Power Button\n',
    '/sys/class/input/event1/device/name': 'AT Translated Set 2 keyboard\n',
    '/sys/class/input/mice/uevent': '',
  };
  for (const [name, n, label, start, size] of partitions) {
    files[`${BLOCK}/${name}/uevent`] = `MAJOR=254\nMINOR=${n}\nDEVNAME=${name}\nDEVTYPE=partition\nPARTN=${n}\nPARTNAME=${label}\n`;
    files[`${BLOCK}/${name}/start`] = `${start}\n`;
    files[`${BLOCK}/${name}/size`] = `${size}\n`;
  }
  if (options.fwCfgConfig !== undefined) files['/sys/firmware/qemu_fw_cfg/by_name/opt/berth/config/raw'] = options.fwCfgConfig;
  if (options.dataSuperblock !== undefined) files['/dev/vda4'] = Buffer.concat([Buffer.alloc(1024), options.dataSuperblock]).toString('latin1');
  if (options.savedConfig !== undefined) files['/var/lib/berth/config.yaml'] = options.savedConfig;
  for (const entry of options.entries ?? ['berth-a+2-1.conf', 'berth-b+3.conf']) files[`${options.espDir ?? '/efi'}/loader/entries/${entry}`] = 'title berth\n';

  // The exec handler needs the fs the fake Sys creates after it.
  const late: { sys?: FakeSys } = {};
  const writeMountInfo = (): void => {
    if (!late.sys || !mounts.some((m) => m.target === '/proc')) return;
    late.sys.fs.files.set(
      '/proc/self/mountinfo',
      mounts.map((m, i) => `${20 + i} 1 0:${i} / ${m.target} rw - ${m.fsType} ${m.source} rw`).join('\n') + '\n',
    );
  };
  const failedOnce = new Set<string>();
  const handler = (call: RecordedCall): { exitCode?: number; stdout?: string } | Error | undefined => {
    const line = [call.file, ...call.args].join(' ');
    if (options.failing?.test(line)) return Object.assign(new Error(`${line} failed`), { code: errorCode('EXEC_EXIT_NONZERO') });
    if (options.failingOnce?.test(line) && !failedOnce.has(line)) {
      failedOnce.add(line);
      return Object.assign(new Error(`${line} failed`), { code: errorCode('EXEC_EXIT_NONZERO') });
    }
    const base = call.file.split('/').pop();
    if (base === 'mount' && call.args[0] === '-t') {
      const target = call.args.at(-1) ?? '';
      mounts.push({ target, fsType: call.args[1] ?? '', source: call.args.at(-2) ?? '' });
      writeMountInfo();
    } else if (base === 'mount' && call.args[0] === '--all' && call.args[1] === '--fstab') {
      // Each line mounted in order, as util-linux does; `failing` can name one line's target.
      const fstab = late.sys?.fs.files.get(call.args[2] ?? '') ?? '';
      let failed = false;
      for (const entry of fstab.split('\n').filter(Boolean)) {
        const [source = '', target = '', fsType = ''] = entry.split(' ');
        if (options.failing?.test(`mount --all ${target}`)) failed = true;
        else mounts.push({ target, fsType, source });
      }
      writeMountInfo();
      if (failed) return Object.assign(new Error(`${line} failed`), { code: errorCode('EXEC_EXIT_NONZERO') });
    } else if (base === 'umount') {
      const target = call.args.at(-1);
      const index = mounts.findIndex((m) => m.target === target);
      if (index >= 0) mounts.splice(index, 1);
      writeMountInfo();
    } else if (base === 'blkid') {
      return options.dataFsType === undefined ? { exitCode: 2 } : { stdout: `${options.dataFsType}\n` };
    } else if (base === 'dumpe2fs') {
      if (options.dataFsType !== 'ext4') return Object.assign(new Error('dumpe2fs: Bad magic number in super-block'), { code: errorCode('EXEC_EXIT_NONZERO') });
      return { stdout: `Block count:              ${Math.floor(((partitions[3]?.[4] ?? 0) * 512) / 4096)}\nBlock size:               4096\n` };
    } else if (base === 'e2fsck') {
      return { exitCode: call.args.includes('-p') ? (options.fsckExit ?? 0) : 1 };
    }
    return undefined;
  };
  const sys = createFakeSys({
    files,
    dirs: ['/proc', '/sys', '/dev', '/run', '/tmp', '/var', '/etc', options.espDir ?? '/efi', '/sys/firmware/efi', '/sys/fs/cgroup'],
    exec: handler,
  });
  late.sys = sys;
  for (const [name] of [['vda'], ...partitions]) {
    sys.fs.links.set(`${BLOCK}/${name}`, name === 'vda' ? `${DEVICES}/vda` : `${DEVICES}/vda/${name}`);
  }
  writeMountInfo();
  const machine: FakeMachine = {
    sys,
    commands: () => sys.exec.calls.map((call) => [call.file, ...call.args].join(' ')),
    mounted: () => mounts.map((m) => m.target),
  };
  return machine;
}

/** Waits until `condition` holds (the fakes resolve on the next turns of the event loop). */
export async function eventually(condition: () => boolean, turns = 500): Promise<boolean> {
  for (let i = 0; i < turns; i++) {
    if (condition()) return true;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return condition();
}
