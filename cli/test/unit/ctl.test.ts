/**
 * `berth ctl` on the operator's side: argument parsing (snapshots of commands and of usage
 * errors), output formatting (snapshots), exit codes against a fake API client, and the help
 * text naming every subcommand.
 */
import t from 'tap';
import { errorCode, isBerthError } from '../../../lib/errors.ts';
import { HELP_TEXT, parseCliArgs } from '../../src/args.ts';
import { parseCtlArgs } from '../../src/ctl/args.ts';
import { ConnectError, type ApiClient } from '../../src/ctl/client.ts';
import { formatBytes, formatDuration, formatStatus, formatValidation, renderTable, type StatusView } from '../../src/ctl/format.ts';
import { createLogPrinter } from '../../src/ctl/run.ts';
import { fakeClient, json, runCapturing } from './ctl-fixtures.ts';

function parseOrError(argv: string[]): unknown {
  try {
    return parseCliArgs(argv);
  } catch (error) {
    if (isBerthError(error, 'CLI_USAGE')) return `CLI_USAGE: ${error.message}`;
    throw error;
  }
}

const CASES: string[][] = [
  ['ctl', 'status'],
  ['ctl', 'status', '--json'],
  ['ctl', '--json', 'logs', '-f', '--tail', '50'],
  ['ctl', 'logs', '--tail=0'],
  ['ctl', 'config', 'get'],
  ['ctl', 'config', 'validate', 'machine.yaml'],
  ['ctl', 'reboot'],
  ['ctl', 'poweroff', '--host', 'unix:///tmp/api.sock'],
  ['ctl', '--host', 'https://192.0.2.10', '--cert', 'c.crt', '--key', 'c.key', '--ca', 'ca.crt', 'status'],
  ['ctl', '--host', 'https://[fd00::1]:8443', '--cert', 'c.crt', '--key', 'c.key', '--server-sha256', 'AB:'.repeat(31) + 'AB', 'status'],
  ['ctl'],
  ['ctl', 'stats'],
  ['ctl', 'status', 'now'],
  ['ctl', 'config'],
  ['ctl', 'config', 'validate'],
  ['ctl', 'config', 'set', 'x'],
  ['ctl', 'status', '--follow'],
  ['ctl', 'logs', '--tail', '-1'],
  ['ctl', 'logs', '--tail'],
  ['ctl', 'status', '--verbose'],
  ['ctl', '--host', 'http://192.0.2.10:7443', 'status'],
  ['ctl', '--host', 'unix://relative.sock', 'status'],
  ['ctl', '--host', 'https://192.0.2.10/v1', '--cert', 'c', '--key', 'k', '--ca', 'ca', 'status'],
  ['ctl', '--host', 'https://192.0.2.10', 'status'],
  ['ctl', '--host', 'https://192.0.2.10', '--cert', 'c', '--key', 'k', 'status'],
  ['ctl', '--host', 'https://192.0.2.10', '--cert', 'c', '--key', 'k', '--ca', 'ca', '--server-sha256', 'a'.repeat(64), 'status'],
  ['ctl', '--server-sha256', 'xyz', 'status'],
  ['ctl', '--cert', 'c.crt', 'status'],
];

void t.test('ctl argument parsing', async (t) => {
  const results = Object.fromEntries(CASES.map((argv) => [argv.join(' '), parseOrError(argv)]));
  t.matchSnapshot(results);
  t.match(parseCtlArgs(['status']).target, { kind: 'unix', socketPath: '/run/berth/api.sock' }, 'the local socket by default');
});

void t.test('berth --help lists every subcommand', async (t) => {
  for (const usage of ['berth build', 'berth analyze boot', 'berth ctl', 'berth keys update-signing generate', 'berth keys api ca', 'berth keys api client', 'berth keys api server', 'berth keys fleet', 'berth help']) {
    t.ok(HELP_TEXT.includes(usage), usage);
  }
  for (const command of ['status', 'logs', 'config get', 'config validate FILE', 'reboot | poweroff']) t.ok(HELP_TEXT.includes(command), `ctl ${command}`);
  t.match(HELP_TEXT, /Exit codes: 0 ok, 1 .*, 2 usage, 3 cannot connect/);
});

const STATUS: StatusView = {
  version: '0.1.0',
  slot: 'a',
  state: 'running',
  hostname: 'berth',
  boot_time: '2026-11-23T10:00:00.000Z',
  uptime_s: 93784.2,
  init: { pid: 412, restarts: 0, last_restart_reason: null, rss_bytes: 84_000_000, heap_used_bytes: 21_000_000 },
  cpu: { model: 'QEMU Virtual CPU version 2.5+', cores: 2, load_percent: 3.4, load_average: [0.12, 0.05, 0] },
  memory: { total_bytes: 2_079_551_488, used_bytes: 187_342_848, available_bytes: 1_892_208_640 },
  disks: [
    { mount: '/', device: '/dev/mapper/root', fs_type: 'erofs', size_bytes: 104_857_600, used_bytes: 104_857_600 },
    { mount: '/var', device: '/dev/vda4', fs_type: 'ext4', size_bytes: 8_350_298_112, used_bytes: 61_300_736 },
  ],
  interfaces: [
    { name: 'eth0', mac: '52:54:00:12:34:56', up: true, addresses: ['10.0.2.15/24', 'fec0::5054:ff:fe12:3456/64'] },
    { name: 'eth1', mac: '52:54:00:12:34:57', up: false, addresses: [] },
  ],
  warnings: [],
};

void t.test('output formatting', async (t) => {
  t.matchSnapshot(formatStatus(STATUS), 'status table');
  t.matchSnapshot(formatStatus({ ...STATUS, init: { pid: 95, restarts: 2, last_restart_reason: 'heap-exhausted', rss_bytes: 61_000_000, heap_used_bytes: 9_000_000 } }), 'status of a restarted init');
  t.matchSnapshot(formatStatus({ ...STATUS, cpu: null, disks: null, interfaces: [], boot_time: null, uptime_s: null, warnings: ['cpu: lscpu took longer than 5000 ms'] }), 'status with missing facts');
  t.matchSnapshot(
    formatValidation('machine.yaml', {
      valid: false,
      problems: [
        { path: 'hostname', line: 1, column: 11, message: 'expected a host name' },
        { path: '', line: 0, column: 0, message: 'whole document' },
      ],
      warnings: [{ path: 'debug.shell', line: 4, column: 10, message: 'an unauthenticated root shell will run on /dev/ttyS1' }],
    }),
    'config validation',
  );
  t.equal(formatValidation('a.yaml', { valid: true, problems: [], warnings: [] }), 'a.yaml is a valid machine config\n');
  t.equal(renderTable(['A', 'BB'], [['long', 'x'], ['y', '']]), 'A     BB\nlong  x\ny\n');
  t.same([0, 1023, 1024, 1536, 5 * 1024 ** 3].map(formatBytes), ['0 B', '1023 B', '1.0 KiB', '1.5 KiB', '5.0 GiB']);
  t.same([0, 59.9, 3725, 90061].map(formatDuration), ['0s', '59s', '1h 2m 5s', '1d 1h 1m']);
});

void t.test('log printer: lines across chunks, NDJSON with --json', async (t) => {
  const out: string[] = [];
  const printer = createLogPrinter((s) => void out.push(s), true);
  printer.chunk('level=info msg="Boot com');
  printer.chunk('plete" slot=a\nlevel=warn ');
  printer.chunk('msg=x');
  printer.end();
  t.same(out.map((line) => JSON.parse(line) as unknown), [{ level: 'info', msg: 'Boot complete', slot: 'a' }, { level: 'warn', msg: 'x' }]);
});

void t.test('exit codes and output against a fake API', async (t) => {
  const run = (argv: string[], client: ApiClient, file = '') => runCapturing(argv, client, { file });
  const status = await run(['status'], fakeClient({ 'GET /v1/status': json(200, STATUS) }));
  t.equal(status.code, 0);
  t.match(status.out, /^Host\s+berth \(running\)/);
  const statusJson = await run(['status', '--json'], fakeClient({ 'GET /v1/status': json(200, STATUS) }));
  t.same(JSON.parse(statusJson.out), STATUS, '--json prints the API answer');

  const refused = await run(['status'], fakeClient({ 'GET /v1/status': new ConnectError('Cannot connect to unix:///run/berth/api.sock: no such socket') }));
  t.equal(refused.code, 3, 'cannot connect: 3');
  t.match(refused.err, /^berth ctl: Cannot connect .* \[CTL_CANNOT_CONNECT\]/);

  const apiError = await run(['reboot'], fakeClient({ 'POST /v1/power/reboot': json(409, { error: { code: errorCode('API_SHUTTING_DOWN'), message: 'The host is already shutting down' } }) }));
  t.equal(apiError.code, 1, 'an API error: 1');
  t.equal(apiError.err, 'berth ctl: The host is already shutting down [API_SHUTTING_DOWN]\n');
  const apiErrorJson = await run(['reboot', '--json'], fakeClient({ 'POST /v1/power/reboot': json(409, { error: { code: errorCode('API_SHUTTING_DOWN'), message: 'busy' } }) }));
  t.same(JSON.parse(apiErrorJson.err), { error: { code: errorCode('API_SHUTTING_DOWN'), message: 'busy' } }, '--json errors are JSON on stderr');
  const notJson = await run(['status'], fakeClient({ 'GET /v1/status': { status: 502, contentType: 'text/html', body: '<html>' } }));
  t.equal(notJson.code, 1);
  t.match(notJson.err, /HTTP 502 \[HTTP_502\]/);

  const reboot = await run(['reboot'], fakeClient({ 'POST /v1/power/reboot': json(202, { action: 'reboot', message: 'Rebooting' }) }));
  t.equal(reboot.code, 0);
  t.equal(reboot.out, 'Rebooting the host at unix:///run/berth/api.sock\n');

  const invalid = fakeClient({ 'POST /v1/config/validate': json(200, { valid: false, problems: [{ path: 'hostname', line: 1, column: 11, message: 'bad' }], warnings: [] }) });
  const validation = await run(['config', 'validate', 'm.yaml'], invalid, 'hostname: _\n');
  t.equal(validation.code, 1, 'an invalid config: 1');
  t.match(validation.err, /m\.yaml:1:11: hostname: bad/);
  t.match(invalid.calls[0], { options: { body: 'hostname: _\n', contentType: 'application/yaml' } }, 'the file is sent as YAML');

  const config = await run(['config', 'get'], fakeClient({ 'GET /v1/config': json(200, { source: 'fw_cfg:opt/berth/config', origin: 'fw_cfg', config: { hostname: 'h', api: { listen: [] } } }) }));
  t.equal(config.code, 0);
  t.matchSnapshot(config.out, 'config get as YAML');

  const logsClient = fakeClient({ 'GET /v1/logs?tail=2&follow=1': { status: 200, contentType: 'text/plain', body: 'a=1\nb=2\n' } });
  const logs = await run(['logs', '--tail', '2', '-f'], logsClient);
  t.equal(logs.out, 'a=1\nb=2\n');
  t.equal(logsClient.calls[0]?.path, '/v1/logs?tail=2&follow=1');
});
