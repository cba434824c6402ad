import t from 'tap';
import { loadMachineConfig } from '../../../../lib/config/machine-config.ts';
import { diffAddresses, hasDhcpAddresses, parseIpAddresses, planNetwork, renderResolvConf, wiredInterfaces, type DiscoveredInterface } from '../../../src/core/network-plan.ts';

const networkOf = (yaml: string) => loadMachineConfig(yaml, 'c').config.network;

const FOUND: DiscoveredInterface[] = [
  { name: 'lo', type: 772, hasDevice: false, isWireless: false },
  { name: 'eth1', type: 1, hasDevice: true, isWireless: false },
  { name: 'eth0', type: 1, hasDevice: true, isWireless: false },
  { name: 'wlan0', type: 1, hasDevice: true, isWireless: true },
  { name: 'docker0', type: 1, hasDevice: false, isWireless: false },
  { name: 'dummy0', type: 1, hasDevice: false, isWireless: false },
  { name: 'sit0', type: 776, hasDevice: false, isWireless: false },
];

void t.test('wired interfaces: Ethernet with a device, not Wi-Fi, not virtual', (t) => {
  t.same(wiredInterfaces(FOUND), ['eth0', 'eth1']);
  t.end();
});

void t.test('default plan: every wired interface up with DHCP, DNS from DHCP', (t) => {
  const plan = planNetwork(networkOf(''), FOUND);
  t.same(plan.loopback, ['link', 'set', 'dev', 'lo', 'up']);
  t.same(plan.dhcpInterfaces, ['eth0', 'eth1']);
  t.same(
    plan.interfaces.map((i) => i.commands),
    [[['link', 'set', 'dev', 'eth0', 'up']], [['link', 'set', 'dev', 'eth1', 'up']]],
  );
  t.equal(plan.resolvConf, undefined);
  t.same(plan.missing, []);
  t.end();
});

void t.test('static plan: ip argv for addresses, gateway and routes; listed interfaces only', (t) => {
  const plan = planNetwork(
    networkOf(
      [
        'network:',
        '  interfaces:',
        '    eth0:',
        '      addresses: [10.0.2.50/24, "fd00::5/64"]',
        '      gateway: 10.0.2.2',
        '      mtu: 1400',
        '      routes:',
        '        - { to: 192.168.0.0/16, via: 10.0.2.1, metric: 50 }',
        '        - { to: "fd01::/48", via: "fd00::1" }',
        '        - { to: default, via: "fe80::1" }',
        '    eth2: { dhcp: true }',
        '  dns: { servers: [10.0.2.3], search: [example.test] }',
      ].join('\n'),
    ),
    FOUND,
  );
  t.matchSnapshot(plan, 'static plan');
  t.same(plan.dhcpInterfaces, [], 'eth1 is not listed, eth2 is missing');
  t.same(plan.missing, ['eth2']);
  t.equal(plan.resolvConf, '# Written by berth init from the machine config (network.dns)\nnameserver 10.0.2.3\nsearch example.test\n');
  t.end();
});

void t.test('a listed interface without addresses gets DHCP; dhcp: true adds it to static ones', (t) => {
  const plan = planNetwork(networkOf('network:\n  interfaces:\n    eth0: {}\n    eth1: { dhcp: true, addresses: [10.1.0.5/16] }\n'), FOUND);
  t.same(plan.dhcpInterfaces, ['eth0', 'eth1']);
  t.same(plan.interfaces[1]?.commands[1], ['-4', 'address', 'replace', '10.1.0.5/16', 'dev', 'eth1']);
  t.end();
});

void t.test('resolv.conf only with servers', (t) => {
  t.equal(renderResolvConf({ servers: [], search: [] }), undefined);
  t.equal(renderResolvConf({ servers: ['1.1.1.1', '2606:4700::1111'], search: [] }), '# Written by berth init from the machine config (network.dns)\nnameserver 1.1.1.1\nnameserver 2606:4700::1111\n');
  t.end();
});

const IP_JSON = JSON.stringify([
  { ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' }] },
  {
    ifname: 'eth0',
    addr_info: [
      { family: 'inet', local: '10.0.2.15', prefixlen: 24, scope: 'global', dynamic: true },
      { family: 'inet6', local: 'fec0::5054:ff:fe12:3456', prefixlen: 64, scope: 'site' },
      { family: 'inet6', local: '2001:db8::5', prefixlen: 64, scope: 'global', tentative: true },
      { family: 'inet6', local: 'fe80::5054:ff:fe12:3456', prefixlen: 64, scope: 'link' },
    ],
  },
  { ifname: 'eth1', addr_info: [] },
]);

void t.test('addresses from ip -json: global and site scope, not lo, link-local or tentative', (t) => {
  t.same(parseIpAddresses(IP_JSON), [
    { interface: 'eth0', family: 4, address: '10.0.2.15/24' },
    { interface: 'eth0', family: 6, address: 'fec0::5054:ff:fe12:3456/64' },
  ]);
  t.same(parseIpAddresses('not json'), []);
  t.same(parseIpAddresses('{}'), []);
  t.end();
});

void t.test('acquired and lost addresses; DHCP readiness needs IPv4 on each DHCP interface', (t) => {
  const a = { interface: 'eth0', family: 4 as const, address: '10.0.2.15/24' };
  const b = { interface: 'eth0', family: 6 as const, address: 'fec0::1/64' };
  const c = { interface: 'eth1', family: 4 as const, address: '10.0.3.15/24' };
  t.same(diffAddresses([a, b], [b, c]), { acquired: [c], lost: [a] });
  t.same(diffAddresses([a], [a]), { acquired: [], lost: [] });
  t.ok(hasDhcpAddresses(['eth0'], [a]));
  t.notOk(hasDhcpAddresses(['eth0'], [b]), 'SLAAC alone is not a lease');
  t.notOk(hasDhcpAddresses(['eth0', 'eth1'], [a]));
  t.ok(hasDhcpAddresses([], []));
  t.end();
});
