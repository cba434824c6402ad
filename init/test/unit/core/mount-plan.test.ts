import t from 'tap';
import {
  espMount,
  fullMountPlan,
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
    ['/proc', '/sys', '/dev', '/dev/pts', '/dev/shm', '/run', '/tmp', '/sys/fs/cgroup', '/sys/firmware/efi/efivars', '/var', '/etc'],
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

void t.test('argv for mount, umount, remount', (t) => {
  t.same(mountArgv(espMount('/dev/vda1')), ['-t', 'vfat', '-o', 'nosuid,nodev,noexec,umask=0077', '/dev/vda1', '/efi']);
  t.match(espMount('/dev/vda1', false), { target: '/run/berth/efi', createTarget: true }, 'fallback when the root has no /efi');
  t.same(umountArgv('/var'), ['/var']);
  t.same(umountArgv('/etc', true), ['-l', '/etc']);
  t.same(remountReadOnlyArgv('/var'), ['-o', 'remount,ro', '/var']);
  t.end();
});
