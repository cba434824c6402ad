import t from 'tap';
import { parseLogLine } from '../../../lib/log.ts';
import { EV_KEY, KEY_POWER, encodeInputEvent } from '../../src/core/input-event.ts';
import { Init } from '../../src/init.ts';
import { Router } from '../../src/api/core/router.ts';
import { createInitLog } from '../../src/logging.ts';
import { createFakeMachine, eventually, type FakeMachine, type FakeMachineOptions } from './fake-machine.ts';
import { ext4Superblock } from './ext4-fixture.ts';

function start(options: FakeMachineOptions & { exitForRestart?: () => void } = {}): { machine: FakeMachine; init: Init; log: ReturnType<typeof createInitLog> } {
  const { exitForRestart, ...machineOptions } = options;
  const machine = createFakeMachine(machineOptions);
  const log = createInitLog(machine.sys.console, machine.sys.clock);
  const init = new Init({ sys: machine.sys, pid: 2, log, graceMs: 1000, ...(exitForRestart !== undefined ? { exitForRestart } : {}) });
  return { machine, init, log };
}

const messages = (lines: string[]): string[] => lines.filter((l) => l.startsWith('level=')).map((l) => parseLogLine(l).msg ?? '');

void t.test('first boot: mounts, modules, cgroups, mkfs, /etc overlay, config, ready, bless', async (t) => {
  const { machine, init } = start({ diskSectors: 8 * 2 * 1024 * 1024, fwCfgConfig: 'hostname: web1\n' });
  await init.boot();
  const console = machine.sys.console.lines;
  t.ok(console.includes('BERTH-READY slot=a version=1.0.0 boot_ms=2345'), 'the readiness line, exactly');
  t.ok(await eventually(() => messages(console).includes('Boot entry blessed')));
  t.matchSnapshot(machine.commands(), 'commands run');
  t.notOk(messages(console).includes('Cannot read data filesystem size'), "dumpe2fs's failure on the blank partition (run beside blkid) is not reported");
  t.same(machine.mounted(), ['/', '/proc', '/sys', '/dev', '/dev/pts', '/dev/shm', '/run', '/tmp', '/sys/fs/cgroup', '/var', '/sys/firmware/efi/efivars', '/etc']);
  const fs = machine.sys.fs;
  t.equal(fs.files.get('/proc/sys/kernel/hostname'), 'web1');
  t.equal(fs.files.get('/proc/self/oom_score_adj'), '-1000');
  t.equal(fs.files.get('/proc/sys/kernel/ctrl-alt-del'), '0');
  t.equal(fs.files.get('/sys/fs/cgroup/init.scope/cgroup.procs'), '2');
  t.equal(fs.files.get('/var/lib/berth/config.yaml'), 'hostname: web1\n', 'a valid fw_cfg config is saved');
  t.ok(fs.files.has('/efi/loader/entries/berth-a.conf'));
  t.notOk(fs.files.has('/efi/loader/entries/berth-a+2-1.conf'));
  t.ok(fs.files.has('/efi/loader/entries/berth-b+3.conf'), 'the other slot is left alone');
  t.ok(fs.ops.includes('sync-dir /efi/loader/entries'));
  t.notOk(machine.mounted().includes('/efi'), 'the ESP is unmounted after blessing');
  // Stage lines carry t_ms for the boot timeline.
  const stages = console.filter((l) => l.includes('msg="Stage done"')).map((l) => parseLogLine(l));
  t.same(
    stages.map((s) => s.stage),
    [
      'mount-api',
      'kernel-setup',
      'cgroups',
      'mount-var',
      'log-file',
      'modules',
      'mount-efivarfs',
      'mount-etc',
      'config',
      'host-settings',
      'time-sync',
      'power-button',
      'debug-shell',
      'network',
      'dhcp',
    ],
  );
  t.ok(stages.every((s) => s.t_ms === '2345'));
  // Lines from before /var are in the log file too, with a timestamp.
  const fileLines = fs.appended.get('/var/log/berth/init.log') ?? [];
  t.match(fileLines[0], /^time=\S+ level=info component=init msg="Init starting"/);
  t.ok(fileLines.some((l) => l.includes('BERTH-READY')));
});

void t.test("Init starting carries Node's start-up (node_ms, node_bootstrap_ms, node_entry_ms) when main.ts passes it", async (t) => {
  const machine = createFakeMachine({ fwCfgConfig: 'hostname: web1\n' });
  const log = createInitLog(machine.sys.console, machine.sys.clock);
  const init = new Init({ sys: machine.sys, pid: 2, log, graceMs: 1000, nodeStartup: () => ({ bootstrapMs: 1387, entryMs: 2732, nowMs: 5110 }) });
  await init.boot();
  const starting = machine.sys.console.lines.filter((l) => l.includes('msg="Init starting"')).map((l) => parseLogLine(l));
  t.equal(starting.length, 1);
  t.match(starting[0], { t_ms: '2345', node_ms: '5110', node_bootstrap_ms: '1387', node_entry_ms: '2732' });
  // Without it (unit tests, older callers) the line is as before.
  const { machine: plain, init: plainInit } = start({ fwCfgConfig: 'hostname: web1\n' });
  await plainInit.boot();
  const line = plain.sys.console.lines.find((l) => l.includes('msg="Init starting"')) ?? '';
  t.notMatch(line, /node_ms=/);
});

void t.test('later boot: fsck, no mkfs, saved config, mounts moved over by the initramfs are skipped', async (t) => {
  const { machine, init } = start({
    dataFsType: 'ext4',
    savedConfig: 'hostname: saved\n',
    premounted: [
      { target: '/dev', fsType: 'devtmpfs', source: 'devtmpfs' },
      { target: '/proc', fsType: 'proc', source: 'proc' },
      { target: '/sys', fsType: 'sysfs', source: 'sysfs' },
      { target: '/run', fsType: 'tmpfs', source: 'tmpfs' },
    ],
  });
  await init.boot();
  const commands = machine.commands();
  t.same(commands.slice(0, 2), ['/usr/bin/mount --all --fstab /run/berth/mounts.fstab', '/usr/sbin/modprobe -a overlay vfat efivarfs qemu_fw_cfg button evdev virtio_net i6300esb'], 'the rest of the API filesystems in one mount');
  t.equal(
    machine.sys.fs.files.get('/run/berth/mounts.fstab'),
    [
      'devpts /dev/pts devpts nosuid,noexec,gid=5,mode=0620,ptmxmode=0666 0 0',
      'tmpfs /dev/shm tmpfs nosuid,nodev,mode=1777 0 0',
      'tmpfs /tmp tmpfs nosuid,nodev,mode=1777 0 0',
      'cgroup2 /sys/fs/cgroup cgroup2 nosuid,nodev,noexec,nsdelegate,memory_recursiveprot 0 0',
      '',
    ].join('\n'),
  );
  t.same(machine.mounted().slice(0, 9), ['/', '/dev', '/proc', '/sys', '/run', '/dev/pts', '/dev/shm', '/tmp', '/sys/fs/cgroup']);
  t.ok(commands.includes('/usr/sbin/e2fsck -p /dev/vda4'));
  t.notOk(commands.some((c) => c.includes('mkfs')));
  t.notOk(commands.some((c) => c.includes('sfdisk')), 'no growing on the same disk');
  t.notOk(commands.some((c) => / (\/proc|\/sys|\/dev)$/.test(c) && c.startsWith('/usr/bin/mount')), 'moved mounts are not mounted again');
  t.equal(machine.sys.fs.files.get('/proc/sys/kernel/hostname'), 'saved');
  t.notOk(machine.sys.fs.ops.some((op) => op.startsWith('write-atomic')), 'the saved copy is not rewritten');
});

void t.test('a mount the batch could not do is tried alone, and its failure names it', async (t) => {
  const premounted = ['/dev', '/proc', '/sys', '/run'].map((target) => ({ target, fsType: 'tmpfs', source: 'x' }));
  const retried = start({ dataFsType: 'ext4', premounted, failing: /^mount --all \/tmp$/ });
  await retried.init.boot();
  const commands = retried.machine.commands();
  t.same(commands.slice(0, 2), ['/usr/bin/mount --all --fstab /run/berth/mounts.fstab', '/usr/bin/mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp']);
  t.ok(retried.machine.sys.console.lines.some((l) => l.includes('BERTH-READY')), 'mounted alone, the boot goes on');

  const broken = start({ dataFsType: 'ext4', premounted, failing: /(^mount --all \/tmp$)|(^\/usr\/bin\/mount -t tmpfs .* \/tmp$)/ });
  await broken.init.boot();
  const console = broken.machine.sys.console.lines;
  t.ok(console.includes('BERTH-FAILED reason=mount-api:INIT_MOUNT_FAILED'));
  t.ok(console.some((l) => l.includes('Cannot mount tmpfs tmpfs at /tmp')), 'the error names the mount');
});

void t.test('invalid fw_cfg config: problems on the console with line and path, last good config used', async (t) => {
  const { machine, init } = start({ dataFsType: 'ext4', fwCfgConfig: 'hostname: ok\nhostnme: typo\n', savedConfig: 'hostname: lastgood\n' });
  await init.boot();
  const console = machine.sys.console.lines;
  t.ok(console.some((l) => l.includes('BERTH-READY')), 'the machine still comes up');
  const problems = console.filter((l) => l.includes('msg="Config problem"')).map((l) => parseLogLine(l).problem);
  t.same(problems.length, 1);
  t.match(problems[0], /^fw_cfg:opt\/berth\/config:2:1: hostnme: /);
  t.equal(machine.sys.fs.files.get('/proc/sys/kernel/hostname'), 'lastgood');
  t.equal(machine.sys.fs.files.get('/var/lib/berth/config.yaml'), 'hostname: lastgood\n');
});

void t.test('a fatal boot error prints BERTH-FAILED and reboots in order', async (t) => {
  const { machine, init } = start({ dataFsType: 'xfs' });
  await init.boot();
  t.ok(await eventually(() => machine.sys.power.actions.length > 0));
  const console = machine.sys.console.lines;
  t.ok(console.includes('BERTH-FAILED reason=mount-var:INIT_DATA_PARTITION'));
  t.notOk(console.some((l) => l.includes('BERTH-READY')));
  t.same(machine.sys.power.actions, ['reboot']);
  t.ok(messages(console).includes('Shutdown complete'));
  t.equal(init.state, 'shutting-down');
});

void t.test('a missing kernel module is a warning, not a failure', async (t) => {
  const { machine, init } = start({ dataFsType: 'ext4', failing: /modprobe .*qemu_fw_cfg/ });
  await init.boot();
  const console = machine.sys.console.lines;
  t.ok(console.some((l) => l.includes('msg="Kernel module not loaded" module=qemu_fw_cfg')));
  t.ok(console.some((l) => l.includes('BERTH-READY')));
});

void t.test('a cleanly shut down data filesystem: init reads its superblock, and starts no blkid, dumpe2fs or e2fsck', async (t) => {
  const { machine, init } = start({ dataFsType: 'ext4', dataSuperblock: ext4Superblock() });
  await init.boot();
  const commands = machine.commands();
  t.ok(machine.sys.console.lines.some((l) => l.includes('BERTH-READY')));
  t.same(commands.filter((c) => /blkid -p|dumpe2fs|e2fsck/.test(c)), []);
  t.ok(commands.includes('/usr/bin/mount -t ext4 -o noatime /dev/vda4 /var'), '/var mounted');
  t.ok(machine.sys.console.lines.some((l) => l.includes('msg="Data partition"') && l.includes('fs=ext4')));

  const unclean = start({ dataFsType: 'ext4', dataSuperblock: ext4Superblock((view) => view.setUint16(0x3a, 0, true)) });
  await unclean.init.boot();
  t.ok(unclean.machine.commands().includes('/usr/sbin/e2fsck -p /dev/vda4'), 'not cleanly unmounted: e2fsck -p first');
  t.ok(unclean.machine.sys.console.lines.some((l) => l.includes('msg="Data filesystem needs a check"') && l.includes('reason="not cleanly unmounted"')));
  t.notOk(unclean.machine.commands().some((c) => /blkid -p|dumpe2fs/.test(c)), 'its facts still come from the superblock');

  const foreign = start({ dataFsType: 'ext4', dataSuperblock: ext4Superblock((view) => view.setUint32(0x3fc, 1, true), { checksum: false }) });
  await foreign.init.boot();
  t.ok(foreign.machine.commands().some((c) => c.includes('blkid -p')) && foreign.machine.commands().includes('/usr/sbin/e2fsck -p /dev/vda4'), 'a superblock init does not trust goes to the tools');
});

void t.test('a clean superblock the kernel refuses to mount: e2fsck -p, then the mount again', async (t) => {
  const { machine, init } = start({ dataFsType: 'ext4', dataSuperblock: ext4Superblock(), failingOnce: /^\/usr\/bin\/mount -t ext4 .* \/var$/ });
  await init.boot();
  const commands = machine.commands();
  const fsck = commands.indexOf('/usr/sbin/e2fsck -p /dev/vda4');
  t.ok(fsck > 0, 'e2fsck ran');
  t.same(commands.filter((c) => c.endsWith(' /var') && c.includes('mount -t')).length, 2, 'the mount was tried twice');
  t.ok(commands.lastIndexOf('/usr/bin/mount -t ext4 -o noatime /dev/vda4 /var') > fsck, 'the second after the check');
  t.ok(machine.sys.console.lines.some((l) => l.includes('msg="Data filesystem not mounted, checking it"')));
  t.ok(machine.sys.console.lines.some((l) => l.includes('BERTH-READY')));
});

void t.test('uncorrectable fsck errors: forced repair, then failure', async (t) => {
  const repaired = start({ dataFsType: 'ext4', fsckExit: 4 });
  await repaired.init.boot();
  t.ok(repaired.machine.commands().includes('/usr/sbin/e2fsck -f -y /dev/vda4'));
  t.ok(repaired.machine.sys.console.lines.some((l) => l.includes('BERTH-READY')), 'a repair that succeeds lets the boot go on');
  const broken = start({ dataFsType: 'ext4', fsckExit: 8 });
  await broken.init.boot();
  t.ok(broken.machine.sys.console.lines.includes('BERTH-FAILED reason=mount-var:INIT_DATA_PARTITION'));
});

void t.test('SIGTERM: orderly power-off with unmounts in order', async (t) => {
  const { machine, init, log } = start({ dataFsType: 'ext4' });
  await init.boot();
  await eventually(() => messages(machine.sys.console.lines).includes('Boot entry blessed'));
  const before = machine.sys.exec.calls.length;
  await init.requestShutdown('SIGTERM');
  const commands = machine.commands().slice(before);
  t.same(commands, ['/usr/bin/sync', '/usr/bin/umount /etc', '/usr/bin/umount /var']);
  t.same(machine.sys.power.actions, ['poweroff']);
  const console = machine.sys.console.lines;
  const complete = console.findIndex((l) => l.includes('msg="Shutdown complete"'));
  t.ok(complete > 0);
  t.ok(machine.sys.fs.ops.includes('close /var/log/berth/init.log'), 'the log file is closed');
  const fileLines = machine.sys.fs.appended.get('/var/log/berth/init.log') ?? [];
  t.notOk(fileLines.some((l) => l.includes('Shutdown complete')), 'nothing is written to /var after closing');
  // A second request joins the first.
  await init.requestShutdown('SIGINT');
  t.same(machine.sys.power.actions, ['poweroff']);
  void log;
});

void t.test('busy /var is remounted read-only', async (t) => {
  const { machine, init } = start({ dataFsType: 'ext4', failing: /^\/usr\/bin\/umount \/var$/ });
  await init.boot();
  await init.requestShutdown('SIGINT');
  t.ok(machine.commands().includes('/usr/bin/mount -o remount,ro /var'));
  t.same(machine.sys.power.actions, ['reboot']);
});

void t.test('power button press powers off', async (t) => {
  const { machine, init } = start({ dataFsType: 'ext4' });
  await init.boot();
  const stream = machine.sys.devices.streams.get('/dev/input/event0');
  t.ok(stream, 'the Power Button device is watched');
  t.notOk(machine.sys.devices.streams.has('/dev/input/event1'), 'the keyboard is not');
  const press = encodeInputEvent({ seconds: 1, microseconds: 0, type: EV_KEY, code: KEY_POWER, value: 1 });
  stream?.onData(press.slice(0, 10));
  t.same(machine.sys.power.actions, []);
  stream?.onData(press.slice(10));
  t.ok(await eventually(() => machine.sys.power.actions.length > 0));
  t.same(machine.sys.power.actions, ['poweroff']);
});

void t.test('debug shell: stty raw, /bin/sh on the serial line, restarted with backoff, killed at shutdown', async (t) => {
  const { machine, init } = start({ dataFsType: 'ext4', fwCfgConfig: 'debug:\n  shell: ttyS1\n' });
  await init.boot();
  const { processes, devices, console } = machine.sys;
  t.ok(await eventually(() => processes.children.length === 1));
  t.ok(machine.commands().includes('/usr/bin/stty -F /dev/ttyS1 raw -echo'));
  t.same(devices.opened, ['/dev/ttyS1']);
  const first = processes.children[0];
  t.equal(first?.file, '/bin/sh');
  t.same(first?.args, ['+i']);
  t.equal(first?.options.newSession, true);
  t.ok(await eventually(() => machine.sys.fs.files.get(`/proc/${first?.pid}/oom_score_adj`) === '0'), 'the shell is OOM-killable again');
  t.ok(console.lines.some((l) => l.startsWith('level=warn') && l.includes('Debug shell enabled')), 'a root shell is a warning');
  first?.exit({ code: 0, signal: null });
  t.ok(await eventually(() => processes.children.length === 2), 'restarted after exit');
  t.ok(machine.sys.clock.sleeps.includes(500), 'after a short backoff');
  await init.requestShutdown('SIGTERM');
  t.ok(processes.kills.some((k) => k.pid === -(processes.children[1]?.pid ?? 0) && k.signal === 'SIGKILL'), 'the shell group is killed');
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(processes.children.length, 2, 'not restarted after shutdown');
});

void t.test('a bad kernel command line fails the boot', async (t) => {
  const { machine, init } = start({ dataFsType: 'ext4', cmdline: 'console=ttyS0' });
  await init.boot();
  t.ok(machine.sys.console.lines.includes('BERTH-FAILED reason=kernel-setup:INIT_CMDLINE_INVALID'));
});

void t.test('an unexpected error once the host is up ends init for berth-pid1 to restart, no reboot', async (t) => {
  let exits = 0;
  const { machine, init } = start({
    dataFsType: 'ext4',
    exitForRestart: () => {
      exits += 1;
    },
  });
  await init.boot();
  init.handleUnexpected(new Error('boom'), 'uncaughtException');
  t.equal(exits, 1);
  await new Promise((resolve) => setImmediate(resolve));
  t.same(machine.sys.power.actions, [], 'no power action');
  t.ok(machine.sys.console.lines.some((l) => l.includes('msg="Unexpected error"') && l.includes('action=restart-init')));
});

void t.test('unexpected errors without a way to restart init lead to an orderly reboot', async (t) => {
  const { machine, init } = start({ dataFsType: 'ext4' });
  await init.boot();
  init.handleUnexpected(new Error('boom'), 'uncaughtException');
  t.ok(await eventually(() => machine.sys.power.actions.length > 0));
  t.same(machine.sys.power.actions, ['reboot']);
  t.ok(machine.sys.console.lines.some((l) => l.includes('msg="Unexpected error"') && l.includes('error=boom')));
});

void t.test('a shutdown during boot waits for the running stage, then skips the rest', async (t) => {
  const { machine, init } = start({ dataFsType: 'ext4' });
  const booting = init.boot();
  const stopping = init.requestShutdown('SIGTERM');
  await booting;
  await stopping;
  t.notOk(machine.sys.console.lines.some((l) => l.includes('BERTH-READY')));
  t.same(machine.sys.power.actions, ['poweroff']);
});

void t.test('blessing uses the ESP where it is mounted already, else a fallback when the root lacks /efi', async (t) => {
  const mounted = start({ dataFsType: 'ext4', espDir: '/boot/efi', premounted: [{ target: '/boot/efi', fsType: 'vfat', source: '/dev/vda1' }] });
  await mounted.init.boot();
  t.ok(await eventually(() => mounted.machine.sys.fs.files.has('/boot/efi/loader/entries/berth-a.conf')));
  t.notOk(mounted.machine.commands().some((c) => c.includes('-t vfat') || c.includes('umount')), 'not mounted again, not unmounted');

  const fallback = start({ dataFsType: 'ext4', espDir: '/run/berth/efi' });
  await fallback.init.boot();
  t.ok(await eventually(() => fallback.machine.sys.fs.files.has('/run/berth/efi/loader/entries/berth-a.conf')));
  t.ok(fallback.machine.commands().includes('/usr/bin/mount -t vfat -o nosuid,nodev,noexec,umask=0077 /dev/vda1 /run/berth/efi'));
  t.ok(fallback.machine.commands().includes('/usr/bin/umount /run/berth/efi'));
});

void t.test('an already blessed entry is left alone', async (t) => {
  const { machine, init } = start({ dataFsType: 'ext4', entries: ['berth-a.conf', 'berth-b+3.conf'] });
  await init.boot();
  t.ok(await eventually(() => machine.sys.console.lines.some((l) => l.includes('msg="Boot entry not renamed"'))));
  t.notOk(machine.sys.fs.ops.some((op) => op.startsWith('rename /efi')));
});

void t.test('a log file that cannot be opened costs the file, not the boot', async (t) => {
  const { machine, init } = start({ dataFsType: 'ext4' });
  machine.sys.fs.failWrites.set('/var/log/berth/init.log', Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' }));
  await init.boot();
  const console = machine.sys.console.lines;
  t.ok(console.some((l) => l.includes('msg="Setting not applied" setting=log-file')));
  t.ok(console.some((l) => l.includes('BERTH-READY')));
});

void t.test('a failed boot waits a moment before rebooting', async (t) => {
  const { machine, init } = start({ dataFsType: 'xfs' });
  await init.boot();
  t.ok(machine.sys.clock.sleeps.includes(3000));
});

void t.test('services plug in: started with the config before READY, stopped at shutdown', async (t) => {
  const machine = createFakeMachine({ dataFsType: 'ext4', fwCfgConfig: 'hostname: svc\n' });
  const log = createInitLog(machine.sys.console, machine.sys.clock);
  const calls: string[] = [];
  const init = new Init({
    sys: machine.sys,
    pid: 2,
    log,
    services: {
      start(config) {
        calls.push(`start ${config.hostname} ready=${machine.sys.console.lines.some((l) => l.includes('BERTH-READY'))}`);
        return Promise.resolve();
      },
      stopAll(graceMs) {
        calls.push(`stop ${graceMs}`);
        return Promise.resolve();
      },
    },
    graceMs: 1234,
  });
  await init.boot();
  await init.requestShutdown('SIGTERM');
  t.same(calls, ['start svc ready=false', 'stop 1234']);
});

void t.test('the API starts while the DHCP lease is awaited; the services start after it', async (t) => {
  const machine = createFakeMachine({ dataFsType: 'ext4' });
  // An Ethernet interface whose DHCP never answers: the wait runs to its cap.
  for (const dir of ['/sys/class/net', '/sys/class/net/eth0', '/sys/class/net/eth0/device']) machine.sys.fs.dirs.add(dir);
  machine.sys.fs.files.set('/sys/class/net/eth0/type', '1\n');
  const dhcpSettled = () => machine.sys.console.lines.some((l) => l.includes('msg="No DHCP address yet, continuing in the background"'));
  const events: string[] = [];
  const init = new Init({
    sys: machine.sys,
    pid: 2,
    log: createInitLog(machine.sys.console, machine.sys.clock),
    graceMs: 1000,
    startApi: () => {
      events.push(`api dhcp_settled=${dhcpSettled()}`);
      return Promise.resolve({ router: new Router(), listeners: [], close: () => Promise.resolve() });
    },
    services: {
      start() {
        events.push(`services dhcp_settled=${dhcpSettled()}`);
        return Promise.resolve();
      },
      stopAll: () => Promise.resolve(),
    },
  });
  await init.boot();
  t.same(events, ['api dhcp_settled=false', 'services dhcp_settled=true']);
  const stages = machine.sys.console.lines.filter((l) => l.includes('msg="Stage done"')).map((l) => parseLogLine(l).stage);
  t.same(stages.slice(-4), ['network', 'api', 'dhcp', 'services']);
  // The shutdown stops the address poll, which the fake clock would otherwise run forever.
  await init.requestShutdown('SIGTERM');
});

void t.test('boot health decides blessing: bad reboots, indeterminate leaves the counter', async (t) => {
  for (const status of ['bad', 'indeterminate'] as const) {
    const machine = createFakeMachine({ dataFsType: 'ext4' });
    const init = new Init({
      sys: machine.sys,
      pid: 2,
      log: createInitLog(machine.sys.console, machine.sys.clock),
      health: { verdict: () => Promise.resolve({ status, reason: 'critical container web failed' }) },
    });
    await init.boot();
    await eventually(() => machine.sys.console.lines.some((l) => l.includes('msg="Boot status"')));
    if (status === 'bad') t.ok(await eventually(() => machine.sys.power.actions.includes('reboot')), 'bad: reboot');
    else t.same(machine.sys.power.actions, [], 'indeterminate: keeps running');
    t.ok(machine.sys.fs.files.has('/efi/loader/entries/berth-a+2-1.conf'), `${status}: not blessed`);
  }
});

void t.test('a failure to grow the data partition is a warning: the boot goes on at the old size', async (t) => {
  const { machine, init } = start({ diskSectors: 8 * 2 * 1024 * 1024, failing: /sfdisk --relocate/ });
  await init.boot();
  const commands = machine.commands();
  t.notOk(commands.some((c) => c.includes('-N 4') || c.includes('partx')), 'later growth steps are skipped');
  t.ok(commands.includes('/usr/sbin/mkfs.ext4 -q -L berth-data /dev/vda4'));
  t.ok(machine.sys.console.lines.some((l) => l.includes('msg="Data partition not grown" step=relocate-gpt')));
  t.ok(machine.sys.console.lines.some((l) => l.includes('BERTH-READY')));
});

void t.test('the status banner follows BERTH-READY, with the containers the services report', async (t) => {
  const machine = createFakeMachine({ dataFsType: 'ext4', fwCfgConfig: 'hostname: banner\ntime_zone: Europe/Berlin\n' });
  const log = createInitLog(machine.sys.console, machine.sys.clock);
  const init = new Init({
    sys: machine.sys,
    pid: 2,
    log,
    services: {
      containers: () => Promise.resolve([{ name: 'web', state: 'running', health: 'healthy' }]),
      stopAll: () => Promise.resolve(),
    },
  });
  await init.boot();
  const lines = machine.sys.console.lines;
  await eventually(() => lines.includes('berth 1.0.0 on slot a, host banner'));
  const ready = lines.findIndex((l) => l.startsWith('BERTH-READY'));
  const banner = lines.indexOf('berth 1.0.0 on slot a, host banner');
  t.ok(ready >= 0 && banner > ready, 'the banner comes after the readiness line');
  t.ok(lines.includes('  containers  web (running, healthy)'));
  t.ok(lines.some((l) => /^ {2}time\s+Europe\/Berlin, no NTP servers configured$/.test(l)));
  t.ok(lines.includes('  no network interfaces configured'), 'the fake machine has no NIC');
});

void t.test('the banner waits for starting containers to settle, and is shown anyway after a minute', async (t) => {
  for (const [name, answers, expected] of [
    ['settles', [[{ name: 'web', state: 'running', health: 'starting' }], [{ name: 'web', state: 'restarting' }], [{ name: 'web', state: 'running', health: 'healthy' }]], '  containers  web (running, healthy)'],
    ['never settles', [[{ name: 'web', state: 'running', health: 'starting' }]], '  containers  web (running, starting)'],
  ] as const) {
    const machine = createFakeMachine({ dataFsType: 'ext4', fwCfgConfig: 'hostname: banner\n' });
    const log = createInitLog(machine.sys.console, machine.sys.clock);
    let asked = 0;
    const init = new Init({
      sys: machine.sys,
      pid: 2,
      log,
      services: {
        containers: () => Promise.resolve(answers[Math.min(asked++, answers.length - 1)]?.map((c) => ({ ...c })) ?? []),
        stopAll: () => Promise.resolve(),
      },
    });
    const startedMs = machine.sys.clock.monotonicMs();
    await init.boot();
    const lines = machine.sys.console.lines;
    t.ok(await eventually(() => lines.includes(expected), 5000), `${name}: ${expected.trim()}`);
    t.equal(lines.filter((l) => l.startsWith('berth 1.0.0 on slot a')).length, 1, `${name}: one banner`);
    const waitedMs = machine.sys.clock.monotonicMs() - startedMs;
    if (name === 'settles') t.equal(asked, 3, 'asked until settled');
    else t.ok(waitedMs >= 60_000, `never settles: shown after the minute (${waitedMs} ms of fake time)`);
  }
});
