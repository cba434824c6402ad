import { existsSync, mkdirSync, promises as fsp, rmSync, writeFileSync } from 'node:fs';
import * as nodePath from 'node:path';
import t from 'tap';
import { createMemoryLogger } from '../../../lib/log.ts';
import { createFakeExec, type RecordedCall } from '../../../lib/sys/exec.ts';
import { createCniAttacher } from '../../src/cni-attacher.ts';
import { errorCode } from '../../../lib/errors.ts';

/** A fake world: `ip netns add/delete` make and remove files, plugins answer like Debian's. */
function world(dir: string, options: { failPlugin?: string } = {}) {
  const netnsDir = nodePath.join(dir, 'netns');
  let next = 2;
  const leases = new Map<string, string>();
  const exec = createFakeExec((call: RecordedCall) => {
    if (call.file === '/usr/bin/ip') {
      const [, verb, name = ''] = call.args;
      const path = nodePath.join(netnsDir, name);
      if (verb === 'add') {
        if (existsSync(path)) return { exitCode: 1, stderr: 'Cannot create namespace file: File exists' };
        mkdirSync(netnsDir, { recursive: true });
        writeFileSync(path, '');
      } else if (verb === 'delete') rmSync(path, { force: true });
      return {};
    }
    if (call.file === '/usr/sbin/modprobe') return {};
    const env = call.options.env ?? {};
    const plugin = nodePath.basename(call.file);
    const config = JSON.parse(String(call.options.input)) as { prevResult?: unknown };
    if (options.failPlugin === plugin && env.CNI_COMMAND === 'ADD') {
      return { exitCode: 1, stdout: JSON.stringify({ cniVersion: '1.0.0', code: 999, msg: `${plugin} exploded` }) };
    }
    if (env.CNI_COMMAND !== 'ADD') {
      if (plugin === 'bridge') leases.delete(env.CNI_CONTAINERID ?? '');
      return {};
    }
    if (plugin === 'loopback') return { stdout: JSON.stringify({ cniVersion: '1.0.0', interfaces: [{ name: 'lo', sandbox: env.CNI_NETNS }], ips: [{ address: '127.0.0.1/8', interface: 0 }] }) };
    if (plugin === 'bridge') {
      const ip = `10.88.0.${next++}`;
      leases.set(env.CNI_CONTAINERID ?? '', ip);
      return {
        stdout: JSON.stringify({
          cniVersion: '1.0.0',
          interfaces: [{ name: 'berth0' }, { name: 'vethx' }, { name: 'eth0', sandbox: env.CNI_NETNS }],
          ips: [{ address: `${ip}/16`, gateway: '10.88.0.1', interface: 2 }],
        }),
      };
    }
    return { stdout: JSON.stringify(config.prevResult) };
  });
  return { exec, netnsDir, leases };
}

function attacherIn(dir: string, exec: ReturnType<typeof world>['exec'], netnsDir: string, forceCheck = false) {
  const logger = createMemoryLogger('runtime');
  const attacher = createCniAttacher({
    exec,
    logger,
    network: { subnet: '10.88.0.0/16', bridge: 'berth0' },
    recordDir: nodePath.join(dir, 'attachments'),
    ipamDir: nodePath.join(dir, 'ipam'),
    hostsDir: nodePath.join(dir, 'hosts'),
    netnsDir,
    ipForwardPath: nodePath.join(dir, 'ip_forward'),
    forceCheck,
  });
  return { attacher, logger };
}

const web = { name: 'web', ports: ['8080:80'], hostname: 'web', dns: [], extraHosts: [] };
const db = { name: 'db', ports: [], hostname: 'database', dns: [], extraHosts: ['gw:10.0.2.2'] };

void t.test('attach runs loopback then the bridge chain with prevResult, and keeps hosts files current', async (t) => {
  const dir = t.testdir();
  const { exec, netnsDir, leases } = world(dir);
  const { attacher, logger } = attacherIn(dir, exec, netnsDir);
  const a = await attacher.attach(web);
  t.equal(a.netnsPath, nodePath.join(netnsDir, 'berth-web'));
  t.equal(a.ip, '10.88.0.2');
  t.equal(a.gateway, '10.88.0.1');
  t.equal(await fsp.readFile(nodePath.join(dir, 'ip_forward'), 'utf8'), '1\n');

  const plugins = exec.calls.filter((c) => c.file.startsWith('/usr/lib/cni/'));
  t.same(
    plugins.map((c) => `${c.options.env?.CNI_COMMAND} ${nodePath.basename(c.file)} ${c.options.env?.CNI_IFNAME}`),
    ['ADD loopback lo', 'ADD bridge eth0', 'ADD portmap eth0', 'ADD firewall eth0'],
  );
  const portmapInput = JSON.parse(String(plugins[2]?.options.input)) as Record<string, unknown>;
  t.same(portmapInput.runtimeConfig, { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] });
  t.match(portmapInput.prevResult, { ips: [{ address: '10.88.0.2/16' }] });
  t.notOk('prevResult' in (JSON.parse(String(plugins[1]?.options.input)) as object), 'the first plugin gets no prevResult');

  const b = await attacher.attach(db);
  t.equal(b.ip, '10.88.0.3');
  t.same(b.hosts, ['10.88.0.2\tweb']);
  const hostsOf = (name: string) => fsp.readFile(nodePath.join(dir, 'hosts', name), 'utf8');
  t.match(await hostsOf('web'), /10\.88\.0\.3\tdatabase db/, 'web learns of db once db attaches');
  t.match(await hostsOf('db'), /10\.88\.0\.2\tweb\n# extra_hosts\n10\.0\.2\.2\tgw/);
  t.same(attacher.peers().map((p) => p.name), ['web', 'db']);
  t.equal(attacher.netnsPathOf('db'), b.netnsPath);

  exec.calls.length = 0;
  const webInode = (await fsp.stat(nodePath.join(dir, 'hosts', 'web'))).ino;
  await b.detach();
  await b.detach();
  t.same(
    exec.calls.filter((c) => c.file.startsWith('/usr/lib/cni/')).map((c) => `${c.options.env?.CNI_COMMAND} ${nodePath.basename(c.file)}`),
    ['DEL firewall', 'DEL portmap', 'DEL bridge', 'DEL loopback'],
    'DEL in reverse, once',
  );
  const del = exec.calls.find((c) => c.file.endsWith('/firewall'));
  t.match(JSON.parse(String(del?.options.input)), { prevResult: { ips: [{ address: '10.88.0.3/16' }] } }, 'DEL gets the cached ADD result');
  t.notOk(existsSync(b.netnsPath), 'namespace removed');
  t.notOk(leases.has('db'), 'lease released');
  t.notMatch(await hostsOf('web'), /database/, 'web forgets db');
  t.equal((await fsp.stat(nodePath.join(dir, 'hosts', 'web'))).ino, webInode, 'rewritten in place for the bind mount');
  t.notOk(existsSync(nodePath.join(dir, 'hosts', 'db')));
  t.match(logger.lines.join('\n'), /msg="Container attached to the bridge" container=web ip=10.88.0.2/);
});

void t.test('a failed ADD deletes the whole chain and the namespace', async (t) => {
  const dir = t.testdir();
  const { exec, netnsDir, leases } = world(dir, { failPlugin: 'portmap' });
  const { attacher } = attacherIn(dir, exec, netnsDir);
  await t.rejects(attacher.attach(web), { code: errorCode('CNI_PLUGIN_FAILED'), message: /CNI plugin portmap failed to ADD container web: portmap exploded \[CNI error 999: plugin-specific error\]/ });
  const order = exec.calls.filter((c) => c.file.startsWith('/usr/lib/cni/')).map((c) => `${c.options.env?.CNI_COMMAND} ${nodePath.basename(c.file)}`);
  t.same(order, ['ADD loopback', 'ADD bridge', 'ADD portmap', 'DEL firewall', 'DEL portmap', 'DEL bridge']);
  t.notOk(existsSync(nodePath.join(netnsDir, 'berth-web')));
  t.equal(leases.size, 0);
  t.same(await fsp.readdir(nodePath.join(dir, 'attachments')), []);
});

void t.test('stale attachments of an earlier run are deleted, on attach and by cleanupStale', async (t) => {
  const dir = t.testdir();
  const { exec, netnsDir, leases } = world(dir);
  await attacherIn(dir, exec, netnsDir).attacher.attach(web);
  await attacherIn(dir, exec, netnsDir).attacher.attach(db);
  // A restart of berth: a new attacher finds web's namespace and record.
  const fresh = attacherIn(dir, exec, netnsDir);
  exec.calls.length = 0;
  const again = await fresh.attacher.attach(web);
  t.same(
    exec.calls.filter((c) => c.file !== '/usr/sbin/modprobe').map((c) => (c.file === '/usr/bin/ip' ? c.args.join(' ') : `${c.options.env?.CNI_COMMAND} ${nodePath.basename(c.file)}`)).slice(0, 6),
    ['DEL firewall', 'DEL portmap', 'DEL bridge', 'DEL loopback', 'netns delete berth-web', 'netns add berth-web'],
  );
  t.ok(existsSync(again.netnsPath));
  await fresh.attacher.cleanupStale();
  t.notOk(existsSync(nodePath.join(netnsDir, 'berth-db')), 'db (not attached by this run) is cleaned');
  t.ok(existsSync(again.netnsPath), 'web (attached by this run) is kept');
  t.same([...leases.keys()], ['web']);
  t.match(fresh.logger.lines.join('\n'), /msg="Removing stale container network" container=db/);
});

void t.test('a bad port never creates a namespace', async (t) => {
  const dir = t.testdir();
  const { exec, netnsDir } = world(dir);
  const { attacher } = attacherIn(dir, exec, netnsDir);
  await t.rejects(attacher.attach({ ...web, ports: ['nope'] }), { code: errorCode('CNI_PORT_INVALID') });
  t.notOk(exec.calls.some((c) => c.file === '/usr/bin/ip'));
});

void t.test('start reads container_network and cleans up; the engine-given hosts file is kept at detach', async (t) => {
  const dir = t.testdir({ bundle: {} });
  const { exec, netnsDir } = world(dir);
  const logger = createMemoryLogger('runtime');
  const attacher = createCniAttacher({ exec, logger, recordDir: nodePath.join(dir, 'attachments'), hostsDir: nodePath.join(dir, 'hosts'), netnsDir, ipForwardPath: null, kernelModules: [] });
  const { loadMachineConfig } = await import('../../../lib/config/machine-config.ts');
  await attacher.start(loadMachineConfig('container_network: { subnet: 172.31.0.0/24, bridge: br1, mtu: 1400 }', 'c').config);
  const hostsFile = nodePath.join(dir, 'bundle', 'hosts');
  const a = await attacher.attach({ ...web, hostsFile });
  t.equal(a.hostsFile, hostsFile);
  const bridge = JSON.parse(String(exec.calls.find((c) => c.file.endsWith('/bridge'))?.options.input)) as Record<string, unknown>;
  t.match(bridge, { bridge: 'br1', mtu: 1400, ipam: { ranges: [[{ subnet: '172.31.0.0/24', gateway: '172.31.0.1' }]] } });
  t.match(await fsp.readFile(hostsFile, 'utf8'), /\tweb\n/);
  await a.detach();
  t.ok(existsSync(hostsFile), 'the engine owns its bundle file');
});

void t.test('CHECK runs the chain in order with the cached result, only for attached containers', async (t) => {
  const dir = t.testdir();
  const { exec, netnsDir } = world(dir);
  const { attacher } = attacherIn(dir, exec, netnsDir, true);
  await t.rejects(attacher.check('web'), { code: errorCode('CNI_NOT_ATTACHED') });
  const a = await attacher.attach(web);
  exec.calls.length = 0;
  await attacher.check('web');
  t.same(
    exec.calls.map((c) => `${c.options.env?.CNI_COMMAND} ${nodePath.basename(c.file)}`),
    ['CHECK bridge', 'CHECK portmap', 'CHECK firewall'],
  );
  t.match(JSON.parse(String(exec.calls[0]?.options.input)), { prevResult: { ips: [{ address: '10.88.0.2/16' }] } });
  await a.detach();
  await t.rejects(attacher.check('web'), { code: errorCode('CNI_NOT_ATTACHED') }, 'never after DEL');
});

void t.test('CHECK is skipped by default: the list says disableCheck', async (t) => {
  const dir = t.testdir();
  const { exec, netnsDir } = world(dir);
  const { attacher } = attacherIn(dir, exec, netnsDir);
  await attacher.attach(web);
  exec.calls.length = 0;
  await attacher.check('web');
  t.same(exec.calls, []);
});
