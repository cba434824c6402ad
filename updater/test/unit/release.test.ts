import t from 'tap';
import {
  channelMetadataPath,
  chooseRelease,
  compareVersions,
  parseChannelMetadata,
  parseSemVer,
  renderChannelMetadata,
  resolveBundleUrl,
  type ChannelMetadata,
} from '../../src/core/release.ts';

void t.test('semver precedence follows semver 2.0.0', (t) => {
  const ordered = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0', '1.0.1', '1.1.0', '1.10.0', '2.0.0'];
  for (let i = 0; i < ordered.length - 1; i++) {
    const a = ordered[i] as string;
    const b = ordered[i + 1] as string;
    t.equal(compareVersions(a, b), -1, `${a} < ${b}`);
    t.equal(compareVersions(b, a), 1, `${b} > ${a}`);
  }
  t.equal(compareVersions('1.2.3+build.5', '1.2.3'), 0, 'build metadata is ignored');
  t.equal(parseSemVer('01.2.3'), undefined);
  t.equal(parseSemVer('1.2'), undefined);
  t.equal(parseSemVer('v1.2.3'), undefined);
  t.same(parseSemVer('1.2.3-rc.1+abc'), { major: 1, minor: 2, patch: 3, prerelease: ['rc', 1], build: ['abc'] });
  t.throws(() => compareVersions('latest', '1.0.0'), { code: 'UPDATER_VERSION_INVALID' });
  t.end();
});

const channel: ChannelMetadata = { format: 1, channel: 'stable', version: '2.0.0', bundle_url: '../bundles/2.0.0/manifest.json', released: '2026-11-20T10:00:00Z', min_version: '1.0.0' };

void t.test('channel metadata parses, renders and resolves its bundle URL', (t) => {
  const text = renderChannelMetadata(channel);
  t.matchSnapshot(text);
  t.same(parseChannelMetadata(text, 'stable'), channel);
  t.equal(channelMetadataPath('stable'), 'channels/stable.json');
  t.equal(resolveBundleUrl('http://10.0.2.100:8080/berth', channel), 'http://10.0.2.100:8080/berth/bundles/2.0.0/manifest.json');
  t.equal(resolveBundleUrl('https://u.example/berth/', { ...channel, bundle_url: 'https://cdn.example/x/manifest.json' }), 'https://cdn.example/x/manifest.json');
  t.throws(() => channelMetadataPath('../etc'), { code: 'UPDATER_CHANNEL_INVALID' });
  t.end();
});

void t.test('bad channel metadata lists every problem', (t) => {
  const error = t.throws(() => parseChannelMetadata(JSON.stringify({ format: 2, channel: 'Stable!', version: 'two', released: 'yesterday', extra: true }), 'stable'), { code: 'UPDATER_CHANNEL_INVALID' }) as Error;
  for (const field of ['format', 'channel', 'version', 'bundle_url', 'released', 'extra: unknown key']) t.match(error.message, field);
  t.throws(() => parseChannelMetadata('<html>', 'stable'), { code: 'UPDATER_CHANNEL_INVALID' });
  t.throws(() => parseChannelMetadata(renderChannelMetadata(channel), 'beta'), { code: 'UPDATER_CHANNEL_INVALID' });
  t.end();
});

void t.test('release choice', (t) => {
  const base = { channel, runningVersion: '1.5.0', badVersions: [], allowDowngrade: false };
  t.same(chooseRelease(base), { kind: 'update', version: '2.0.0', isDowngrade: false });
  t.same(chooseRelease({ ...base, runningVersion: '2.0.0' }), { kind: 'none', reason: 'up-to-date', version: '2.0.0' });
  t.same(chooseRelease({ ...base, runningVersion: '2.0.0+other' }), { kind: 'none', reason: 'up-to-date', version: '2.0.0' });
  t.same(chooseRelease({ ...base, badVersions: ['2.0.0'] }), { kind: 'none', reason: 'known-bad', version: '2.0.0' });
  t.same(chooseRelease({ ...base, runningVersion: '3.0.0' }), { kind: 'none', reason: 'downgrade-refused', version: '2.0.0' });
  t.same(chooseRelease({ ...base, runningVersion: '3.0.0', allowDowngrade: true }), { kind: 'update', version: '2.0.0', isDowngrade: true });
  t.same(chooseRelease({ ...base, runningVersion: '3.0.0', allowDowngrade: true, badVersions: ['2.0.0'] }), { kind: 'none', reason: 'known-bad', version: '2.0.0' });
  t.same(chooseRelease({ ...base, runningVersion: '0.9.0' }), { kind: 'none', reason: 'below-min-version', version: '2.0.0' });
  t.same(chooseRelease({ ...base, runningVersion: '2.0.0-rc.1' }), { kind: 'update', version: '2.0.0', isDowngrade: false });
  t.end();
});
