import t from 'tap';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFleetLockClient, fleetLockBody, fleetLockNodeId } from '../../src/fleetlock.ts';
import { errorCode } from '../../../lib/errors.ts';

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
