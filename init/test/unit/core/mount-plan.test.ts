import t from 'tap';
import {
  canMountTogether,
  espMount,
  fstabText,
  fullMountPlan,
  mountAllArgv,
  mountArgv,
  pendingMounts,
  remountReadOnlyArgv,
  umountArgv,
  apiFilesystemMounts,
} from '../../../src/core/mount-plan.ts';
import { parseMountInfo } from '../../../src/core/mountinfo.ts';

void t.test('the full mount table in boot order', (t) => {
  const plan = fullMountPlan({ hasEfi: true, dataDevice: '/dev/vda4' });
  t.same(
    plan.map((spec) => spec.target),
    ['/proc', '/sys', '/dev', '/dev/pts', '/dev/shm', '/run', '/tmp', '/sys/fs/cgroup', '/var', '/sys/firmware/efi/efivars', '/etc'],
  );
  t.matchSnapshot(plan.map((spec) => ['mount', ...mountArgv(spec)].join(' ')), 'mount argv');
  t.end();
});

void t.test('efivarfs only on UEFI machines', (t) => {
  const plan = fullMountPlan({ hasEfi: false, dataDevice: '/dev/sda4' });
  t.notOk(plan.some((spec) => spec.fsType === 'efivarfs'));
  t.equal(plan.find((spec) => spec.target === '/var')?.source, '/dev/sda4');
  t.end();
});

void t.test('cgroup2 is mounted with nsdelegate and memory_recursiveprot', (t) => {
  const cgroup = apiFilesystemMounts().find((spec) => spec.fsType === 'cgroup2');
  t.ok(cgroup?.options.includes('nsdelegate'));
  t.ok(cgroup?.options.includes('memory_recursiveprot'));
  t.end();
});

void t.test('mounts already present (moved over by the initramfs) are skipped', (t) => {
  const mounted = parseMountInfo(
    [
      '1 0 0:1 / / ro - erofs /dev/dm-0 ro',
      '2 1 0:2 / /proc rw - proc proc rw',
      '3 1 0:3 / /dev rw - devtmpfs devtmpfs rw',
    ].join('\n'),
  );
  t.same(
    pendingMounts(apiFilesystemMounts(), mounted).map((spec) => spec.target),
    ['/sys', '/dev/pts', '/dev/shm', '/run', '/tmp', '/sys/fs/cgroup'],
  );
  t.end();
});

void t.test('several pending mounts go to one mount --all when /run holds the fstab and none lies inside another', (t) => {
  const mounted = (...targets: string[]) => parseMountInfo(['1 0 0:1 / / ro - squashfs /dev/dm-0 ro', ...targets.map((target, i) => `${i + 2} 1 0:${i + 2} / ${target} rw - tmpfs tmpfs rw`)].join('\n'));
  const atBoot = mounted('/proc', '/sys', '/dev', '/run');
  const pending = pendingMounts(apiFilesystemMounts(), atBoot);
  t.same(pending.map((spec) => spec.target), ['/dev/pts', '/dev/shm', '/tmp', '/sys/fs/cgroup']);
  t.ok(canMountTogether(pending, atBoot), 'the initramfs moved /proc, /sys, /dev and mounted /run');
  t.notOk(canMountTogether(pending.slice(0, 1), atBoot), 'one mount needs no fstab');
  const noRun = mounted('/proc', '/sys', '/dev');
  t.notOk(canMountTogether(pendingMounts(apiFilesystemMounts(), noRun), noRun), '/run about to be mounted over the fstab');
  const bare = mounted('/proc', '/run');
  t.notOk(canMountTogether(pendingMounts(apiFilesystemMounts(), bare), bare), '/dev/pts inside /dev, both pending');
  t.same(mountAllArgv('/run/berth/mounts.fstab'), ['--all', '--fstab', '/run/berth/mounts.fstab']);
  t.end();
});

void t.test('fstab lines: options joined, defaults when none, fstab(5) escapes', (t) => {
  t.equal(
    fstabText([
      { source: 'tmpfs', target: '/tmp', fsType: 'tmpfs', options: ['nosuid', 'nodev'], createTarget: false },
      { source: '/dev/disk/by-label/my disk', target: '/mnt/a\\b', fsType: 'ext4', options: [], createTarget: true },
    ]),
    'tmpfs /tmp tmpfs nosuid,nodev 0 0\n/dev/disk/by-label/my\\040disk /mnt/a\\134b ext4 defaults 0 0\n',
  );
  t.end();
});

void t.test('argv for mount, umount, remount', (t) => {
  t.same(mountArgv(espMount('/dev/vda1')), ['-t', 'vfat', '-o', 'nosuid,nodev,noexec,umask=0077', '/dev/vda1', '/efi']);
  t.match(espMount('/dev/vda1', false), { target: '/run/berth/efi', createTarget: true }, 'fallback when the root has no /efi');
  t.same(umountArgv('/var'), ['/var']);
  t.same(umountArgv('/etc', true), ['-l', '/etc']);
  t.same(remountReadOnlyArgv('/var'), ['-o', 'remount,ro', '/var']);
  t.end();
});
