import t from 'tap';
import { bootIdentity } from '../../../src/core/boot-identity.ts';
import { attemptAfterRun, backoffDelayMs } from '../../../../lib/retry.ts';
import { SHELL_RESTART_POLICY, planDebugShell } from '../../../src/core/debug-shell.ts';
import { INIT_KERNEL_MODULES, modprobeAllArgv, modprobeArgv } from '../../../src/core/kernel-modules.ts';
import { parseUptimeMs } from '../../../src/core/uptime.ts';
import { errorCode } from '../../../../lib/errors.ts';

void t.test('uptime in ms since kernel start', (t) => {
  t.equal(parseUptimeMs('12.34 45.67\n'), 12340);
  t.equal(parseUptimeMs('3 1'), 3000);
  t.equal(parseUptimeMs(''), undefined);
  t.equal(parseUptimeMs('x y'), undefined);
  t.end();
});

void t.test('slot and version from the kernel command line', (t) => {
  t.same(bootIdentity('console=ttyS0 berth.slot=b berth.version=1.2.3 berth.roothash=ab quiet'), { slot: 'b', version: '1.2.3' });
  t.throws(() => bootIdentity('berth.slot=c berth.version=1'), { code: errorCode('INIT_CMDLINE_INVALID') });
  t.throws(() => bootIdentity('berth.slot=a'), { code: errorCode('INIT_CMDLINE_INVALID'), message: /berth\.version/ });
  t.end();
});

void t.test('debug shell plan', (t) => {
  t.equal(planDebugShell(undefined), undefined);
  t.matchSnapshot(planDebugShell('ttyS1'), 'ttyS1');
  t.throws(() => planDebugShell('../sda'), { code: errorCode('CONFIG_INVALID') });
  t.end();
});

void t.test('debug shell restart backoff', (t) => {
  const restartAfter = (attempt: number, ranForMs: number): number => backoffDelayMs(SHELL_RESTART_POLICY, attemptAfterRun(SHELL_RESTART_POLICY, attempt, ranForMs));
  t.equal(restartAfter(0, 0), 500);
  t.equal(restartAfter(1, 100), 1000);
  t.equal(restartAfter(6, 100), 30_000, 'capped at 30 s');
  t.equal(restartAfter(6, 60_000), 500, 'a shell that ran a while restarts quickly');
  t.end();
});

void t.test('kernel modules init loads', (t) => {
  t.same([...INIT_KERNEL_MODULES], ['overlay', 'vfat', 'efivarfs', 'qemu_fw_cfg', 'button', 'evdev', 'virtio_net', 'i6300esb']);
  t.same(modprobeArgv('vfat'), ['vfat']);
  t.same(modprobeAllArgv(['vfat']), ['vfat']);
  t.same(modprobeAllArgv(['overlay', 'vfat']), ['-a', 'overlay', 'vfat']);
  t.end();
});
