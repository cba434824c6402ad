import t from 'tap';
import { loadMachineConfig } from '../../../lib/config/machine-config.ts';
import type { ContainerConfig } from '../../../lib/config/sections/containers.ts';
import { bundleFiles, containerSpecInput, execProcess, finishSpec, healthPlanOf, hostsFile, resolvConf } from '../../src/core/container-plan.ts';
import { crunRunArgs } from '../../src/core/crun-args.ts';
import type { ImageConfig } from '../../src/core/manifest.ts';
import { buildOciSpec } from '../../src/core/oci-spec.ts';
import { preloadNames, imageKey } from '../../src/images.ts';
import { errorCode } from '../../../lib/errors.ts';

const image: ImageConfig = {
  digest: `sha256:${'1e'.repeat(32)}`,
  os: 'linux',
  architecture: 'amd64',
  env: ['PATH=/bin'],
  entrypoint: ['/bin/httpd', '-f', '-p', '8080'],
  cmd: [],
  exposedPorts: ['8080/tcp'],
  volumes: [],
  labels: {},
  healthcheck: { test: ['CMD-SHELL', 'wget -q -O- http://127.0.0.1:8080/'], intervalNs: 5_000_000_000, retries: 5 },
  diffIds: [`sha256:${'40'.repeat(32)}`],
};

function containerOf(yaml: string): ContainerConfig {
  const { config } = loadMachineConfig(`containers:\n  web:\n${yaml.replace(/^/gm, '    ')}\n`, 'test');
  const c = config.containers.web;
  if (c === undefined) throw new Error('no container');
  return c;
}

const paths = { bundleDir: '/run/berth/containers/web', rootfs: '/run/berth/containers/web/rootfs' };

void t.test('a Compose service becomes config.json (snapshot)', (t) => {
  const container = containerOf(`image: berth-test
network_mode: none
read_only: true
cap_drop: [ALL]
cap_add: [NET_BIND_SERVICE]
environment: { GREETING: hi }
volumes: [data:/data, "/var/www:/srv:ro", {type: tmpfs, target: /cache, tmpfs: {size: 1M}}]
mem_limit: 64M
cpus: 0.5
pids_limit: 100
labels: { team: web }
hostname: www`);
  const input = containerSpecInput({ name: 'web', container, image, user: { uid: 0, gid: 0, additionalGids: [] }, paths, network: { mode: 'none' } });
  const spec = finishSpec(buildOciSpec(input));
  t.equal(spec.process.oomScoreAdj, 0, 'containers never inherit init\'s -1000');
  t.equal(spec.root.readonly, true);
  t.same(spec.process.capabilities.effective, ['CAP_NET_BIND_SERVICE']);
  t.match(spec.mounts, [], 'mounts present');
  t.ok(spec.mounts.some((m) => m.destination === '/data' && m.source === '/var/lib/berth/volumes/data'), 'named volume under /var/lib/berth/volumes');
  t.ok(spec.mounts.some((m) => m.destination === '/srv' && m.source === '/var/www' && m.options.includes('ro')), 'read-only bind');
  t.equal(spec.linux.cgroupsPath, '/berth.slice/web');
  const { seccomp: _seccomp, ...linux } = spec.linux;
  t.matchSnapshot(JSON.stringify({ ...spec, linux }, null, 2));
  t.end();
});

void t.test('health plans merge the config over the image', (t) => {
  const fromImage = healthPlanOf(containerOf('image: x'), image);
  t.same(fromImage, { argv: ['/bin/sh', '-c', 'wget -q -O- http://127.0.0.1:8080/'], policy: { intervalMs: 5000, timeoutMs: 30_000, retries: 5, startPeriodMs: 0, startIntervalMs: 5000 } });
  const overridden = healthPlanOf(containerOf('image: x\nhealthcheck: { test: ["CMD", "true"], interval: 1s, retries: 2 }'), image);
  t.same(overridden?.argv, ['true']);
  t.equal(overridden?.policy.intervalMs, 1000);
  t.equal(overridden?.policy.retries, 2);
  t.equal(healthPlanOf(containerOf('image: x\nhealthcheck: { disable: true }'), image), undefined, 'disable');
  t.equal(healthPlanOf(containerOf('image: x\nhealthcheck: { test: ["NONE"] }'), image), undefined, 'NONE');
  const { healthcheck: _h, ...noCheck } = image;
  t.equal(healthPlanOf(containerOf('image: x'), noCheck), undefined, 'neither defines one');
  t.end();
});

void t.test('a probe runs as the container process with other args', (t) => {
  const container = containerOf('image: x\nnetwork_mode: host\nuser: "1000:1000"');
  const spec = finishSpec(buildOciSpec(containerSpecInput({ name: 'web', container, image, user: { uid: 1000, gid: 1000, additionalGids: [] }, paths, network: { mode: 'host' } })));
  const process = execProcess(spec, ['/bin/true']);
  t.same(process.args, ['/bin/true']);
  t.same(process.user, { uid: 1000, gid: 1000 });
  t.same(process.capabilities, spec.process.capabilities);
  t.end();
});

void t.test('the bundle files are a plan: names, contents and modes in write order', (t) => {
  const container = containerOf('image: x\nnetwork_mode: host\nuser: "1000:1000"');
  const spec = finishSpec(buildOciSpec(containerSpecInput({ name: 'web', container, image, user: { uid: 1000, gid: 1000, additionalGids: [] }, paths, network: { mode: 'host' } })));
  const host = 'nameserver 127.0.0.53\n';
  const plain = bundleFiles({ spec, dns: [], extraHosts: ['gw:10.0.0.1'], hostResolvConf: host, hostNetwork: true });
  t.same(plain.map((file) => [file.name, file.mode]), [['hosts', undefined], ['resolv.conf', undefined], ['hostname', undefined], ['config.json', 0o600]]);
  t.equal(plain[0]?.content, hostsFile(spec.hostname, { extraHosts: ['gw:10.0.0.1'] }));
  t.equal(plain[1]?.content, host, 'host network keeps the host resolv.conf');
  t.equal(plain[2]?.content, `${spec.hostname}\n`);
  t.equal(plain[3]?.content, `${JSON.stringify(spec, null, 2)}\n`);
  const attached = bundleFiles({ spec, dns: [], extraHosts: [], hostResolvConf: host, hostNetwork: false, attachment: { hostsFile: '/run/x/hosts', nameservers: ['10.88.0.1'] }, healthArgv: ['/bin/true'] });
  t.same(attached.map((file) => [file.name, file.mode]), [['resolv.conf', undefined], ['hostname', undefined], ['config.json', 0o600], ['probe.json', 0o600]], 'the attacher keeps /etc/hosts; a health check adds the probe');
  t.equal(attached[0]?.content, 'nameserver 10.88.0.1\n');
  t.equal(attached[3]?.content, JSON.stringify(execProcess(spec, ['/bin/true'])));
  t.end();
});

void t.test('hosts and resolv.conf', (t) => {
  t.equal(hostsFile('web', { extraHosts: ['gw:10.0.0.1'] }), '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tweb\n10.0.0.1\tgw\n');
  t.match(hostsFile('web', { ip: '10.88.0.2', peers: ['10.88.0.3\tdb'] }), /10\.88\.0\.2\tweb\n10\.88\.0\.3\tdb\n/);
  const host = 'search example.test\nnameserver 127.0.0.53\nnameserver 10.0.2.3\n';
  t.equal(resolvConf({ dns: [], hostResolvConf: host, hostNetwork: true }), host, 'host network keeps the host file');
  t.equal(resolvConf({ dns: [], hostResolvConf: host, hostNetwork: false }), 'search example.test\nnameserver 10.0.2.3\n', 'loopback servers dropped in another namespace');
  t.equal(resolvConf({ dns: ['1.1.1.1'], nameservers: ['10.88.0.1'], hostResolvConf: host, hostNetwork: false }), 'nameserver 1.1.1.1\n', 'dns wins');
  t.equal(resolvConf({ dns: [], nameservers: ['10.88.0.1'], hostResolvConf: host, hostNetwork: false }), 'nameserver 10.88.0.1\n');
  t.end();
});

void t.test('crun run argv', (t) => {
  t.same(crunRunArgs('web', { bundle: '/run/berth/containers/web' }), ['--root', '/run/berth/crun', 'run', '--bundle', '/run/berth/containers/web', 'web']);
  t.throws(() => crunRunArgs('../x', { bundle: '/b' }), { code: errorCode('RUNTIME_SPEC_INVALID') });
  t.end();
});

void t.test('preloaded images are named after their directory and ref annotation', (t) => {
  t.same(preloadNames('web', ['latest']), [{ refName: 'latest', names: ['web:latest', 'web'] }]);
  t.same(preloadNames('web', [undefined]), [{ refName: undefined, names: ['web'] }]);
  t.same(preloadNames('apps', ['localhost/a:1', 'localhost/b:2']), [
    { refName: 'localhost/a:1', names: ['localhost/a:1'] },
    { refName: 'localhost/b:2', names: ['localhost/b:2'] },
  ]);
  t.equal(imageKey('web'), 'docker.io/library/web:latest');
  t.equal(imageKey('web:latest'), imageKey('docker.io/library/web'));
  t.end();
});
