/**
 * The management API on a booted host: the machine config turns on a TCP listener with a
 * client CA from `berth keys api`; QEMU forwards a loopback port to it. The right client
 * certificate gets /v1/status (slot a, the image version); no certificate and a certificate
 * from another CA are refused; the Unix socket is root only and the generated server key
 * 0600; `berth ctl` works end to end (status, config validate, logs, logs -f, poweroff in order).
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import t from 'tap';
import { apiConfigSection, ctlArgv, ctlConnection, GUEST_API_PORT, makeClientKeys, runCtl } from '../harness/api-client.ts';
import { runVmCase } from '../harness/case.ts';
import { freePort } from '../../lib/sys/free-port.ts';
import { REPO_ROOT } from '../../vm/src/index.ts';

const keysDir = t.testdir();
const keys = await makeClientKeys(keysDir, 'admin');
const otherKeys = await makeClientKeys(path.join(keysDir, 'other'), 'mallory');

const port = await freePort();
const CONFIG = `hostname: api-test
${apiConfigSection(keys.caPem)}debug:
  shell: ttyS1
`;

interface Answer {
  status: number;
  body: string;
}

function get(urlPath: string, options: https.RequestOptions): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // The server certificate was made at first boot; it is pinned by fingerprint below instead.
    const req = https.request({ host: '127.0.0.1', port, path: urlPath, rejectUnauthorized: false, timeout: 20_000, ...options }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

const ctl = (args: string[]) => runCtl(args, 60_000);

await runVmCase(t, 'api', { boots: 1, config: CONFIG, hostForwards: [{ protocol: 'tcp', hostPort: port, guestPort: GUEST_API_PORT }] }, async ({ machine, image }) => {
  const vm = await machine.boot();
  const ready = await vm.waitForReady();
  t.comment(`boot_ms=${ready.bootMs} wall_ms=${ready.wallMs} host_port=${port}`);
  const certLine = await vm.waitFor(/msg="API server certificate" origin=generated sha256=([0-9a-f]{64})/, 30_000);
  const fingerprint = certLine.match[1] ?? '';
  await vm.waitFor(/msg="API listening" address=https:\/\/0\.0\.0\.0:7443/, 30_000);
  const client = { cert: await readFile(keys.cert), key: await readFile(keys.key) };

  await t.test('the right client certificate gets the status', async (t) => {
    const answer = await get('/v1/status', client);
    t.equal(answer.status, 200);
    const status = JSON.parse(answer.body) as Record<string, unknown>;
    t.match(status, { slot: 'a', version: image.manifest.version, hostname: 'api-test', state: 'running' });
    t.comment(`status=${answer.body.replace(/\s+/g, ' ').slice(0, 600)}`);
    t.match(status, { memory: { total_bytes: Number }, cpu: { cores: Number } }, 'systeminformation facts are there');
    t.match(JSON.stringify(status.interfaces), /10\.0\.2\.15\/24/, 'eth0 and its DHCP address');
    t.same(status.warnings, [], 'every probe answered');
    const doc = JSON.parse((await get('/v1/openapi.json', client)).body) as { paths: Record<string, unknown> };
    t.ok(doc.paths['/v1/status'] && doc.paths['/v1/power/reboot'], 'the OpenAPI document lists the endpoints');
  });

  await t.test('no certificate, or one from another CA, is refused', async (t) => {
    await t.rejects(get('/v1/status', {}), 'no client certificate');
    const stranger = { cert: await readFile(otherKeys.cert), key: await readFile(otherKeys.key) };
    await t.rejects(get('/v1/status', stranger), 'a certificate from another CA');
    await vm.waitFor(/msg="API client refused"/, 10_000);
  });

  await t.test('socket and key modes inside the guest', async (t) => {
    const shell = await vm.shell();
    t.equal((await shell.check('stat -c %a /run/berth/api.sock')).trim(), '600', 'the Unix socket is root only');
    t.equal((await shell.check('stat -c %a /var/lib/berth/api/server.key')).trim(), '600', 'the generated key is 0600');
  });

  const base = ctlConnection(port, keys, fingerprint);

  await t.test('berth ctl end to end', async (t) => {
    const status = await ctl([...base, 'status']);
    t.equal(status.code, 0, status.stderr);
    t.match(status.stdout, new RegExp(`Version\\s+${image.manifest.version.replace(/\./g, '\\.')} on slot a`));
    t.match(status.stdout, /eth0\s+up/);
    t.comment(status.stdout);
    const json = await ctl([...base, 'status', '--json']);
    t.match(JSON.parse(json.stdout), { slot: 'a' });
    const logs = await ctl([...base, 'logs', '--tail', '5']);
    t.equal(logs.code, 0);
    t.equal(logs.stdout.trim().split('\n').length, 5, 'the last five host log lines');
    const badConfig = path.join(keysDir, 'bad.yaml');
    await writeFile(badConfig, 'hostname: ok\napi:\n  listen: ["0.0.0.0:7443"]\n');
    const validate = await ctl([...base, 'config', 'validate', badConfig]);
    t.equal(validate.code, 1, 'an invalid config exits 1');
    t.match(validate.stderr, /bad\.yaml:\d+:\d+: api\.client_ca: TCP listeners need client_ca/);
    const wrongPin = await ctl([...base.slice(0, -1), 'a'.repeat(64), 'status']);
    t.equal(wrongPin.code, 3, 'a wrong server fingerprint cannot connect');
    const otherClient = await ctl([...ctlConnection(port, otherKeys, fingerprint), 'status']);
    t.equal(otherClient.code, 3, 'a refused client certificate cannot connect');
    t.match(otherClient.stderr, /TLS with https:\/\/127\.0\.0\.1/);
  });

  await t.test('berth ctl logs -f follows the host log', async (t) => {
    const child = spawn(process.execPath, ctlArgv([...base, 'logs', '-f', '--tail', '0', '--json']), { cwd: REPO_ROOT });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (out += chunk));
    const seen = new Promise<boolean>((resolve) => {
      const deadline = setTimeout(() => resolve(false), 60_000);
      const poll = setInterval(() => {
        if (/"path":"\/v1\/openapi\.json"/.test(out)) {
          clearTimeout(deadline);
          clearInterval(poll);
          resolve(true);
        }
      }, 200);
    });
    // Give the follower time to connect, then cause a log line.
    await new Promise((resolve) => setTimeout(resolve, 8000));
    await get('/v1/openapi.json', client);
    t.ok(await seen, 'the request made after following began shows up, as JSON');
    child.kill('SIGTERM');
  });

  await t.test('berth ctl poweroff shuts down in order', async (t) => {
    const off = await ctl([...base, 'poweroff']);
    t.equal(off.code, 0, off.stderr);
    await vm.waitFor(/msg="Shutdown requested" trigger=api-poweroff action=poweroff/, 30_000);
    const exit = await vm.waitForExit(120_000);
    t.equal(exit.code, 0, 'QEMU exits after the guest powers off');
  });
});
