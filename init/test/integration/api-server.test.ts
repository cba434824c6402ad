/**
 * The management API's HTTP shell on real loopback sockets: a Unix socket (mode 0600) and a
 * mutual-TLS listener with certificates from lib/tls/x509.ts. Error bodies for malformed,
 * unknown and oversized requests; client certificates required; `berth ctl` end to end
 * against both.
 */
import { stat } from 'node:fs/promises';
import { request } from 'node:http';
import https from 'node:https';
import path from 'node:path';
import t from 'tap';
import { loadMachineConfig } from '../../../lib/config/machine-config.ts';
import { createMemoryLogger } from '../../../lib/log.ts';
import { certificateFingerprint, issueCertificate } from '../../../lib/tls/x509.ts';
import { collectStatus, registerHostRoutes, type HostProbe, type HostView } from '../../src/api/core/host-routes.ts';
import { Router } from '../../src/api/core/router.ts';
import { createRequestHandler, listenTls, listenUnix } from '../../src/api/server.ts';
import { createApiClient, parseCtlArgs, runCtl } from '../../../cli/src/index.ts';

// Loosely typed: the tests look into error bodies and answers alike.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ErrorJson = Record<string, any>;

const now = new Date('2026-11-23T10:00:00Z');
const probe: HostProbe = {
  uptimeSeconds: () => Promise.resolve(61),
  cpu: () => Promise.resolve({ model: 'QEMU Virtual CPU', cores: 2, load_percent: 3, load_average: [0.1, 0.2, 0.3] }),
  memory: () => Promise.resolve({ total_bytes: 2 ** 30, used_bytes: 2 ** 28, available_bytes: 3 * 2 ** 28 }),
  disks: () => Promise.resolve([{ mount: '/var', device: '/dev/vda4', fs_type: 'ext4', size_bytes: 2 ** 30, used_bytes: 2 ** 20 }]),
  interfaces: () => Promise.resolve([{ name: 'eth0', mac: '52:54:00:12:34:56', up: true, addresses: ['10.0.2.15/24'] }]),
};
const powered: string[] = [];
const host: HostView = {
  identity: () => ({ version: '1.2.3', slot: 'a' }),
  state: () => 'running',
  hostname: () => 'test-host',
  config: () => ({ config: loadMachineConfig('hostname: test-host\n', 'x').config, source: 'fw_cfg:opt/berth/config', origin: 'fw_cfg' }),
  requestPower: (action) => void powered.push(action),
};

const logger = createMemoryLogger('api');
const router = new Router();
registerHostRoutes(router, {
  host,
  probe,
  logs: { tail: (n) => Promise.resolve(['level=info msg=one', 'level=info msg=two'].slice(-n)), follow: () => Promise.resolve() },
  now: () => now,
  apiVersion: '1.2.3',
});

const dir = t.testdir();
const socketPath = path.join(dir, 'api.sock');
const unix = await listenUnix(socketPath, createRequestHandler(router, logger, 'unix'));
t.teardown(() => unix.close());

function call(method: string, urlPath: string, body?: string | Buffer, contentType = 'application/json'): Promise<{ status: number; json: ErrorJson; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path: urlPath, headers: body === undefined ? {} : { 'content-type': contentType } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let json: ErrorJson = {};
        try {
          json = JSON.parse(text) as ErrorJson;
        } catch {
          json = {};
        }
        resolve({ status: res.statusCode ?? 0, json, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

void t.test('unix socket: mode 0600, status, errors as JSON bodies', async (t) => {
  t.equal((await stat(socketPath)).mode & 0o777, 0o600, 'socket is root only');
  const status = await call('GET', '/v1/status');
  t.equal(status.status, 200);
  t.match(status.json, { version: '1.2.3', slot: 'a', hostname: 'test-host', uptime_s: 61, boot_time: '2026-11-23T09:58:59.000Z' });

  const missing = await call('GET', '/v1/containers');
  t.equal(missing.status, 404);
  t.equal(missing.json.error.code, 'API_NOT_FOUND');
  const wrongMethod = await call('DELETE', '/v1/status');
  t.equal(wrongMethod.status, 405);
  t.equal(wrongMethod.json.error.code, 'API_METHOD_NOT_ALLOWED');

  const badJson = await call('POST', '/v1/power/reboot', '{"oops"');
  t.equal(badJson.status, 400);
  t.equal(badJson.json.error.code, 'API_BAD_JSON');
  t.match(badJson.json.error.message, /not valid JSON/);
  const unknownField = await call('POST', '/v1/power/reboot', '{"force": true}');
  t.equal(unknownField.status, 400);
  t.equal(unknownField.json.error.code, 'API_INVALID_BODY');
  t.match(unknownField.json.error.problems, [{ path: 'force' }]);
  const huge = await call('POST', '/v1/config/validate', Buffer.alloc(2 * 1024 * 1024, 0x61), 'application/yaml');
  t.equal(huge.status, 413);
  t.equal(huge.json.error.code, 'API_BODY_TOO_LARGE');
  const badQuery = await call('GET', '/v1/logs?tail=x&lines=3');
  t.equal(badQuery.status, 400);
  t.equal(badQuery.json.error.code, 'API_INVALID_QUERY');
  t.equal(badQuery.json.error.problems.length, 2, 'every query problem at once');
  t.same(powered, [], 'refused power requests did nothing');

  const logs = await call('GET', '/v1/logs?tail=1');
  t.equal(logs.text, 'level=info msg=two\n');
  const validation = await call('POST', '/v1/config/validate', 'hostname: -bad-\ntime_zone: Mars/Base\n', 'application/yaml');
  t.equal(validation.status, 200);
  t.equal(validation.json.valid, false);
  t.match(validation.json.problems, [{ path: 'hostname', line: 1 }, { path: 'time_zone', line: 2 }]);
  const reboot = await call('POST', '/v1/power/reboot');
  t.equal(reboot.status, 202);
  await new Promise((r) => setTimeout(r, 50));
  t.same(powered, ['reboot'], 'reboot requested after the answer');
});

void t.test('berth ctl over the Unix socket', async (t) => {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s), readFile: () => Promise.resolve('hostname: ok\n') };
  const status = parseCtlArgs(['--host', `unix://${socketPath}`, 'status']);
  t.equal(await runCtl(status, createApiClient(status.target), io), 0);
  t.match(out.join(''), /Version\s+1\.2\.3 on slot a/);
  const gone = parseCtlArgs(['--host', `unix://${dir}/nothing.sock`, 'status']);
  t.equal(await runCtl(gone, createApiClient(gone.target), io), 3, 'exit 3 when the socket is missing');
  t.match(err.join(''), /no such socket/);
  const validate = parseCtlArgs(['--host', `unix://${socketPath}`, 'config', 'validate', 'x.yaml', '--json']);
  out.length = 0;
  t.equal(await runCtl(validate, createApiClient(validate.target), io), 0);
  t.match(JSON.parse(out.join('')), { valid: true });
});

void t.test('mutual TLS: the right client certificate only', async (t) => {
  const ca = issueCertificate({ role: 'ca', commonName: 'test CA', notBefore: now, validDays: 3650 });
  const otherCa = issueCertificate({ role: 'ca', commonName: 'other CA', notBefore: now, validDays: 3650 });
  const server = issueCertificate({ role: 'server', commonName: 'localhost', altNames: ['localhost', '127.0.0.1'], notBefore: now, validDays: 30, issuer: ca });
  const client = issueCertificate({ role: 'client', commonName: 'admin', notBefore: now, validDays: 30, issuer: ca });
  const stranger = issueCertificate({ role: 'client', commonName: 'mallory', notBefore: now, validDays: 30, issuer: otherCa });
  const listener = await listenTls('127.0.0.1', 0, { certPem: server.certPem, keyPem: server.keyPem, clientCaPem: ca.certPem }, createRequestHandler(router, logger, 'tls'), logger);
  t.teardown(() => listener.close());
  const port = Number(/:(\d+)$/.exec(listener.address)?.[1]);

  const get = (options: https.RequestOptions): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, path: '/v1/status', ca: ca.certPem, ...options }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
  t.equal(await get({ cert: client.certPem, key: client.keyPem }), 200, 'a client certificate from the CA gets in');
  await t.rejects(get({}), 'no client certificate: refused');
  await t.rejects(get({ cert: stranger.certPem, key: stranger.keyPem }), 'a certificate from another CA: refused');

  const files = t.testdir({ 'ca.crt': ca.certPem, 'client.crt': client.certPem, 'client.key': client.keyPem, 'bad.crt': stranger.certPem, 'bad.key': stranger.keyPem });
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s), readFile: () => Promise.resolve('') };
  const base = ['--host', `https://127.0.0.1:${port}`, '--key', `${files}/client.key`, '--cert', `${files}/client.crt`];
  const withCa = parseCtlArgs([...base, '--ca', `${files}/ca.crt`, 'status', '--json']);
  t.equal(await runCtl(withCa, createApiClient(withCa.target), io), 0, 'ctl with --ca');
  t.match(JSON.parse(out.join('')), { slot: 'a', version: '1.2.3' });
  const pinned = parseCtlArgs([...base, '--server-sha256', certificateFingerprint(server.certPem), 'status']);
  t.equal(await runCtl(pinned, createApiClient(pinned.target), io), 0, 'ctl with --server-sha256');
  const wrongPin = parseCtlArgs([...base, '--server-sha256', certificateFingerprint(client.certPem), 'status']);
  t.equal(await runCtl(wrongPin, createApiClient(wrongPin.target), io), 3, 'a wrong pin does not connect');
  t.match(err.join(''), /pinned/);
  const badClient = parseCtlArgs(['--host', `https://127.0.0.1:${port}`, '--key', `${files}/bad.key`, '--cert', `${files}/bad.crt`, '--ca', `${files}/ca.crt`, 'status']);
  t.equal(await runCtl(badClient, createApiClient(badClient.target), io), 3, 'a refused client certificate is exit 3');
  t.match(err.join(''), /TLS with https:\/\/127\.0\.0\.1/);
});

void t.test('host log file: the last lines, then lines appended (and after a rotation)', async (t) => {
  const { appendFile, rename, writeFile } = await import('node:fs/promises');
  const { createFileLogs } = await import('../../src/api/host-logs.ts');
  const file = path.join(t.testdir(), 'init.log');
  const logs = createFileLogs(file, 20);
  t.same(await logs.tail(5), [], 'no file yet: no lines');
  await writeFile(file, Array.from({ length: 5000 }, (_, i) => `n=${i}`).join('\n') + '\n');
  t.same(await logs.tail(3), ['n=4997', 'n=4998', 'n=4999']);
  t.equal((await logs.tail(4000)).length, 4000, 'across read chunks');
  t.equal((await logs.tail(10_000))[0], 'n=0', 'the whole file when asked for more');
  const seen: string[] = [];
  const stop = new AbortController();
  const following = logs.follow((line) => {
    seen.push(line);
    if (line === 'after=rotation') stop.abort();
  }, stop.signal);
  await new Promise((r) => setTimeout(r, 60));
  await appendFile(file, 'a=1\nb=');
  await new Promise((r) => setTimeout(r, 60));
  await appendFile(file, '2\n');
  await new Promise((r) => setTimeout(r, 60));
  await rename(file, `${file}.1`);
  await writeFile(file, 'after=rotation\n');
  await following;
  t.same(seen, ['a=1', 'b=2', 'after=rotation'], 'partial lines wait for their end; a rotated file is read anew');
});

void t.test('the probe child: one process answers every fact of a status', async (t) => {
  const { createChildProbe } = await import('../../src/api/probe-child.ts');
  const dir = t.testdir({
    'probe.mjs': `process.stdout.write(JSON.stringify({ uptime: { ok: 12 }, cpu: { error: 'lscpu missing' }, memory: { ok: { total_bytes: 1, used_bytes: 0, available_bytes: 1 } }, disks: { ok: [] }, interfaces: { ok: [] } }));`,
    'broken.mjs': 'process.exit(3)',
  });
  const childProbe = createChildProbe(process.execPath, path.join(dir, 'probe.mjs'));
  const status = await collectStatus({ host, probe: childProbe, now: () => now });
  t.match(status, { uptime_s: 12, cpu: null, memory: { total_bytes: 1 }, warnings: ['cpu: lscpu missing'] });
  const broken = await collectStatus({ host, probe: createChildProbe(process.execPath, path.join(dir, 'broken.mjs')), now: () => now });
  t.equal(broken.warnings.length, 5, 'a failed child leaves every fact missing, with the reason');
  t.match(broken.warnings[0], /berth\.mjs probe failed/);
});
