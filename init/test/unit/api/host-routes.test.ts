/**
 * The host endpoints with fakes: status (a failing probe leaves null and a warning), logs
 * (tail, follow), config (redaction, validation with lines), power (202, then init's
 * shutdown; 409 while shutting down), and the OpenAPI document listing every route, which
 * must equal the committed init/src/api/openapi.json (BERTH_UPDATE_OPENAPI=1 rewrites it).
 */
import { API_ROUTES } from '../../../../lib/api/index.ts';
import { readFile, writeFile } from 'node:fs/promises';
import t from 'tap';
import { loadMachineConfig } from '../../../../lib/config/machine-config.ts';
import { buildOpenApiDocument } from '../../../src/api/core/openapi.ts';
import { collectStatus, registerHostRoutes, validateConfigText, type HostProbe, type HostView } from '../../../src/api/core/host-routes.ts';
import { ApiError, Router, type ApiRequest, type ApiResponse } from '../../../src/api/core/router.ts';
import { registerContainerRoutes, type ContainerControl } from '../../../src/api/core/container-routes.ts';
import { registerImageRoutes, type ImageControl } from '../../../src/api/core/image-routes.ts';
import { registerConfigRoutes, type ConfigControl } from '../../../src/api/core/config-routes.ts';
import { registerUpdateRoutes, type UpdateControl } from '../../../src/api/core/update-routes.ts';

const OPENAPI_FILE = new URL('../../../src/api/openapi.json', import.meta.url);

const probe: HostProbe = {
  uptimeSeconds: () => Promise.resolve(3725.46),
  cpu: () => Promise.reject(new Error('lscpu not found')),
  memory: () => Promise.resolve({ total_bytes: 1000, used_bytes: 400, available_bytes: 600 }),
  disks: () => Promise.resolve([]),
  interfaces: () => Promise.resolve([{ name: 'eth0', mac: 'm', up: true, addresses: ['10.0.2.15/24'] }]),
};

function setup(state = 'running') {
  const powered: string[] = [];
  const host: HostView = {
    identity: () => ({ version: '0.9.0', slot: 'b' }),
    state: () => state,
    hostname: () => 'h1',
    config: () => ({
      config: loadMachineConfig('api:\n  listen: ["0.0.0.0:7443"]\n  client_ca: /etc/ca.pem\n  server_cert: "-----BEGIN CERTIFICATE-----\\nx\\n-----END CERTIFICATE-----"\n  server_key: "-----BEGIN PRIVATE KEY-----\\nx\\n-----END PRIVATE KEY-----"\n', 't').config,
      source: 'fw_cfg:opt/berth/config',
      origin: 'fw_cfg',
    }),
    requestPower: (action) => void powered.push(action),
  };
  const followed: string[] = [];
  const router = new Router();
  registerHostRoutes(router, {
    host,
    probe,
    logs: {
      tail: (n) => Promise.resolve(['a=1', 'b=2', 'c=3'].slice(-n)),
      follow: (onLine) => {
        for (const line of ['d=4', 'e=5']) onLine(line);
        followed.push('done');
        return Promise.resolve();
      },
    },
    now: () => new Date('2026-01-01T01:00:00Z'),
    apiVersion: '0.9.0',
  });
  const call = (method: string, path: string, extra: Partial<ApiRequest> = {}): Promise<ApiResponse> => {
    const { route, params } = router.resolve(method, path);
    return route.handler({ method: route.method, path, params, query: {}, body: undefined, signal: new AbortController().signal, ...extra });
  };
  return { router, call, powered, followed };
}

void t.test('status: facts from the probe, null and a warning for a failed one', async (t) => {
  const { call } = setup();
  const answer = await call('GET', '/v1/status');
  t.equal(answer.status, 200);
  t.matchSnapshot('json' in answer ? answer.json : undefined, 'status body');
  const booting: HostView = {
    identity: () => undefined,
    state: () => 'booting',
    hostname: () => 'x',
    config: () => ({ config: loadMachineConfig('', 'x').config, source: 'defaults', origin: 'defaults' }),
    requestPower: () => undefined,
  };
  const direct = await collectStatus({ host: booting, probe, now: () => new Date(0) });
  t.equal(direct.slot, 'unknown', 'before the boot identity is known');
});

void t.test('logs: the last N lines, and followed lines', async (t) => {
  const { call, followed } = setup();
  const tail = await call('GET', '/v1/logs', { query: { tail: 2 } });
  t.same(tail, { status: 200, text: 'b=2\nc=3\n', contentType: 'text/plain; charset=utf-8' });
  const none = await call('GET', '/v1/logs', { query: { tail: 0 } });
  t.equal('text' in none ? none.text : undefined, '');
  const follow = await call('GET', '/v1/logs', { query: { tail: 1, follow: true } });
  const chunks: string[] = [];
  if (!('stream' in follow)) throw new Error('expected a stream');
  await follow.stream((chunk) => void chunks.push(chunk), new AbortController().signal);
  t.same(chunks, ['c=3\n', 'd=4\n', 'e=5\n']);
  t.same(followed, ['done']);
});

void t.test('config: inline private keys are not sent back', async (t) => {
  const { call } = setup();
  const answer = await call('GET', '/v1/config');
  const body = ('json' in answer ? answer.json : {}) as { config: { api: Record<string, unknown> }; origin: string };
  t.equal(body.origin, 'fw_cfg');
  t.equal(body.config.api.server_key, '<redacted>');
  t.match(body.config.api.server_cert, /BEGIN CERTIFICATE/);
  t.equal(body.config.api.client_ca, '/etc/ca.pem');
});

void t.test('config validate: every problem with its line, warnings apart', async (t) => {
  t.matchSnapshot(validateConfigText('hostname: bad_name!\napi:\n  listen: ["0.0.0.0:99999", "host:1"]\n'), 'invalid config');
  t.matchSnapshot(validateConfigText('api:\n  listen: ["[::]:7443"]\n  server_key: /k.pem\n').problems, 'TCP without client_ca, a key without its certificate');
  t.match(validateConfigText('hostname: a\nbogus: 1\n').problems, [{ path: 'bogus', line: 2, message: /unknown key/ }]);
  const valid = validateConfigText('debug:\n  shell: ttyS1\n');
  t.equal(valid.valid, true);
  t.equal(valid.warnings.length, 1, 'the debug shell warning');
  t.same(validateConfigText('').problems, []);
});

void t.test('power: 202 first, the shutdown after; 409 while shutting down', async (t) => {
  const { call, powered } = setup();
  const answer = await call('POST', '/v1/power/poweroff');
  t.equal(answer.status, 202);
  t.same(powered, [], 'nothing before the answer is sent');
  if ('after' in answer) answer.after?.();
  t.same(powered, ['poweroff']);
  const late = setup('shutting-down');
  await t.rejects(late.call('POST', '/v1/power/reboot'), new ApiError(409, 'API_SHUTTING_DOWN', 'The host is already shutting down'));
});

void t.test('OpenAPI: every registered route, and routes registered later too', async (t) => {
  const { router, call } = setup();
  router.register('containers', [
    { method: 'GET', path: '/v1/containers', operationId: 'listContainers', summary: 'x', responses: { 200: { description: 'x' } }, handler: () => Promise.resolve({ status: 200, json: [] }) },
  ]);
  const answer = await call('GET', '/v1/openapi.json');
  const doc = ('json' in answer ? answer.json : {}) as { paths: Record<string, Record<string, unknown>>; openapi: string };
  t.equal(doc.openapi, '3.1.0');
  for (const route of router.routes()) t.ok(doc.paths[route.path]?.[route.method.toLowerCase()], `${route.method} ${route.path} is documented`);
  t.equal(Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0), router.routes().length, 'and nothing else');
});

void t.test('the committed openapi.json is the document of the host endpoints', async (t) => {
  const { router } = setup();
  // The container and image endpoints as init registers them (only their descriptions are used here).
  const unused = (): never => {
    throw new Error('not called');
  };
  const engine: ContainerControl = { list: unused, inspect: unused, start: unused, stop: unused, restart: unused, exec: unused, readLog: unused };
  const images: ImageControl = { listImages: unused, pull: unused, remove: unused, prune: unused };
  registerContainerRoutes(router, engine);
  registerImageRoutes(router, images);
  const configControl: ConfigControl = { current: unused, pendingTry: unused, apply: unused, confirm: unused };
  const updateControl: UpdateControl = { agent: unused, booted: unused, strategy: unused, progress: unused, applyPending: unused, requestApply: unused, gates: unused, approve: unused, rollout: unused, fleet: unused };
  registerConfigRoutes(router, configControl);
  registerUpdateRoutes(router, updateControl, unused);
  // The route table the CLI calls through (lib/api) is exactly what the server registers.
  const registered = router.routes().map((r) => `${r.operationId} ${r.method} ${r.path}`).sort();
  t.same(registered, Object.values(API_ROUTES).map((r) => `${r.operationId} ${r.method} ${r.path}`).sort(), 'lib/api API_ROUTES lists every registered route, and nothing else');
  const text = `${JSON.stringify(buildOpenApiDocument(router.routes(), '0.1.0'), null, 2)}\n`;
  if (process.env.BERTH_UPDATE_OPENAPI === '1') await writeFile(OPENAPI_FILE, text);
  t.equal(await readFile(OPENAPI_FILE, 'utf8'), text, 'init/src/api/openapi.json is current (BERTH_UPDATE_OPENAPI=1 npx tap init/test/unit/api/host-routes.test.ts rewrites it)');
});
