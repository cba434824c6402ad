import t from 'tap';
import { isBerthError } from '../../errors.ts';
import { loadMachineConfig } from '../../config/machine-config.ts';
import { machineConfigErrorOf as problemsOf } from './config-errors.ts';
import { ipFamily, parseCidr } from '../../config/sections/network.ts';
import { TIME_ZONE_NAMES } from '../../config/sections/time-zones.ts';

void t.test('defaults: DHCP everywhere, no DNS override, no NTP, UTC, no sysctls or modules', (t) => {
  const { config } = loadMachineConfig('', 'c');
  t.same(config.network, { dns: { servers: [], search: [] } });
  t.notOk('interfaces' in config.network, 'no interfaces key: every wired interface gets DHCP');
  t.same(config.ntp, { servers: [] });
  t.equal(config.time_zone, 'UTC');
  t.same(config.sysctls, {});
  t.same(config.kernel_modules, []);
  t.end();
});

void t.test('a full host config is read', (t) => {
  const { config, warnings } = loadMachineConfig(
    [
      'network:',
      '  interfaces:',
      '    eth0:',
      '      addresses: [10.0.2.50/24, "fd00::5/64"]',
      '      gateway: 10.0.2.2',
      '      mtu: 9000',
      '      routes:',
      '        - { to: 192.168.0.0/16, via: 10.0.2.1, metric: 100 }',
      '        - { to: default, via: "fd00::1" }',
      '    eth1: { dhcp: true }',
      '  dns:',
      '    servers: [10.0.2.3, "2001:db8::53"]',
      '    search: [example.com, corp.example.com]',
      'ntp: { servers: [pool.ntp.org, 192.0.2.1, "2001:db8::123"] }',
      'time_zone: America/Argentina/Buenos_Aires',
      'sysctls:',
      '  net.ipv4.ip_forward: 1',
      '  net.ipv4.conf.eth0.rp_filter: "2"',
      '  net.ipv4.tcp_rmem: 4096 87380 6291456',
      'kernel_modules: [br_netfilter, overlay]',
    ].join('\n'),
    'c',
  );
  t.same(warnings, []);
  t.same(config.network.interfaces?.eth0, {
    addresses: ['10.0.2.50/24', 'fd00::5/64'],
    gateway: '10.0.2.2',
    mtu: 9000,
    routes: [
      { to: '192.168.0.0/16', via: '10.0.2.1', metric: 100 },
      { to: 'default', via: 'fd00::1' },
    ],
  });
  t.same(config.network.interfaces?.eth1, { dhcp: true, addresses: [], routes: [] });
  t.same(config.network.dns, { servers: ['10.0.2.3', '2001:db8::53'], search: ['example.com', 'corp.example.com'] });
  t.same(config.ntp.servers, ['pool.ntp.org', '192.0.2.1', '2001:db8::123']);
  t.equal(config.time_zone, 'America/Argentina/Buenos_Aires');
  t.same(config.sysctls, { 'net.ipv4.ip_forward': '1', 'net.ipv4.conf.eth0.rp_filter': '2', 'net.ipv4.tcp_rmem': '4096 87380 6291456' }, 'numbers become strings');
  t.same(config.kernel_modules, ['br_netfilter', 'overlay']);
  t.end();
});

void t.test('every problem in the host sections is reported with path and line', (t) => {
  const error = problemsOf(
    [
      'network:', // 1
      '  interfaces:', // 2
      '    eth0:', // 3
      '      addresses: [10.0.2.50, 10.0.2.51/33]', // 4
      '      gateway: 10.0.2.256', // 5
      '      routes:', // 6
      '        - { to: 10.1.0.0/16, via: "fd00::2" }', // 7
      '        - { via: 10.0.2.1 }', // 8
      '      mtux: 1500', // 9
      '    "this-name-is-too-long": {}', // 10
      '    eth1: { gateway: 10.0.2.2 }', // 11
      '  dns:', // 12
      '    search: [example.com]', // 13
      '  dhcp: true', // 14
      'ntp: { servers: ["not a host"], pool: x }', // 15
      'time_zone: europe/berlin', // 16
      'sysctls:', // 17
      '  /proc/sys/vm/swappiness: 10', // 18
      '  vm.overcommit_memory: true', // 19
      '  kernel.core_pattern: [a]', // 20
      'kernel_modules: ["../evil", "-r"]', // 21 (an option to modprobe)
    ].join('\n'),
  );
  t.ok(isBerthError(error, 'CONFIG_INVALID'));
  t.same(
    error.problems.map((p) => [p.path, p.line]),
    [
      ['network.interfaces.eth0.addresses[0]', 4],
      ['network.interfaces.eth0.addresses[1]', 4],
      ['network.interfaces.eth0.gateway', 5],
      ['network.interfaces.eth0.routes[0].via', 7],
      ['network.interfaces.eth0.routes[1]', 8],
      ['network.interfaces.eth0.mtux', 9],
      ['network.interfaces.this-name-is-too-long', 10],
      ['network.interfaces.eth1.gateway', 11],
      ['network.dns.search', 13],
      ['network.dhcp', 14],
      ['ntp.servers[0]', 15],
      ['ntp.pool', 15],
      ['time_zone', 16],
      ['sysctls["/proc/sys/vm/swappiness"]', 18],
      ['sysctls["vm.overcommit_memory"]', 19],
      ['sysctls["kernel.core_pattern"]', 20],
      ['kernel_modules[0]', 21],
      ['kernel_modules[1]', 21],
    ],
  );
  t.matchSnapshot(error.message, 'message');
  t.end();
});

void t.test('a static interface without anything is brought up bare, with a warning', (t) => {
  const { warnings } = loadMachineConfig('network:\n  interfaces:\n    eth0: { dhcp: false }\n', 'c');
  t.equal(warnings.length, 1);
  t.match(warnings[0], { path: 'network.interfaces.eth0', line: 3 });
  t.end();
});

void t.test('time zones: the names of the image\'s tzdata', (t) => {
  for (const zone of ['UTC', 'Etc/UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Etc/GMT+5']) t.ok(TIME_ZONE_NAMES.has(zone), zone);
  for (const zone of ['US/Pacific', 'Mars/Olympus', '../etc/passwd', '']) t.notOk(TIME_ZONE_NAMES.has(zone), `not ${JSON.stringify(zone)}`);
  t.match(problemsOf('time_zone: Mars/Olympus').problems[0]?.message, /unknown time zone "Mars\/Olympus" \(expected an IANA name/);
  t.end();
});

void t.test('addresses and prefixes', (t) => {
  t.same(parseCidr('10.0.2.15/24'), { family: 4, address: '10.0.2.15', prefix: 24 });
  t.same(parseCidr('fd00::5/64'), { family: 6, address: 'fd00::5', prefix: 64 });
  for (const bad of ['10.0.2.15', '10.0.2.15/33', 'fd00::/129', '10.0.2.15/024', 'x/8', '10.0.2.15/24/1', 'fe80::1%eth0/64']) t.equal(parseCidr(bad), undefined, bad);
  t.equal(ipFamily('::1'), 6);
  t.equal(ipFamily('1.2.3'), undefined);
  t.end();
});
