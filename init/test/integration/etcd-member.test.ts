/**
 * Three etcd members started exactly as init starts them (planEtcd from machine configs), on
 * loopback with Debian's etcd-server; init's health probe; then the host coordinator
 * (fleet_coordinator:) on that cluster, which gives the members' FleetLock group one slot.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import t from 'tap';
import { loadMachineConfig } from '../../../lib/config/machine-config.ts';
import { FLEETLOCK_ROUTES } from '../../../lib/fleet/protocol.ts';
import { createLogger } from '../../../lib/log.ts';
import { issueCertificate } from '../../../lib/tls/x509.ts';
import { createFleetAdminClient, fleetRequest } from '../../../fleet/src/index.ts';
import { planEtcd } from '../../src/core/etcd.ts';
import { probeEtcdHealth } from '../../src/etcd.ts';
import { startHostCoordinator } from '../../src/fleet-coordinator.ts';
import { createNodeSys } from '../../src/sys/node.ts';
import { freePort } from '../../../lib/sys/free-port.ts';

void t.test('three members from berth configs form a cluster; the host coordinator keeps their group at one slot', async (t) => {
  const dir = t.testdir();
  const names = ['n1', 'n2', 'n3'];
  const ports = await Promise.all(names.map(async () => ({ peer: await freePort(), client: await freePort(), metrics: await freePort() })));
  const cluster = names.map((name, i) => `    ${name}: http://127.0.0.1:${ports[i]?.peer}`);
  const coordinatorPort = await freePort();
  const notBefore = new Date(Date.now() - 60_000);
  const ca = issueCertificate({ role: 'ca', commonName: 'berth fleet CA', notBefore, validDays: 2 });
  const server = issueCertificate({ role: 'server', commonName: 'fleet', altNames: ['127.0.0.1'], notBefore, validDays: 2, issuer: ca });
  const leaf = (cn: string): { certPem: string; keyPem: string } => issueCertificate({ role: 'client', commonName: cn, notBefore, validDays: 2, issuer: ca });
  await writeFile(`${dir}/ca.pem`, ca.certPem);
  await writeFile(`${dir}/server.pem`, server.certPem);
  await writeFile(`${dir}/server-key.pem`, server.keyPem);
  const configOf = (i: number): string =>
    [
      'etcd:',
      `  name: ${names[i]}`,
      `  peer_urls: [http://127.0.0.1:${ports[i]?.peer}]`,
      `  client_urls: [http://127.0.0.1:${ports[i]?.client}]`,
      '  initial_cluster:',
      ...cluster,
      '  initial_cluster_token: itest',
      'fleet_coordinator:',
      `  listen: 127.0.0.1:${coordinatorPort}`,
      `  tls: { ca: ${dir}/ca.pem, cert: ${dir}/server.pem, key: ${dir}/server-key.pem }`,
      '  default_slots: 3',
    ].join('\n');
  const configs = names.map((_, i) => loadMachineConfig(configOf(i), `n${i + 1}.yaml`).config);
  const children: ChildProcess[] = [];
  const logs: string[] = [];
  t.teardown(() => {
    for (const child of children) child.kill('SIGKILL');
  });
  for (const [i, config] of configs.entries()) {
    const etcd = config.etcd;
    if (!etcd) throw new Error('no etcd section');
    const plan = planEtcd(etcd);
    const dataDir = `${dir}/${etcd.name}`;
    await mkdir(dataDir, { mode: 0o700 });
    // Loopback: each member on its own ports, its own data directory and metrics port.
    const args = plan.args.map((a) =>
      a.startsWith('--data-dir=') ? `--data-dir=${dataDir}` : a.startsWith('--listen-metrics-urls=') ? `--listen-metrics-urls=http://127.0.0.1:${ports[i]?.metrics}` : a.replace('0.0.0.0', '127.0.0.1'),
    );
    t.equal(plan.file, '/usr/bin/etcd');
    const child = spawn(plan.file, args, { env: { PATH: '/usr/bin:/bin' }, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => logs.push(chunk.slice(-2000)));
    children.push(child);
  }
  const healthy = async (): Promise<boolean[]> => Promise.all(ports.map((p) => probeEtcdHealth(`http://127.0.0.1:${p.metrics}/health`, 2000)));
  let states: boolean[] = [];
  for (let tries = 0; tries < 60; tries += 1) {
    states = await healthy();
    if (states.every(Boolean)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  t.same(states, [true, true, true], `every member answers /health as healthy${states.every(Boolean) ? '' : `\n${logs.slice(-5).join('')}`}`);

  // Quorum lost: with two of three members gone the last one is no longer healthy.
  // Each stopped member must have exited (its ports and data-dir lock released) before it is
  // started again: a restart that races the old process fails to bind and exits at once.
  const exited = [1, 2].map((i) => {
    const child = children[i];
    return child && child.exitCode === null && child.signalCode === null ? new Promise((r) => child.once('exit', r)) : Promise.resolve();
  });
  children[1]?.kill('SIGTERM');
  children[2]?.kill('SIGTERM');
  let alone = true;
  for (let tries = 0; tries < 40 && alone; tries += 1) {
    alone = await probeEtcdHealth(`http://127.0.0.1:${ports[0]?.metrics}/health`, 2000);
    if (alone) await new Promise((r) => setTimeout(r, 500));
  }
  t.equal(alone, false, 'a member without quorum is not healthy');
  await Promise.all(exited);
  // Back: restart the two from the same plans.
  for (const i of [1, 2]) {
    const etcd = configs[i]?.etcd;
    if (!etcd) throw new Error('no etcd section');
    const args = planEtcd(etcd).args.map((a) =>
      a.startsWith('--data-dir=') ? `--data-dir=${dir}/${etcd.name}` : a.startsWith('--listen-metrics-urls=') ? `--listen-metrics-urls=http://127.0.0.1:${ports[i]?.metrics}` : a.replace('0.0.0.0', '127.0.0.1'),
    );
    const child = spawn('/usr/bin/etcd', args, { env: { PATH: '/usr/bin:/bin' }, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => logs.push(chunk.slice(-2000)));
    children.push(child);
  }
  for (let tries = 0; tries < 90; tries += 1) {
    states = await healthy();
    if (states.every(Boolean)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  t.same(states, [true, true, true], `the cluster is healthy again after a restart${states.every(Boolean) ? '' : `\n${logs.slice(-5).join('')}`}`);

  const config = configs[0];
  if (!config) throw new Error('no config');
  const logger = createLogger({ component: 'test', sinks: [], minLevel: 'info' });
  const coordinator = await startHostCoordinator(createNodeSys(), logger, config);
  if (!coordinator) throw new Error('no coordinator started');
  t.teardown(() => coordinator.stop());
  const client = (cn: string): { url: string; caPem: string; certPem: string; keyPem: string } => ({ url: coordinator.url, caPem: ca.certPem, ...leaf(cn) });
  const admin = createFleetAdminClient(client('admin:ops'));
  let slots: number | undefined;
  for (let tries = 0; tries < 40 && slots !== 1; tries += 1) {
    slots = (await admin.snapshot()).groups.find((g) => g.group === 'etcd-itest')?.slots;
    if (slots !== 1) await new Promise((r) => setTimeout(r, 250));
  }
  t.equal(slots, 1, 'the etcd members group has one slot although default_slots is 3');
  const lock = (id: string): Promise<{ status: number }> => fleetRequest(client(`host:${id}`), 'POST', FLEETLOCK_ROUTES.preReboot, { client_params: { id, group: 'etcd-itest' } }, { 'fleet-lock-protocol': 'true' });
  t.equal((await lock('n1')).status, 200, 'the first member gets the slot');
  t.not((await lock('n2')).status, 200, 'a second member is refused while the first holds it');
});
