import t from 'tap';
import { errorCode, isBerthError } from '../../../lib/errors.ts';
import {
  bridgeNetworkConfigList,
  chainOrder,
  containerAddress,
  derivePluginConfig,
  loopbackNetworkConfigList,
  parseAttachmentRecord,
  parseExtraHost,
  parsePluginOutput,
  planPluginInvocation,
  portMappings,
  renderHostsFile,
  type CniResult,
} from '../../src/core/cni.ts';

const network = { subnet: '10.88.0.0/16', bridge: 'berth0' };
const params = { containerId: 'web', netnsPath: '/run/netns/berth-web', ifname: 'eth0' };

const bridgeResult: CniResult = {
  cniVersion: '1.0.0',
  interfaces: [{ name: 'berth0', mac: '4a:00:00:00:00:01' }, { name: 'veth1234', mac: '4a:00:00:00:00:02' }, { name: 'eth0', mac: '4a:00:00:00:00:03', sandbox: '/run/netns/berth-web' }],
  ips: [{ address: '10.88.0.2/16', gateway: '10.88.0.1', interface: 2 }],
  routes: [{ dst: '0.0.0.0/0' }],
  dns: {},
};

void t.test('network configuration lists', (t) => {
  t.matchSnapshot(bridgeNetworkConfigList(network), 'default bridge network');
  t.matchSnapshot(bridgeNetworkConfigList({ subnet: '172.30.8.0/22', bridge: 'br-c', mtu: 1400 }, { ipamDataDir: '/tmp/ipam' }), 'custom subnet, mtu and IPAM dir');
  t.matchSnapshot(loopbackNetworkConfigList(), 'loopback');
  t.throws(() => bridgeNetworkConfigList({ subnet: '10.88.0.1/16', bridge: 'berth0' }), { code: errorCode('CONFIG_INVALID') });
  t.end();
});

void t.test('Compose ports become portmap mappings', (t) => {
  t.same(portMappings('web', ['8080:80', '127.0.0.1:53:53/udp', '[::1]:8443:443', '9000']), [
    { hostPort: 8080, containerPort: 80, protocol: 'tcp' },
    { hostPort: 53, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' },
    { hostPort: 8443, containerPort: 443, protocol: 'tcp', hostIP: '::1' },
  ]);
  const error = t.throws(() => portMappings('web', ['80-90:80', 'x']));
  t.ok(isBerthError(error, 'CNI_PORT_INVALID'));
  t.match(String(error), /container web: ports\[0\] "80-90:80", ports\[1\] "x"/);
  t.end();
});

void t.test('chains run forward for ADD and CHECK, backward for DEL', (t) => {
  const list = bridgeNetworkConfigList(network);
  t.same(chainOrder(list, 'ADD'), [0, 1, 2]);
  t.same(chainOrder(list, 'CHECK'), [0, 1, 2]);
  t.same(chainOrder(list, 'DEL'), [2, 1, 0]);
  t.end();
});

void t.test('derived plugin configuration follows the spec', (t) => {
  const list = bridgeNetworkConfigList(network);
  list.plugins[0] = { ...list.plugins[0], type: 'bridge', name: 'ignored', cniVersion: '0.3.1' };
  const runtimeConfig = { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' as const }] };
  const first = derivePluginConfig(list, 0, runtimeConfig);
  t.equal(first.name, 'berth', 'the list name replaces the plugin name');
  t.equal(first.cniVersion, '1.0.0', 'the list version replaces the plugin version');
  t.notOk('prevResult' in first, 'the first plugin of an ADD gets no prevResult');
  t.notOk('runtimeConfig' in first, 'bridge declares no capability, so it gets no runtimeConfig');
  const portmap = derivePluginConfig(list, 1, runtimeConfig, bridgeResult);
  t.same(portmap.runtimeConfig, runtimeConfig, 'portmap declares portMappings');
  t.same(portmap.prevResult, bridgeResult);
  t.notOk('runtimeConfig' in derivePluginConfig(list, 1, {}), 'no runtimeConfig without values');
  t.throws(() => derivePluginConfig(list, 7, {}), { code: errorCode('CNI_CONFIG_INVALID') });
  t.end();
});

void t.test('plugin invocations', (t) => {
  const list = bridgeNetworkConfigList(network);
  const runtimeConfig = { portMappings: portMappings('web', ['8080:80']) };
  t.matchSnapshot(planPluginInvocation(list, 0, 'ADD', params, runtimeConfig), 'bridge ADD');
  t.matchSnapshot(planPluginInvocation(list, 1, 'ADD', params, runtimeConfig, bridgeResult), 'portmap ADD with prevResult');
  t.matchSnapshot(planPluginInvocation(list, 2, 'DEL', { ...params, pluginDir: '/opt/cni' }, runtimeConfig, bridgeResult), 'firewall DEL with cached result');
  t.matchSnapshot(planPluginInvocation(loopbackNetworkConfigList(), 0, 'ADD', { ...params, ifname: 'lo' }, {}), 'loopback ADD');
  const bad = { cniVersion: '1.0.0', name: 'x', plugins: [{ type: '../../bin/sh' }] };
  t.throws(() => planPluginInvocation(bad, 0, 'ADD', params, {}), { code: errorCode('CNI_CONFIG_INVALID') });
  t.end();
});

void t.test('plugin results and errors', (t) => {
  const call = { plugin: 'bridge', container: 'web', command: 'ADD' as const };
  t.same(parsePluginOutput({ exitCode: 0, stdout: JSON.stringify(bridgeResult), stderr: '' }, call), bridgeResult);
  t.equal(parsePluginOutput({ exitCode: 0, stdout: '', stderr: '' }, { ...call, command: 'DEL' }), undefined, 'DEL prints nothing that matters');

  const failure = (stdout: string, stderr = ''): string => {
    try {
      parsePluginOutput({ exitCode: 1, stdout, stderr }, call);
    } catch (error) {
      t.ok(isBerthError(error, 'CNI_PLUGIN_FAILED'));
      return (error as Error).message;
    }
    throw new Error('expected a failure');
  };
  t.matchSnapshot(failure(JSON.stringify({ cniVersion: '1.0.0', code: 11, msg: 'failed to allocate for range 0', details: 'no IP addresses available in range set' })), 'well-known error with details');
  t.matchSnapshot(failure(JSON.stringify({ code: 999, msg: 'running [/usr/sbin/iptables -t nat -N CNI-HOSTPORT-DNAT]: exit status 3' })), 'plugin-specific error');
  t.matchSnapshot(failure('', 'panic: runtime error\ngoroutine 1 [running]:'), 'no error object: last stderr line');

  for (const [stdout, what] of [
    ['not json', 'not JSON'],
    ['{"ips":[]}', 'no cniVersion'],
    ['{"cniVersion":"1.0.0","ips":[{"address":"10.88.0.2"}]}', 'address without prefix'],
    ['{"cniVersion":"1.0.0","ips":[{"address":"10.88.0.2/16","interface":"eth0"}]}', 'interface not an index'],
    ['{"cniVersion":"1.0.0","interfaces":[{}]}', 'interface without a name'],
  ] as const) {
    t.throws(() => parsePluginOutput({ exitCode: 0, stdout, stderr: '' }, call), { code: errorCode('CNI_RESULT_INVALID') }, what);
  }
  t.end();
});

void t.test('container address from a result', (t) => {
  t.equal(containerAddress(bridgeResult), '10.88.0.2');
  const twoIps: CniResult = { ...bridgeResult, ips: [{ address: '10.99.0.1/24', interface: 0 }, { address: 'fd00::2/64', interface: 2 }, { address: '10.88.0.9/16', interface: 2 }] };
  t.equal(containerAddress(twoIps), '10.88.0.9', 'the IPv4 address on the sandbox interface');
  t.equal(containerAddress({ cniVersion: '1.0.0', ips: [{ address: '10.88.0.5/16' }] }), '10.88.0.5', 'without interfaces, the first IPv4');
  t.equal(containerAddress({ cniVersion: '1.0.0' }), undefined);
  t.end();
});

void t.test('hosts files', (t) => {
  const peers = [
    { name: 'web', hostname: 'web', ip: '10.88.0.2' },
    { name: 'db', hostname: 'database', ip: '10.88.0.3' },
    { name: 'cache', hostname: 'cache', ip: '10.88.0.4' },
  ];
  t.matchSnapshot(renderHostsFile(peers[0]!, peers, ['gw:10.0.2.2', 'v6=[fd00::1]', 'broken']), 'web with peers and extra_hosts');
  t.matchSnapshot(renderHostsFile(peers[1]!, [peers[1]!]), 'db alone, hostname alias');
  t.same(parseExtraHost('host.docker.internal:10.0.2.2'), ['host.docker.internal', '10.0.2.2']);
  t.same(parseExtraHost('v6:::1'), ['v6', '::1']);
  t.equal(parseExtraHost('nocolon'), undefined);
  t.end();
});

void t.test('attachment records', (t) => {
  const record = { container: 'web', netnsPath: '/run/netns/berth-web', runtimeConfig: {}, result: bridgeResult };
  t.same(parseAttachmentRecord(JSON.stringify(record)), record);
  t.same(parseAttachmentRecord(JSON.stringify({ ...record, result: undefined })), { container: 'web', netnsPath: '/run/netns/berth-web', runtimeConfig: {} });
  t.equal(parseAttachmentRecord('{"container":"web"'), undefined, 'a torn write');
  t.equal(parseAttachmentRecord(JSON.stringify({ ...record, result: { ips: 3 } })), undefined);
  t.end();
});
