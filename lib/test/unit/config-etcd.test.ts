import t from 'tap';
import { loadMachineConfig } from '../../config/machine-config.ts';
import { etcdFleetLockGroup } from '../../config/sections/etcd.ts';
import { machineConfigProblemsOf } from './config-errors.ts';

const MEMBER = [
  'etcd:',
  '  name: n1',
  '  peer_urls: [http://10.0.0.1:2380]',
  '  client_urls: [http://10.0.0.1:2379]',
  '  initial_cluster:',
  '    n1: http://10.0.0.1:2380',
  '    n2: http://10.0.0.2:2380',
  '    n3: http://10.0.0.3:2380',
];

const FLEETLOCK_UPDATE = ['update:', '  server: http://10.0.0.9/releases/', '  strategy: [fleetlock]', '  fleetlock: { url: http://10.0.0.9:8080/, group: etcd-berth-etcd }'];

void t.test('an etcd member is read with its defaults', (t) => {
  const { config, warnings } = loadMachineConfig(MEMBER.join('\n'), 'c');
  t.same(warnings, []);
  t.same(config.etcd, {
    name: 'n1',
    peer_urls: ['http://10.0.0.1:2380'],
    client_urls: ['http://10.0.0.1:2379'],
    initial_cluster: { n1: 'http://10.0.0.1:2380', n2: 'http://10.0.0.2:2380', n3: 'http://10.0.0.3:2380' },
    initial_cluster_state: 'new',
    initial_cluster_token: 'berth-etcd',
  });
  t.equal(loadMachineConfig('', 'c').config.etcd, undefined, 'no etcd section: no member');
  t.end();
});

void t.test('URLs are normalised and bad ones named', (t) => {
  const { config } = loadMachineConfig(MEMBER.join('\n').replace('[http://10.0.0.1:2379]', '["http://10.0.0.1:2379/", "http://[fd00::1]:2379"]'), 'c');
  t.same(config.etcd?.client_urls, ['http://10.0.0.1:2379', 'http://[fd00::1]:2379']);
  const problems = machineConfigProblemsOf(MEMBER.join('\n').replace('[http://10.0.0.1:2379]', '[ftp://10.0.0.1:2379, "http://10.0.0.1", "http://10.0.0.1:2379/v3", nonsense]'));
  t.match(problems, [
    /^etcd\.client_urls\[0\]: "ftp:\/\/10\.0\.0\.1:2379": scheme "ftp" is not http or https/,
    /^etcd\.client_urls\[1\]: .*explicit port/,
    /^etcd\.client_urls\[2\]: .*no path/,
    /^etcd\.client_urls\[3\]: "nonsense" is not a URL/,
  ]);
  t.end();
});

void t.test('a member missing from the initial cluster, or disagreeing with it, is refused', (t) => {
  t.match(machineConfigProblemsOf(MEMBER.join('\n').replace('name: n1', 'name: n4')), [/^etcd\.initial_cluster: member "n4" is missing from initial_cluster \(it names n1, n2, n3\): add n4: http:\/\/10\.0\.0\.1:2380/]);
  t.match(machineConfigProblemsOf(MEMBER.join('\n').replace('n1: http://10.0.0.1:2380', 'n1: http://10.0.0.7:2380')), [/^etcd\.initial_cluster\.n1: .*none of this member's peer_urls/]);
  t.match(machineConfigProblemsOf(MEMBER.join('\n').replace('n3: http://10.0.0.3:2380', 'n3: http://10.0.0.2:2380')), [/^etcd\.initial_cluster\.n3: members "n2" and "n3" share the peer URL/]);
  t.end();
});

void t.test('an even member count is a warning; unknown keys and states are errors', (t) => {
  const { warnings } = loadMachineConfig(MEMBER.slice(0, -1).join('\n'), 'c');
  t.match(warnings.map((w) => `${w.path}: ${w.message}`), [/^etcd\.initial_cluster: an etcd cluster of 2 members/]);
  const problems = machineConfigProblemsOf([...MEMBER, '  initial_cluster_state: fresh', '  data_dir: /tmp'].join('\n'));
  t.match(problems, [/^etcd\.initial_cluster_state: expected one of "new", "existing"/, /^etcd\.data_dir: unknown key/]);
  t.end();
});

void t.test('https needs TLS and TLS needs https', (t) => {
  const https = MEMBER.join('\n').replaceAll('http://', 'https://');
  t.match(machineConfigProblemsOf(https), [
    /^etcd\.peer_urls\[0\]: https:\/\/10\.0\.0\.1:2380 is https but peer_tls is not set/,
    /^etcd\.client_urls\[0\]: https:\/\/10\.0\.0\.1:2379 is https but client_tls is not set/,
    /^etcd\.initial_cluster\.n1: /,
    /^etcd\.initial_cluster\.n2: /,
    /^etcd\.initial_cluster\.n3: /,
  ]);
  const tls = ['  peer_tls: { ca: /etc/etcd/ca.pem, cert: /etc/etcd/peer.pem, key: /etc/etcd/peer-key.pem }', '  client_tls: { ca: /etc/etcd/ca.pem, cert: /etc/etcd/server.pem, key: "-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----\\n" }'];
  t.ok(loadMachineConfig([https, ...tls].join('\n'), 'c').config.etcd?.client_tls, 'https with TLS is accepted');
  t.match(machineConfigProblemsOf([...MEMBER, ...tls].join('\n')), [/^etcd\.peer_urls\[0\]: .*plain http although peer_tls is set/, /^etcd\.client_urls\[0\]: .*plain http although client_tls is set/]);
  t.match(machineConfigProblemsOf([...MEMBER, '  client_tls: { ca: relative.pem, cert: /a, key: /b }'].join('\n')), [/^etcd\.client_tls\.ca: expected PEM text/]);
  t.end();
});

void t.test('an etcd member that updates itself must share the one-slot FleetLock group', (t) => {
  t.equal(etcdFleetLockGroup('berth-etcd'), 'etcd-berth-etcd');
  t.ok(loadMachineConfig([...MEMBER, ...FLEETLOCK_UPDATE].join('\n'), 'c').config.update, 'fleetlock in the shared group is accepted');
  t.notOk(loadMachineConfig(MEMBER.join('\n'), 'c').config.update, 'no update section: the member never updates itself, nothing to require');
  t.match(machineConfigProblemsOf([...MEMBER, 'update:', '  server: http://10.0.0.9/releases/'].join('\n')), [/^update\.strategy: this host is etcd member "n1".*add fleetlock to update\.strategy.*group: etcd-berth-etcd/]);
  t.match(machineConfigProblemsOf([...MEMBER, ...FLEETLOCK_UPDATE].join('\n').replace('group: etcd-berth-etcd', 'group: default')), [/^update\.fleetlock\.group: .*must be "etcd-berth-etcd".*not "default"/]);
  t.match(machineConfigProblemsOf([...MEMBER, '  initial_cluster_token: prod', ...FLEETLOCK_UPDATE].join('\n')), [/^update\.fleetlock\.group: .*must be "etcd-prod"/]);
  t.end();
});

void t.test('fleet_coordinator: TLS or an explicit insecure_http, and an etcd to keep its state in', (t) => {
  const { config } = loadMachineConfig([...MEMBER, 'fleet_coordinator: { tls: { ca: /k/ca.pem, cert: /k/s.pem, key: /k/s.key } }'].join('\n'), 'c');
  t.same(config.fleet_coordinator, { listen: '0.0.0.0:7480', tls: { ca: '/k/ca.pem', cert: '/k/s.pem', key: '/k/s.key' }, insecure_http: false, allow_anonymous_hosts: false, default_slots: 1 });
  t.match(machineConfigProblemsOf([...MEMBER, 'fleet_coordinator: {}'].join('\n')), [/^fleet_coordinator\.tls: the coordinator needs tls/]);
  t.match(machineConfigProblemsOf('fleet_coordinator: { insecure_http: true }'), [/^fleet_coordinator: the coordinator keeps its state in etcd: set fleet_coordinator\.etcd_endpoints, or make this host an etcd member/]);
  t.ok(loadMachineConfig('fleet_coordinator: { insecure_http: true, etcd_endpoints: [http://10.0.0.1:2379] }', 'c').config.fleet_coordinator, 'explicit endpoints without a member');
  t.match(machineConfigProblemsOf('fleet_coordinator: { insecure_http: true, etcd_endpoints: [https://10.0.0.1:2379] }'), [/^fleet_coordinator\.etcd_endpoints\[0\]: .*plain http only/]);
  t.match(machineConfigProblemsOf([...MEMBER, 'fleet_coordinator: { insecure_http: true, listen: "10.0.0.1:99999", default_slots: 0 }'].join('\n')), [/^fleet_coordinator\.listen: /, /^fleet_coordinator\.default_slots: /]);
  t.end();
});
