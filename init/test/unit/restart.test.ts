import t from 'tap';
import { parseLogLine } from '../../../lib/log.ts';
import { parseInitRestart, parseProcStat, planStaleKills } from '../../src/core/restart.ts';
import { Init } from '../../src/init.ts';
import { createInitLog } from '../../src/logging.ts';
import { createFakeMachine, eventually } from './fake-machine.ts';

void t.test('a restart is read from what berth-pid1 sets; a boot has none', async (t) => {
  t.same(parseInitRestart({ BERTH_INIT_RESTARTS: '2', BERTH_INIT_LAST_EXIT: 'signal:SIGKILL' }), { count: 2, lastExit: 'signal:SIGKILL' });
  t.same(parseInitRestart({ BERTH_INIT_RESTARTS: '1', BERTH_INIT_LAST_EXIT: 'heap-exhausted' }), { count: 1, lastExit: 'heap-exhausted' });
  t.same(parseInitRestart({ BERTH_INIT_RESTARTS: '1', BERTH_INIT_LAST_EXIT: 'a "quoted" thing' }), { count: 1, lastExit: 'unknown' }, 'a reason that would break the console line');
  t.equal(parseInitRestart({}), undefined);
  t.equal(parseInitRestart({ BERTH_INIT_RESTARTS: '0' }), undefined, '0 is the first start');
  t.equal(parseInitRestart({ BERTH_INIT_RESTARTS: 'x' }), undefined);
});

void t.test('stale processes: all of init.scope but this init, the adopted shell session and container monitors', async (t) => {
  t.same(parseProcStat('412 (dhcpcd: [ma) S 1 412 412 0 -1'), { pid: 412, comm: 'dhcpcd: [ma', session: 412 });
  t.same(parseProcStat('9 (a) b) S 1 9 7 0'), { pid: 9, comm: 'a) b', session: 7 });
  t.equal(parseProcStat('garbage'), undefined);
  const processes = [
    { pid: 2, comm: 'node', session: 0 },
    { pid: 300, comm: 'dhcpcd', session: 300 },
    { pid: 301, comm: 'chronyd', session: 301 },
    { pid: 302, comm: 'sh', session: 302 },
    { pid: 303, comm: 'sleep', session: 302 },
    { pid: 304, comm: 'berth-monitor', session: 304 },
    { pid: 305, comm: 'node', session: 0 },
  ];
  t.same(planStaleKills(processes, 2, [302]), [300, 301, 305]);
});

void t.test('a restarted init keeps /var, the config in force and the boot entry, replaces leftovers, and says BERTH-RESTARTED', async (t) => {
  const machine = createFakeMachine({
    dataFsType: 'ext4',
    fwCfgConfig: 'hostname: from-fw-cfg\n',
    savedConfig: 'hostname: in-force\n',
    premounted: ['/proc', '/sys', '/dev', '/sys/fs/cgroup', '/var', '/etc'].map((target) => ({ target, fsType: 'tmpfs', source: 'x' })),
  });
  const files = machine.sys.fs.files;
  files.set('/sys/fs/cgroup/init.scope/cgroup.procs', '2\n300\n304\n');
  files.set('/proc/300/stat', '300 (dhcpcd) S 1 300 300 0 -1');
  files.set('/proc/304/stat', '304 (berth-monitor) S 1 304 304 0 -1');
  const log = createInitLog(machine.sys.console, machine.sys.clock);
  const init = new Init({ sys: machine.sys, pid: 2, log, graceMs: 1000, restart: { count: 1, lastExit: 'signal:SIGKILL' } });
  await init.boot();
  const console = machine.sys.console.lines;
  t.ok(console.includes('BERTH-RESTARTED restarts=1 reason=signal:SIGKILL slot=a version=1.0.0'), 'the restart line');
  t.notOk(console.some((l) => l.startsWith('BERTH-READY')), 'BERTH-READY is the line of a boot');
  const commands = machine.commands();
  t.notOk(commands.some((c) => /mkfs|e2fsck|sfdisk|resize2fs/.test(c)), 'the data partition is left alone');
  t.equal(files.get('/proc/sys/kernel/hostname'), 'in-force', 'the config in force, not the source taken over again');
  t.same(machine.sys.processes.kills, [{ pid: 300, signal: 'SIGKILL' }], 'the old dhcpcd goes, the container monitor stays');
  const messages = (): string[] => console.filter((l) => l.startsWith('level=')).map((l) => parseLogLine(l).msg ?? '');
  t.ok(await eventually(() => messages().includes('Boot entry left as is')));
  t.ok(files.has('/efi/loader/entries/berth-a+2-1.conf'), 'the boot entry is not blessed by a restart');
});
