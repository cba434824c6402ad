import t from 'tap';
import { parseUpdateSettings } from '../../src/core/update-config.ts';
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
  t.same(parseUpdateSettings({ server: 'http://x/', strategy: 'window' }).problems, ['update.window: expected { days, start, length, time_zone }']);
  t.same(parseUpdateSettings({ server: 'http://x/', strategy: 'fleetlock' }).problems, ['update.fleetlock: expected { url, group }']);
  t.end();
});

void t.test('every problem at once, with paths', (t) => {
  t.same(
    parseUpdateSettings({ server: 'ftp://x', channel: 'Nightly!', check_interval: '10s', strategy: 'yolo', fleetlock: { url: 'x', group: 'a b' }, throttle: { cpu: '0%' }, soak: 'long', allow_downgrade: 'no', typo: 1 }).problems,
    [
      'update.typo: unknown key (expected one of server, channel, check_interval, strategy, window, fleetlock, throttle, soak, allow_downgrade)',
      'update.server: expected an http(s) URL of the directory written by berth publish',
      'update.channel: expected a channel name such as stable',
      'update.check_interval: expected at least 1m',
      'update.strategy: expected one of immediate, window, fleetlock, manual',
      'update.fleetlock.url: expected an http(s) URL of a FleetLock server',
      "update.fleetlock.group: expected letters, digits, '.' and '-'",
      'update.throttle.cpu: expected 1% to 10000% (100% = one CPU)',
      'update.soak: expected a duration such as 30s, 2m, 1h or 1h30m, got "long"',
      'update.allow_downgrade: expected true or false',
    ],
  );
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
