import t from 'tap';
import { loadMachineConfig } from '../../config/machine-config.ts';
import { machineConfigProblemsOf as problemsOf } from './config-errors.ts';
import { formatIpv4, gatewayOf, parseIpv4Subnet } from '../../config/sections/container-network.ts';

void t.test('container_network defaults and overrides', (t) => {
  t.same(loadMachineConfig('', 'c').config.container_network, { subnet: '10.88.0.0/16', bridge: 'berth0' });
  t.same(loadMachineConfig('container_network: { subnet: 172.20.4.0/22, bridge: br-apps, mtu: 1450 }', 'c').config.container_network, { subnet: '172.20.4.0/22', bridge: 'br-apps', mtu: 1450 });
  t.end();
});

void t.test('every problem is reported with its path', (t) => {
  const problems = problemsOf('container_network: { subnet: 10.88.0.1/16, bridge: "a/b", mtu: 100, vlan: 3 }');
  t.equal(problems.length, 4);
  t.match(problems[0], /^container_network\.subnet: "10\.88\.0\.1\/16" is not an IPv4 network address/);
  t.match(problems[1], /^container_network\.bridge: expected an interface name/);
  t.match(problems[2], /^container_network\.mtu: expected an integer from 576/);
  t.match(problems[3], /^container_network\.vlan: unknown key/);
  t.end();
});

void t.test('IPv4 subnet arithmetic', (t) => {
  t.same(parseIpv4Subnet('10.88.0.0/16'), { network: 0x0a580000, prefix: 16 });
  t.equal(gatewayOf(parseIpv4Subnet('192.168.100.0/24')!), '192.168.100.1');
  t.equal(formatIpv4(0xffffffff), '255.255.255.255');
  for (const bad of ['10.88.0.0/7', '10.88.0.0/31', '10.88.0.0', '256.1.1.0/24', '10.088.0.0/16', '10.88.0.0/16/1', 'fd00::/64']) t.equal(parseIpv4Subnet(bad), undefined, bad);
  t.end();
});
