import t from 'tap';
import { loadYaml } from '../../../lib/config/load.ts';
import { object } from '../../../lib/config/validate.ts';
import { parseUpdateSettings, updateSection } from '../../src/core/update-config.ts';
import { checkDelayMs, retryDelayMs } from '../../src/core/schedule.ts';

void t.test('the issue example parses', (t) => {
  const { settings, problems } = parseUpdateSettings({
    server: 'https://updates.example.com/berth/',
    channel: 'stable',
    check_interval: '1h',
    strategy: 'immediate',
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
  t.same(settings, { server: 'http://10.0.2.2:8080/berth/', channel: 'stable', checkIntervalMs: 3_600_000, strategy: 'immediate', throttle: {}, soakMs: 120_000, allowDowngrade: false });
  t.same(parseUpdateSettings({ server: 'http://x/', strategy: 'window' }).problems, ['update: strategy "window" needs update.window: { days, start, length, time_zone }']);
  t.same(parseUpdateSettings({ server: 'http://x/', strategy: 'fleetlock' }).problems, ['update: strategy "fleetlock" needs update.fleetlock: { url, group }']);
  t.same(parseUpdateSettings({ server: 'http://x/', fleetlock: { url: 'http://lock/' } }).settings?.fleetlock, { url: 'http://lock/', group: 'default' });
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
    '  strategy: immediate            # immediate | window | fleetlock | manual',
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
  const error = t.throws(() => loadYaml(yaml.replace('length: 3h', 'length: 3 hours'), 'config.yaml', schema), { code: 'CONFIG_INVALID' }) as Error;
  t.match(error.message, 'config.yaml:6:');
  t.match(error.message, 'update.window.length');
  t.same(loadYaml('', 'config.yaml', schema).value, {}, 'no update section: no updates');
  t.end();
});
