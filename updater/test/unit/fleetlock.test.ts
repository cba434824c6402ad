import t from 'tap';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFleetLockClient, fleetLockBody, fleetLockIdOfCertificate, fleetLockNodeId, resolveFleetLockIdentity } from '../../src/fleetlock.ts';
import { errorCode } from '../../../lib/errors.ts';
import { haltRefusal, type HostStatus } from '../../../lib/fleet/protocol.ts';
import { issueCertificate } from '../../../lib/tls/x509.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

/** A stub FleetLock server on 127.0.0.1 with a semaphore of one slot. */
async function startStub(t: { teardown(fn: () => unknown): void }): Promise<{ url: string; seen: Seen[]; holder: () => string | undefined; server: Server }> {
  const seen: Seen[] = [];
  let holder: string | undefined;
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw || 'null') as { client_params?: { id?: string; group?: string } } | null;
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const id = body?.client_params?.id;
      const reply = (status: number, json?: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(json === undefined ? '' : JSON.stringify(json));
      };
      if (req.headers['fleet-lock-protocol'] !== 'true') return reply(400, { kind: 'missing_header', value: 'fleet-lock-protocol header required' });
      if (req.url === '/base/v1/pre-reboot') {
        if (holder === undefined || holder === id) {
          holder = id;
          return reply(200);
        }
        return reply(409, { kind: 'failed_lock_semaphore_full', value: 'semaphore currently full, all slots are locked already' });
      }
      if (req.url === '/base/v1/steady-state') {
        if (holder === id) holder = undefined;
        return reply(200);
      }
      if (req.url === '/base/v1/report') return reply(200, { released: true });
      if (req.url === '/halt/v1/pre-reboot') return reply(409, haltRefusal({ version: '2.0.0', reason: 'nic driver', by: 'admin', since: '2026-12-05T08:00:00.000Z' }));
      if (req.url === '/zincati/v1/report') return reply(404, { kind: 'not_found', value: 'no such route' });
      if (req.url === '/redirect/v1/pre-reboot') {
        res.writeHead(307, { location: '/base/v1/pre-reboot' });
        return res.end();
      }
      res.writeHead(500);
      res.end('oops');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/base`, seen, holder: () => holder, server };
}

void t.test('pre-reboot and steady-state speak the FleetLock protocol', async (t) => {
  const stub = await startStub(t);
  const node1 = createFleetLockClient({ url: stub.url, group: 'workers', nodeId: 'node-1' });
  const node2 = createFleetLockClient({ url: `${stub.url}/`, group: 'workers', nodeId: 'node-2' });

  t.same(await node1.preReboot(), { ok: true });
  const request = stub.seen[0];
  t.equal(request?.method, 'POST');
  t.equal(request?.url, '/base/v1/pre-reboot');
  t.equal(request?.headers['fleet-lock-protocol'], 'true');
  t.equal(request?.headers['content-type'], 'application/json');
  t.same(request?.body, { client_params: { id: 'node-1', group: 'workers' } });

  t.same(await node1.preReboot(), { ok: true }, 'recursive lock by the holder');
  t.same(await node2.preReboot(), { ok: false, status: 409, kind: 'failed_lock_semaphore_full', value: 'semaphore currently full, all slots are locked already' });
  t.same(await node1.steadyState(), { ok: true });
  t.equal(stub.holder(), undefined);
  t.equal(stub.seen.at(-1)?.url, '/base/v1/steady-state');
  t.same(await node2.preReboot(), { ok: true });
  t.equal(stub.holder(), 'node-2');
});

void t.test('non-protocol errors and redirects are failed operations', async (t) => {
  const stub = await startStub(t);
  const base = stub.url.replace('/base', '');
  const other = createFleetLockClient({ url: `${base}/nowhere`, group: 'default', nodeId: 'n' });
  t.same(await other.preReboot(), { ok: false, status: 500, kind: 'http_500', value: 'Internal Server Error' });
  const redirected = createFleetLockClient({ url: `${base}/redirect`, group: 'default', nodeId: 'n' });
  const result = await redirected.preReboot();
  t.match(result, { ok: false, status: 307 });
  t.equal(stub.holder(), undefined, 'the redirect was not followed');
});

void t.test('transport failures are typed errors', async (t) => {
  // A port that was just closed: connection refused.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const refused = createFleetLockClient({ url: `http://127.0.0.1:${port}/`, group: 'default', nodeId: 'n' });
  await t.rejects(refused.preReboot(), { code: errorCode('UPDATER_FLEETLOCK_UNREACHABLE') });

  // A server that never answers.
  const silent = createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    silent.closeAllConnections();
    return new Promise<void>((resolve) => silent.close(() => resolve()));
  });
  const slow = createFleetLockClient({ url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/`, group: 'default', nodeId: 'n', timeoutMs: 200 });
  await t.rejects(slow.steadyState(), { code: errorCode('UPDATER_FLEETLOCK_TIMEOUT') });
});

void t.test('configuration is checked', (t) => {
  t.throws(() => createFleetLockClient({ url: 'not a url', group: 'default', nodeId: 'n' }), { code: errorCode('UPDATER_FLEETLOCK_CONFIG') });
  t.throws(() => createFleetLockClient({ url: 'ftp://x/', group: 'default', nodeId: 'n' }), { code: errorCode('UPDATER_FLEETLOCK_CONFIG') });
  t.throws(() => createFleetLockClient({ url: 'http://x/', group: 'two words', nodeId: 'n' }), { code: errorCode('UPDATER_FLEETLOCK_CONFIG') });
  t.throws(() => createFleetLockClient({ url: 'http://x/', group: 'default', nodeId: '' }), { code: errorCode('UPDATER_FLEETLOCK_CONFIG') });
  t.equal(fleetLockBody('abc', 'default'), '{"client_params":{"id":"abc","group":"default"}}');
  t.match(fleetLockNodeId('machine-1'), /^[0-9a-f]{32}$/);
  t.equal(fleetLockNodeId('machine-1'), fleetLockNodeId('machine-1'));
  t.not(fleetLockNodeId('machine-1'), fleetLockNodeId('machine-2'));
  t.end();
});

const STATUS: HostStatus = { version: '1.0.0', slot: 'a', phase: 'staged', target_version: '2.0.0', bad_versions: [], rollbacks: 0 };

void t.test('berth additions: the halt refusal is parsed, the report is sent, a Zincati-only server answers 404', async (t) => {
  const stub = await startStub(t);
  const base = stub.url.replace('/base', '');
  const halted = createFleetLockClient({ url: `${base}/halt`, group: 'default', nodeId: 'n' });
  t.same(await halted.preReboot(), {
    ok: false,
    status: 409,
    kind: 'version_halted',
    value: 'Version 2.0.0 is halted: nic driver',
    halt: { version: '2.0.0', reason: 'nic driver', by: 'admin', since: '2026-12-05T08:00:00.000Z' },
  });
  const berth = createFleetLockClient({ url: stub.url, group: 'web', nodeId: 'node-1' });
  t.same(await berth.report(STATUS), { ok: true, released: true });
  t.same(stub.seen.at(-1)?.body, { client_params: { id: 'node-1', group: 'web' }, status: STATUS }, 'the report body lib/fleet/protocol.ts validates');
  t.equal(stub.seen.at(-1)?.headers['fleet-lock-protocol'], 'true');
  const zincati = createFleetLockClient({ url: `${base}/zincati`, group: 'default', nodeId: 'n' });
  t.same(await zincati.report(STATUS), { ok: false, status: 404, kind: 'not_found', value: 'no such route' });
});

void t.test('mutual TLS: the client certificate reaches the server, and names the FleetLock id', async (t) => {
  const notBefore = new Date(Date.now() - 60_000);
  const ca = issueCertificate({ role: 'ca', commonName: 'berth fleet CA', notBefore, validDays: 1 });
  const server = issueCertificate({ role: 'server', commonName: 'fleet', altNames: ['127.0.0.1'], notBefore, validDays: 1, issuer: ca });
  const host = issueCertificate({ role: 'client', commonName: 'host:node-7', notBefore, validDays: 1, issuer: ca });
  const seen: { cn: unknown; url: string | undefined }[] = [];
  const https = createHttpsServer({ cert: server.certPem, key: server.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const socket = req.socket as TLSSocket;
    seen.push({ cn: socket.authorized ? socket.getPeerCertificate().subject.CN : undefined, url: req.url });
    req.resume();
    req.on('end', () => {
      res.writeHead(socket.authorized ? 200 : 401, { 'content-type': 'application/json' });
      res.end(socket.authorized ? '{"released":false}' : '{"kind":"unauthenticated","value":"A client certificate issued by berth keys fleet is required"}');
    });
  });
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    https.closeAllConnections();
    return new Promise<void>((resolve) => https.close(() => resolve()));
  });
  const url = `https://127.0.0.1:${(https.address() as AddressInfo).port}/`;

  const dir = t.testdir();
  await writeFile(join(dir, 'host.crt'), host.certPem);
  const identity = await resolveFleetLockIdentity({ tls: { ca: ca.certPem, cert: join(dir, 'host.crt'), key: host.keyPem } }, 'machine-1', (p) => readFile(p, 'utf8'));
  t.equal(identity.nodeId, 'node-7', "the id is the host certificate's");
  const client = createFleetLockClient({ url, group: 'default', nodeId: identity.nodeId, ...(identity.tls ? { tls: identity.tls } : {}) });
  t.same(await client.preReboot(), { ok: true });
  t.same(await client.report(STATUS), { ok: true, released: false });
  t.same(seen, [{ cn: 'host:node-7', url: '/v1/pre-reboot' }, { cn: 'host:node-7', url: '/v1/report' }]);

  const anonymous = createFleetLockClient({ url, group: 'default', nodeId: 'n', tls: { caPem: ca.certPem } });
  t.match(await anonymous.preReboot(), { ok: false, status: 401, kind: 'unauthenticated' });
  const untrusting = createFleetLockClient({ url, group: 'default', nodeId: 'n', tls: { certPem: host.certPem, keyPem: host.keyPem } });
  await t.rejects(untrusting.preReboot(), { code: errorCode('UPDATER_FLEETLOCK_UNREACHABLE') }, 'a server certificate from an unknown CA is refused');

  t.equal((await resolveFleetLockIdentity({ id: 'custom', tls: { cert: host.certPem, key: host.keyPem } }, 'm', () => Promise.reject(new Error('unused')))).nodeId, 'custom', 'update.fleetlock.id wins');
  t.equal((await resolveFleetLockIdentity({}, 'machine-1', () => Promise.reject(new Error('unused')))).nodeId, fleetLockNodeId('machine-1'), 'without a certificate: the hashed machine id');
  await t.rejects(resolveFleetLockIdentity({ tls: { cert: '/nonexistent/host.crt', key: host.keyPem } }, 'm', (p) => readFile(p, 'utf8')), { code: errorCode('UPDATER_FLEETLOCK_CONFIG'), message: /update.fleetlock.tls.cert from \/nonexistent\/host.crt/ });
  const admin = issueCertificate({ role: 'client', commonName: 'admin:ops', notBefore, validDays: 1, issuer: ca });
  t.throws(() => fleetLockIdOfCertificate(admin.certPem), { code: errorCode('UPDATER_FLEETLOCK_CONFIG'), message: /common name 'admin:ops', not a host certificate/ });
  t.throws(() => createFleetLockClient({ url: 'http://x/', group: 'default', nodeId: 'n', tls: { caPem: ca.certPem } }), { code: errorCode('UPDATER_FLEETLOCK_CONFIG') }, 'TLS needs https');
  t.throws(() => createFleetLockClient({ url: 'https://x/', group: 'default', nodeId: 'n', tls: { certPem: host.certPem } }), { code: errorCode('UPDATER_FLEETLOCK_CONFIG') }, 'certificate without key');
});
