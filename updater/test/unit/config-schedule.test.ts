import t from 'tap';
import { loadYaml } from '../../../lib/config/load.ts';
import { object } from '../../../lib/config/validate.ts';
import { parseUpdateSettings, updateSection } from '../../../lib/config/sections/update.ts';
import { checkDelayMs, retryDelayMs } from '../../src/core/schedule.ts';
import { errorCode } from '../../../lib/errors.ts';

void t.test('the issue example parses', (t) => {
  const { settings, problems } = parseUpdateSettings({
    server: 'https://updates.example.com/berth/',
    channel: 'stable',
    check_interval: '1h',
    strategy: ['window', 'fleetlock'],
    window: { days: ['sat', 'sun'], start: '02:00', length: '3h', time_zone: 'Europe/Berlin' },
    fleetlock: { url: 'https://lock.example.com/', group: 'default' },
    throttle: { write_bps: '5M', write_iops: 500, cpu: '20%', memory: '256M' },
    soak: '2m',
    allow_downgrade: false,
  });
  t.same(problems, []);
  t.matchSnapshot(settings);
  t.end();
});

void t.test('defaults and required sub-sections', (t) => {
  const { settings } = parseUpdateSettings({ server: 'http://10.0.2.2:8080/berth' });
  t.same(settings, { server: 'http://10.0.2.2:8080/berth/', channel: 'stable', checkIntervalMs: 3_600_000, gates: [], strategy: 'immediate', pin: {}, throttle: {}, soakMs: 120_000, allowDowngrade: false, maxMetadataAgeMs: 259_200_000 });
  t.same(parseUpdateSettings({ server: 'http://x/', strategy: 'window' }).problems, ['update: strategy "window" needs update.window: { days, start, length, time_zone }']);
  t.same(parseUpdateSettings({ server: 'http://x/', strategy: 'fleetlock' }).problems, ['update: strategy "fleetlock" needs update.fleetlock: { url, group }']);
  t.same(parseUpdateSettings({ server: 'http://x/', strategy: 'fleetlock', fleetlock: { url: 'http://lock/' } }).settings?.fleetlock, { url: 'http://lock/', group: 'default' });
  t.end();
});

void t.test('every problem at once, with paths', (t) => {
  const problems = parseUpdateSettings({ server: 'ftp://x', channel: 'Nightly!', check_interval: '10s', strategy: 'yolo', fleetlock: { url: 'x', group: 'a b' }, throttle: { cpu: '0%' }, soak: 'long', allow_downgrade: 'no', typo: 1 }).problems;
  t.same(problems.map((p) => p.split(': ')[0]), [
    'update.server',
    'update.channel',
    'update.check_interval',
    'update.strategy',
    'update.fleetlock.url',
    'update.fleetlock.group',
    'update.throttle.cpu',
    'update.soak',
    'update.allow_downgrade',
    'update.typo',
  ]);
  t.matchSnapshot(problems);
  t.end();
});

void t.test('check jitter and retry backoff', (t) => {
  t.equal(checkDelayMs(3_600_000, 0), 3_240_000);
  t.equal(checkDelayMs(3_600_000, 0.5), 3_600_000);
  t.ok(checkDelayMs(3_600_000, 0.999999) < 3_960_000);
  t.same([1, 2, 3, 4].map((a) => retryDelayMs(a, 1)), [30_000, 60_000, 120_000, 240_000]);
  t.equal(retryDelayMs(1, 0), 15_000, 'at least half');
  t.equal(retryDelayMs(50, 1), 3_600_000, 'capped at one hour');
  t.equal(retryDelayMs(10, 1, 600_000), 600_000, 'capped at the check interval when asked');
  t.equal(retryDelayMs(0, 1), 30_000);
  t.end();
});

void t.test('the issue YAML loads through lib/config with source positions', (t) => {
  const yaml = [
    'update:',
    '  server: https://updates.example.com/berth/   # the directory written by `berth publish`',
    '  channel: stable',
    '  check_interval: 1h',
    '  strategy: [window, fleetlock]  # immediate | window | fleetlock | soak | manual, or a list',
    '  window: { days: [sat, sun], start: "02:00", length: 3h, time_zone: Europe/Berlin }',
    '  fleetlock: { url: https://lock.example.com/, group: default }',
    '  throttle: { write_bps: 5M, write_iops: 500, cpu: 20%, memory: 256M }',
    '  soak: 2m',
    '  allow_downgrade: false',
    '',
  ].join('\n');
  const schema = object(updateSection);
  const { value } = loadYaml(yaml, 'config.yaml', schema);
  t.equal(value.update?.throttle.writeBps, 5_242_880);
  t.equal(value.update?.window?.startMinutes, 120);
  const error = t.throws(() => loadYaml(yaml.replace('length: 3h', 'length: 3 hours'), 'config.yaml', schema), { code: errorCode('CONFIG_INVALID') }) as Error;
  t.match(error.message, 'config.yaml:6:');
  t.match(error.message, 'update.window.length');
  t.same(loadYaml('', 'config.yaml', schema).value, {}, 'no update section: no updates');
  t.end();
});

void t.test('strategy shorthands and lists of gates', (t) => {
  const WINDOW = { days: ['sat'], start: '02:00', length: '2h', time_zone: 'UTC' };
  const LOCK = { url: 'http://lock/' };
  const gates = (update: Record<string, unknown>): unknown => parseUpdateSettings({ server: 'http://x/', ...update }).settings?.gates;
  t.same(gates({ strategy: 'immediate' }), []);
  t.same(gates({ strategy: [] }), [], 'an empty list is immediate too');
  t.same(gates({ strategy: 'manual' }), ['manual']);
  t.same(gates({ strategy: 'soak' }), ['soak']);
  t.same(gates({ strategy: 'window', window: WINDOW }), ['window']);
  t.same(gates({ strategy: ['fleetlock', 'window'], window: WINDOW, fleetlock: LOCK }), ['window', 'fleetlock']);
  t.same(gates({ strategy: ['window', 'fleetlock', 'soak', 'manual'], window: WINDOW, fleetlock: LOCK }), ['window', 'fleetlock', 'soak', 'manual'], 'any combination is valid');
  t.equal(parseUpdateSettings({ server: 'http://x/', strategy: ['window', 'fleetlock'], window: WINDOW, fleetlock: LOCK }).settings?.strategy, 'window+fleetlock');
  t.same(parseUpdateSettings({ server: 'http://x/', pin: '2.3.x', max_version: '2.3.9' }).settings?.pin, { pin: '2.3.x', prefix: [2, 3], maxVersion: '2.3.9' });
  t.same(parseUpdateSettings({ server: 'http://x/', throttle: { download_bps: '2M' } }).settings?.throttle, { downloadBps: 2_097_152 });
  t.match(parseUpdateSettings({ server: 'http://x/', throttle: { download_bps: '10' } }).problems, ['update.throttle.download_bps: expected a size']);
  t.end();
});

void t.test('a setting that would do nothing is an error that says why', (t) => {
  const WINDOW = { days: ['sat'], start: '02:00', length: '2h', time_zone: 'UTC' };
  const LOCK = { url: 'http://lock/' };
  const problems = (update: Record<string, unknown>): string[] => parseUpdateSettings({ server: 'http://x/', ...update }).problems;
  // The first config form accepted this and ignored both sections.
  t.same(problems({ strategy: 'immediate', window: WINDOW, fleetlock: LOCK }), [
    'update.window: window is set but strategy "immediate" has no window gate, so it would do nothing: add window to strategy (e.g. [window]) or remove it',
    'update.fleetlock: fleetlock is set but strategy "immediate" has no fleetlock gate, so it would do nothing: add fleetlock to strategy (e.g. [fleetlock]) or remove it',
  ]);
  t.same(problems({ window: WINDOW }).length, 1, 'no strategy is immediate: a window alone is refused');
  t.same(problems({ strategy: 'window', window: WINDOW, fleetlock: LOCK }), [
    'update.fleetlock: fleetlock is set but strategy "window" has no fleetlock gate, so it would do nothing: add fleetlock to strategy (e.g. [window, fleetlock]) or remove it',
  ]);
  t.same(problems({ strategy: ['manual', 'fleetlock'] }), ['update: strategy "fleetlock+manual" needs update.fleetlock: { url, group }']);
  t.same(problems({ strategy: ['immediate', 'window'], window: WINDOW }), ['update.strategy[0]: "immediate" means no gates: write strategy: immediate (or []) on its own']);
  t.same(problems({ strategy: ['soak', 'soak'] }), ['update.strategy[1]: gate "soak" is listed twice']);
  t.same(problems({ strategy: ['window', 'lock'], window: WINDOW }), ['update.strategy[1]: expected a gate (window, fleetlock, soak, manual) but got "lock"']);
  t.same(problems({ pin: '2.3.x', max_version: '2.2.9' }), ['update.max_version: max_version 2.2.9 is below every version of pin 2.3.x, so no release could ever be taken: raise max_version or change the pin']);
  t.same(problems({ pin: '2.3', max_version: 'latest' }).map((p) => p.split(':')[0]), ['update.pin', 'update.max_version']);
  t.end();
});

void t.test('fleetlock id and TLS (a berth coordinator with mutual TLS)', (t) => {
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  const ok = parseUpdateSettings({ server: 'http://x/', strategy: 'fleetlock', fleetlock: { url: 'https://10.0.0.5:7480', id: 'node-1', tls: { ca: '/etc/berth/fleet-ca.crt', cert: pem, key: '/etc/berth/host.key' } } });
  t.same(ok.problems, []);
  t.same(ok.settings?.fleetlock, { url: 'https://10.0.0.5:7480/', group: 'default', id: 'node-1', tls: { ca: '/etc/berth/fleet-ca.crt', cert: pem, key: '/etc/berth/host.key' } });
  t.same(parseUpdateSettings({ server: 'http://x/', strategy: 'fleetlock', fleetlock: { url: 'https://lock/', tls: { ca: '/ca.crt' } } }).problems, [], 'a private CA alone (anonymous hosts) is fine');
  const problems = (fleetlock: unknown) => parseUpdateSettings({ server: 'http://x/', strategy: 'fleetlock', fleetlock }).problems;
  t.same(problems({ url: 'https://lock/', tls: { cert: '/host.crt' } }), ['update.fleetlock.tls: tls.cert and tls.key go together: give both (berth keys fleet host ID writes them) or neither']);
  t.same(problems({ url: 'http://lock/', tls: { ca: '/ca.crt' } }), ['update.fleetlock.tls: tls is set but url http://lock/ is plain http, so it would do nothing: use an https URL or remove tls']);
  t.same(problems({ url: 'https://lock/', id: 'a/b', tls: { cert: 'relative.crt', key: '/k', typo: 1 } }).map((p) => p.split(':')[0]), ['update.fleetlock.id', 'update.fleetlock.tls.cert', 'update.fleetlock.tls.typo'], 'every problem with its path');
  t.end();
});
