/**
 * The CNI attacher against Debian's real plugins on this host: namespaces, a bridge, host-local
 * leases, portmap DNAT and firewall rules, then a clean DEL. Needs root (network namespaces,
 * iptables) and the containernetworking-plugins package; uses its own bridge and subnet, and
 * removes them at the end.
 */
import { spawn } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import { tmpdir } from 'node:os';
import * as nodePath from 'node:path';
import t from 'tap';
import { createMemoryLogger } from '../../../lib/log.ts';
import { createExec } from '../../../lib/sys/exec.ts';
import { createCniAttacher } from '../../src/cni-attacher.ts';
import { freePort } from '../../../lib/sys/free-port.ts';

const missing = ['/usr/lib/cni/bridge', '/usr/lib/cni/host-local', '/usr/lib/cni/portmap', '/usr/lib/cni/firewall', '/usr/lib/cni/loopback', '/usr/sbin/iptables', '/usr/bin/ip', '/usr/bin/socat'].filter((p) => !existsSync(p));
if (missing.length > 0 || process.getuid?.() !== 0) {
  t.fail(`The CNI integration test needs root and ${missing.join(', ') || 'the tools present'} (run scripts/setup-host.sh: containernetworking-plugins, iptables, socat)`);
  process.exit(1);
}

const exec = createExec();
const id = process.pid % 10_000;
const bridge = `bt${id}`;
const subnet = `10.251.${id % 250}.0/24`;
const names = { a: `it${id}a`, b: `it${id}b` };

async function iptablesSave(): Promise<string> {
  return (await exec.run('/usr/sbin/iptables-save', [])).stdout;
}

void t.test('attach, talk, publish a port, detach with the real plugins', async (t) => {
  // Not t.testdir(): the records must outlive a failing test so teardown can DEL with prevResult.
  const dir = await fsp.mkdtemp(nodePath.join(tmpdir(), 'berth-cni-it-'));
  const logger = createMemoryLogger('runtime');
  const attacher = createCniAttacher({
    exec,
    logger,
    network: { subnet, bridge },
    recordDir: nodePath.join(dir, 'attachments'),
    ipamDir: nodePath.join(dir, 'ipam'),
    hostsDir: nodePath.join(dir, 'hosts'),
    ipForwardPath: null,
    kernelModules: [],
  });
  const attachments: Array<{ detach(): Promise<void> }> = [];
  t.teardown(async () => {
    for (const attachment of attachments) await attachment.detach().catch(() => undefined);
    await attacher.cleanupStale().catch(() => undefined);
    await exec.run('/usr/bin/ip', ['link', 'delete', bridge]).catch(() => undefined);
    await fsp.rm(dir, { recursive: true, force: true });
  });
  const hostPort = await freePort();
  const a = await attacher.attach({ name: names.a, ports: [`127.0.0.1:${hostPort}:80`], hostname: names.a, dns: [], extraHosts: [] });
  const b = await attacher.attach({ name: names.b, ports: [], hostname: names.b, dns: [], extraHosts: [] });
  attachments.push(a, b);
  t.match(a.ip, new RegExp(`^10\\.251\\.${id % 250}\\.\\d+$`));
  t.not(a.ip, b.ip);
  t.equal(a.netnsPath, `/run/netns/berth-${names.a}`);

  const inNs = (ns: string, file: string, args: string[]) => exec.run('/usr/bin/ip', ['netns', 'exec', `berth-${ns}`, file, ...args], { timeoutMs: 10_000 });
  t.match((await inNs(names.a, '/usr/bin/ip', ['-4', 'addr', 'show', 'eth0'])).stdout, `inet ${a.ip}/24`);
  t.match((await inNs(names.a, '/usr/bin/ip', ['link', 'show', 'lo'])).stdout, /state UNKNOWN|UP/, 'loopback is up');
  t.match(await fsp.readFile(nodePath.join(dir, 'hosts', names.b), 'utf8'), `${a.ip ?? ''}\t${names.a}`);

  // A server in a's namespace, reached from b over the bridge and from the host through portmap.
  const server = spawn('/usr/bin/ip', ['netns', 'exec', `berth-${names.a}`, '/usr/bin/socat', 'TCP-LISTEN:80,reuseaddr,fork', 'SYSTEM:echo hello-from-a'], { stdio: 'ignore' });
  t.teardown(() => void server.kill());
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.match((await inNs(names.b, '/usr/bin/socat', ['-T2', '-', `TCP:${a.ip ?? ''}:80`])).stdout, 'hello-from-a', 'b reaches a on the bridge');
  t.match((await exec.run('/usr/bin/socat', ['-T2', '-', `TCP:127.0.0.1:${hostPort}`], { timeoutMs: 10_000 })).stdout, 'hello-from-a', 'the host reaches a through the published port');
  t.match(await iptablesSave(), names.a, 'portmap/firewall rules name the container');

  // Debian's portmap fails CHECK on IPv4-only containers (containernetworking/plugins#819), so
  // berth's list sets disableCheck and check() runs nothing.
  await t.resolves(attacher.check(names.b), 'check() honours disableCheck');

  await a.detach();
  await b.detach();
  t.notOk(existsSync(a.netnsPath));
  t.notMatch(await iptablesSave(), new RegExp(`${names.a}|${names.b}`), 'no rules left for the containers');
  t.same((await fsp.readdir(nodePath.join(dir, 'ipam', 'berth'))).filter((f) => /^\d/.test(f)), [], 'no leases left');
});
