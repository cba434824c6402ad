import t from 'tap';
import { createMemoryLogger, parseLogLine } from '../../../lib/log.ts';
import { loadMachineConfig } from '../../../lib/config/machine-config.ts';
import { applyKernelSettings, applyTimeZone, startTimeSync } from '../../src/host-settings.ts';
import { ADDRESS_POLL_MS, DHCP_FALLBACK_POLL_MS, DHCP_WAIT_MS, startNetwork } from '../../src/network.ts';
import { superviseDaemon } from '../../src/supervisor.ts';
import { createFakeSys, type FakeExecHandler } from '../../src/sys/fakes.ts';

const configOf = (yaml: string) => loadMachineConfig(yaml, 'c').config;

const NET_FILES = {
  '/sys/class/net/lo/type': '772\n',
  '/sys/class/net/eth0/type': '1\n',
  '/sys/class/net/eth0/device/uevent': '',
  '/sys/class/net/dummy0/type': '1\n',
};

const linkJson = (addrs: object[]): string => JSON.stringify([{ ifname: 'lo', addr_info: [] }, { ifname: 'eth0', addr_info: addrs }]);
const LEASE = { family: 'inet', local: '10.0.2.15', prefixlen: 24, scope: 'global' };

function machine(exec: FakeExecHandler) {
  const sys = createFakeSys({ files: { ...NET_FILES, '/etc/passwd': '_chrony:x:100:101::/var/lib/chrony:/usr/sbin/nologin\n' }, dirs: ['/run', '/etc', '/var/lib'], exec });
  const logger = createMemoryLogger('init');
  const commands = (): string[] => sys.exec.calls.map((c) => [c.file, ...c.args].join(' '));
  const messages = (msg: string) => logger.lines.map((l) => parseLogLine(l)).filter((f) => f.msg === msg);
  return { sys, logger, commands, messages };
}

void t.test('default network: lo and eth0 up, dhcpcd supervised, the lease awaited and logged', async (t) => {
  let readings = 0;
  const m = machine((call) => {
    if (call.args[0] === '-json') return { stdout: linkJson(++readings >= 3 ? [LEASE] : []) };
    return undefined;
  });
  const network = await startNetwork(m.sys, m.logger, configOf('').network);
  t.same(m.commands().filter((c) => !c.includes('-json')), ['/usr/bin/ip link set dev lo up', '/usr/bin/ip link set dev eth0 up'], 'dummy0 (no device) is left alone');
  t.same(
    m.sys.processes.children.map((c) => [c.file, ...c.args].join(' ')),
    ['/usr/bin/ip -oneline monitor address', '/usr/sbin/dhcpcd --config /run/berth/dhcpcd.conf --nobackground --manager'],
  );
  t.match(m.sys.fs.files.get('/run/berth/dhcpcd.conf'), /^allowinterfaces eth0$/m);
  t.ok(m.sys.fs.dirs.has('/var/lib/dhcpcd'));
  t.same(m.messages('Address acquired').map((f) => [f.interface, f.address]), [['eth0', '10.0.2.15/24']]);
  t.same(m.messages('No DHCP address yet, continuing in the background'), []);
  t.same(network.interfaces, ['eth0']);
  t.same(await network.addresses(), [{ interface: 'eth0', family: 4, address: '10.0.2.15/24' }]);

  // An address event from `ip monitor` makes init read the addresses again and log the change.
  readings = 100;
  const monitor = m.sys.processes.children[0];
  const onOutput = monitor?.options.onOutput;
  t.ok(onOutput, 'the monitor output is followed');
  const before = m.sys.exec.calls.length;
  onOutput?.('2: eth0    inet6 fec0::1/64 scope site dynamic');
  await new Promise((resolve) => setImmediate(resolve));
  t.ok(m.sys.exec.calls.length > before, 'a monitor line triggers a reading');
  network.stop();
});

void t.test('DHCP that does not answer delays readiness by the cap only', async (t) => {
  const m = machine((call) => (call.args[0] === '-json' ? { stdout: linkJson([]) } : undefined));
  const network = await startNetwork(m.sys, m.logger, configOf('').network);
  network.stop();
  // The fallback polls of the wait; the slow address poll sleeps 15 s at a time.
  const waited = m.sys.clock.sleeps.filter((ms) => ms <= DHCP_FALLBACK_POLL_MS).reduce((sum, ms) => sum + ms, 0);
  t.equal(waited, DHCP_WAIT_MS, 'waited the cap, not a poll more');
  t.same(m.messages('No DHCP address yet, continuing in the background').map((f) => f.interfaces), ['eth0']);
});

void t.test('an address event from ip monitor ends the DHCP wait at once, before the fallback poll', async (t) => {
  let lease = false;
  const m = machine((call) => (call.args[0] === '-json' ? { stdout: linkJson(lease ? [LEASE] : []) } : undefined));
  const sleeps: number[] = [];
  // A clock whose sleeps never end: only the event can end the wait.
  m.sys.clock.sleep = (ms: number) => {
    sleeps.push(ms);
    return new Promise<void>(() => undefined);
  };
  const starting = startNetwork(m.sys, m.logger, configOf('').network);
  while (sleeps.length === 0) await new Promise((resolve) => setImmediate(resolve));
  t.same(sleeps, [DHCP_FALLBACK_POLL_MS], 'waiting, with the fallback poll pending');
  lease = true;
  m.sys.processes.children[0]?.options.onOutput?.('2: eth0    inet 10.0.2.15/24 brd 10.0.2.255 scope global dynamic eth0');
  const network = await starting;
  t.same(m.messages('Address acquired').map((f) => f.address), ['10.0.2.15/24']);
  t.same(m.messages('No DHCP address yet, continuing in the background'), []);
  network.stop();
});

void t.test('static network: ip argv, resolv.conf, no dhcpcd, no wait; a missing interface is a warning', async (t) => {
  const m = machine((call) => (call.args[0] === '-json' ? { stdout: linkJson([{ ...LEASE, local: '10.0.2.50' }]) } : undefined));
  const start = m.sys.clock.nowMs;
  const network = await startNetwork(
    m.sys,
    m.logger,
    configOf('network:\n  interfaces:\n    eth0: { addresses: [10.0.2.50/24], gateway: 10.0.2.2 }\n    eth9: {}\n  dns: { servers: [10.0.2.3] }\n').network,
  );
  network.stop();
  t.same(m.commands().filter((c) => !c.includes('-json')), [
    '/usr/bin/ip link set dev lo up',
    '/usr/bin/ip link set dev eth0 up',
    '/usr/bin/ip -4 address replace 10.0.2.50/24 dev eth0',
    '/usr/bin/ip -4 route replace default via 10.0.2.2 dev eth0',
  ]);
  t.equal(m.sys.fs.files.get('/etc/resolv.conf'), '# Written by berth init from the machine config (network.dns)\nnameserver 10.0.2.3\n');
  t.same(m.sys.processes.children.map((c) => c.file), ['/usr/bin/ip'], 'only the address monitor');
  t.ok(m.sys.clock.nowMs - start <= ADDRESS_POLL_MS, 'no waiting for DHCP');
  t.same(m.messages('Configured interface not found').map((f) => f.interface), ['eth9']);
  t.same(m.messages('Address acquired').map((f) => f.address), ['10.0.2.50/24']);
});

void t.test('a failing ip command is a warning, not a failed boot', async (t) => {
  const m = machine((call) => (call.args.includes('route') ? new Error('RTNETLINK answers: Network is unreachable') : call.args[0] === '-json' ? { stdout: '[]' } : undefined));
  const network = await startNetwork(m.sys, m.logger, configOf('network:\n  interfaces:\n    eth0: { addresses: [10.0.2.50/24], gateway: 10.0.2.2 }\n').network);
  network.stop();
  t.same(m.messages('Network setting not applied').map((f) => f.command), ['ip -4 route replace default via 10.0.2.2 dev eth0']);
});

void t.test('addresses are also read on a slow poll after boot, until stopped', async (t) => {
  let lease = false;
  const m = machine((call) => (call.args[0] === '-json' ? { stdout: linkJson(lease ? [LEASE] : []) } : undefined));
  const network = await startNetwork(m.sys, m.logger, configOf('').network);
  lease = true;
  const before = m.sys.clock.nowMs;
  while (m.messages('Address acquired').length === 0) await new Promise((resolve) => setImmediate(resolve));
  t.ok(m.sys.clock.nowMs - before >= ADDRESS_POLL_MS, 'found by the poll');
  network.stop();
  const readings = m.sys.exec.calls.length;
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
  t.ok(m.sys.exec.calls.length <= readings + 1, 'no more readings after stop');
});

void t.test('supervised daemons restart with a backoff and stop with SIGTERM', async (t) => {
  const m = machine(() => undefined);
  const daemon = superviseDaemon(m.sys, m.logger, { name: 'dhcpcd', file: '/usr/sbin/dhcpcd', args: ['-B'] });
  t.equal(m.sys.processes.children.length, 1);
  t.equal(daemon.pid, m.sys.processes.children[0]?.pid);
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(m.sys.fs.files.get(`/proc/${daemon.pid}/oom_score_adj`), '0', 'not init\'s -1000');
  m.sys.processes.children[0]?.options.onOutput?.('eth0: leased 10.0.2.15 for 86400 seconds');
  t.same(m.messages('Daemon output').map((f) => [f.daemon, f.line]), [['dhcpcd', 'eth0: leased 10.0.2.15 for 86400 seconds']]);
  for (let i = 0; i < 3; i++) {
    m.sys.processes.children.at(-1)?.exit({ code: 1, signal: null });
    while (m.sys.processes.children.length < i + 2) await new Promise((resolve) => setImmediate(resolve));
  }
  t.same(m.messages('Daemon exited, restarting').map((f) => f.restart_in_ms), ['1000', '2000', '4000']);
  const last = m.sys.processes.children.at(-1);
  const stopping = daemon.stop(5000);
  t.same(m.sys.processes.kills.at(-1), { pid: last?.pid, signal: 'SIGTERM' });
  last?.exit({ code: 0, signal: null });
  await stopping;
  t.equal(m.sys.processes.children.length, 4, 'not restarted after stop');
  t.equal(daemon.pid, undefined);
});

void t.test('a daemon ignoring SIGTERM is killed after the grace period', async (t) => {
  const m = machine(() => undefined);
  const daemon = superviseDaemon(m.sys, m.logger, { name: 'chronyd', file: '/usr/sbin/chronyd', args: [] });
  await daemon.stop(5000);
  t.same(m.sys.processes.kills.map((k) => k.signal), ['SIGTERM', 'SIGKILL']);
  t.same(m.messages('Daemon did not stop in time, killing').length, 1);
});

void t.test('kernel settings: modules, sysctls; failures are counted and logged', async (t) => {
  const m = machine((call) => (call.args.includes('nosuchmod') ? new Error('modprobe: FATAL: Module nosuchmod not found') : undefined));
  m.sys.fs.failWrites.set('/proc/sys/net/ipv4/nope', new Error('ENOENT'));
  const failures = await applyKernelSettings(m.sys, m.logger, configOf('kernel_modules: [br_netfilter, nosuchmod]\nsysctls:\n  net.ipv4.ip_forward: 1\n  net.ipv4.nope: 2\n'));
  t.equal(failures, 2);
  // One modprobe for all; when it fails, one each names the module that failed.
  t.same(m.commands(), ['/usr/sbin/modprobe -a br_netfilter nosuchmod', '/usr/sbin/modprobe br_netfilter', '/usr/sbin/modprobe nosuchmod']);
  t.equal(m.sys.fs.files.get('/proc/sys/net/ipv4/ip_forward'), '1');
  t.same(m.messages('Sysctl not set').map((f) => f.key), ['net.ipv4.nope']);
});

void t.test('time zone: /etc/localtime points into zoneinfo; a zone the image lacks is a warning', async (t) => {
  const m = machine(() => undefined);
  m.sys.fs.files.set('/usr/share/zoneinfo/Europe/Berlin', 'TZif');
  await applyTimeZone(m.sys.fs, m.logger, 'Europe/Berlin');
  t.equal(m.sys.fs.links.get('/etc/localtime'), '/usr/share/zoneinfo/Europe/Berlin');
  t.equal(m.sys.fs.files.get('/etc/timezone'), 'Europe/Berlin\n');
  await applyTimeZone(m.sys.fs, m.logger, 'Asia/Tokyo');
  t.equal(m.sys.fs.links.get('/etc/localtime'), '/usr/share/zoneinfo/Europe/Berlin', 'unchanged');
  t.same(m.messages('Time zone not set: no zone file in the image').map((f) => f.time_zone), ['Asia/Tokyo']);
});

void t.test('time sync: chronyd only with servers, its state directory handed to _chrony', async (t) => {
  const off = machine(() => undefined);
  t.equal(await startTimeSync(off.sys, off.logger, []), undefined);
  t.equal(off.messages('Time sync off: no NTP servers configured (ntp.servers)').length, 1);
  t.same(off.sys.processes.children, []);

  const on = machine(() => undefined);
  const daemon = await startTimeSync(on.sys, on.logger, ['192.0.2.1']);
  t.ok(daemon);
  t.same(on.sys.processes.children.map((c) => [c.file, ...c.args].join(' ')), ['/usr/sbin/chronyd -d -f /run/berth/chrony.conf']);
  t.match(on.sys.fs.files.get('/run/berth/chrony.conf'), /^server 192\.0\.2\.1 iburst$/m);
  t.ok(on.sys.fs.ops.includes('chown /var/lib/chrony 100:101'));
  on.sys.processes.isAlive = () => false;
  const stopping = daemon?.stop(1000);
  on.sys.processes.children[0]?.exit({ code: 0, signal: null });
  await stopping;
});
