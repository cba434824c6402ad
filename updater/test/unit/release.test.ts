import t from 'tap';
import { sign } from 'node:crypto';
import { generateSigningKeyPair, loadPrivateKey, loadPublicKey, signChannelMetadata, verifyChannelMetadata } from '../../src/signing.ts';
import {
  assertChannelFresh,
  assertChannelNotReplayed,
  channelMetadataPath,
  chooseRelease,
  compareVersions,
  nextChannelSeen,
  parseChannelSeen,
  parseChannelMetadata,
  parseSemVer,
  renderChannelMetadata,
  resolveBundleUrl,
  type ChannelMetadata,
} from '../../src/core/release.ts';
import { errorCode, type ErrorCode } from '../../../lib/errors.ts';

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
  t.throws(() => compareVersions('latest', '1.0.0'), { code: errorCode('UPDATER_VERSION_INVALID') });
  t.end();
});

const channel: ChannelMetadata = {
  channel: 'stable',
  version: '2.0.0',
  bundle_url: '../bundles/2.0.0/manifest.json',
  released: '2026-11-20T10:00:00Z',
  min_version: '1.0.0',
  published: '2026-11-20T10:00:00Z',
  expires: '2026-11-23T10:00:00Z',
};

void t.test('channel metadata parses, renders and resolves its bundle URL', (t) => {
  const text = renderChannelMetadata(channel);
  t.matchSnapshot(text);
  t.same(parseChannelMetadata(text, 'stable'), channel);
  t.equal(channelMetadataPath('stable'), 'channels/stable.json');
  t.equal(resolveBundleUrl('http://10.0.2.100:8080/berth', channel), 'http://10.0.2.100:8080/berth/bundles/2.0.0/manifest.json');
  t.equal(resolveBundleUrl('https://u.example/berth/', { ...channel, bundle_url: 'https://cdn.example/x/manifest.json' }), 'https://cdn.example/x/manifest.json');
  t.throws(() => channelMetadataPath('../etc'), { code: errorCode('UPDATER_CHANNEL_INVALID') });
  t.end();
});

void t.test('bad channel metadata lists every problem', (t) => {
  const error = t.throws(() => parseChannelMetadata(JSON.stringify({ channel: 'Stable!', version: 'two', released: 'yesterday', published: '2026-11-20T10:00:00Z', expires: '2026-11-20T09:00:00Z', extra: true }), 'stable'), { code: errorCode('UPDATER_CHANNEL_INVALID') }) as Error;
  for (const field of ['channel', 'version', 'bundle_url', 'released', 'expires: must be after published', 'extra: unknown key']) t.match(error.message, field);
  t.throws(() => parseChannelMetadata('<html>', 'stable'), { code: errorCode('UPDATER_CHANNEL_INVALID') });
  t.throws(() => parseChannelMetadata(renderChannelMetadata(channel), 'beta'), { code: errorCode('UPDATER_CHANNEL_INVALID') });
  t.end();
});

void t.test('freshness: expired, or signed longer ago than max_metadata_age', (t) => {
  const day = 86_400_000;
  t.doesNotThrow(() => assertChannelFresh(channel, new Date('2026-11-23T09:59:59Z'), 3 * day));
  t.throws(() => assertChannelFresh(channel, new Date('2026-11-23T10:00:00Z'), 30 * day), { code: errorCode('UPDATER_CHANNEL_EXPIRED'), message: /expired at 2026-11-23T10:00:00Z/ });
  t.throws(() => assertChannelFresh(channel, new Date('2026-11-22T10:00:01Z'), 2 * day), { code: errorCode('UPDATER_CHANNEL_EXPIRED'), message: /max_metadata_age \(48 h\)/ });
  t.doesNotThrow(() => assertChannelFresh(channel, new Date('2026-11-22T10:00:00Z'), 2 * day), 'exactly max_metadata_age old is still fine');
  t.end();
});

void t.test('replays: metadata signed before the newest accepted is refused; the same file again is fine', (t) => {
  const seen = { channel: 'stable', published: '2026-11-20T10:00:00Z' };
  const older = { ...channel, published: '2026-11-20T09:59:59.999Z' };
  const newer = { ...channel, published: '2026-11-21T10:00:00Z' };
  t.throws(() => assertChannelNotReplayed(older, seen, 'channel metadata http://m/channels/stable.json'), {
    code: errorCode('UPDATER_CHANNEL_REPLAYED'),
    message: /^Refusing channel metadata http:\/\/m\/channels\/stable\.json: signed 2026-11-20T09:59:59\.999Z, before the newest metadata this host accepted \(signed 2026-11-20T10:00:00Z\)/,
  });
  t.doesNotThrow(() => assertChannelNotReplayed(channel, seen), 'the same metadata again');
  t.doesNotThrow(() => assertChannelNotReplayed(newer, seen));
  t.doesNotThrow(() => assertChannelNotReplayed(older, undefined), 'nothing accepted yet');
  t.doesNotThrow(() => assertChannelNotReplayed(older, { channel: 'beta', published: '2026-12-01T00:00:00Z' }), 'what another channel said does not count');
  // Compared as instants, not as text: another offset of the same or a later instant.
  t.doesNotThrow(() => assertChannelNotReplayed({ ...channel, published: '2026-11-20T11:00:00+01:00' }, seen));
  t.throws(() => assertChannelNotReplayed({ ...channel, published: '2026-11-20T10:30:00+01:00' }, seen), { code: errorCode('UPDATER_CHANNEL_REPLAYED') });

  t.same(nextChannelSeen(newer, seen), { channel: 'stable', published: '2026-11-21T10:00:00Z' }, 'newer: remembered');
  t.equal(nextChannelSeen(channel, seen), undefined, 'as new: nothing to write');
  t.same(nextChannelSeen(channel, undefined), { channel: 'stable', published: '2026-11-20T10:00:00Z' });
  t.same(nextChannelSeen({ ...channel, channel: 'beta' }, seen), { channel: 'beta', published: '2026-11-20T10:00:00Z' }, 'a switched channel starts over');

  t.same(parseChannelSeen('{"channel":"stable","published":"2026-11-20T10:00:00Z"}\n'), seen);
  t.equal(parseChannelSeen('{"channel":"stable"}'), undefined);
  t.equal(parseChannelSeen('{"channel":"stable","published":"yesterday"}'), undefined);
  t.equal(parseChannelSeen('not json'), undefined);
  t.end();
});

void t.test('signed channel metadata: verified before use; unsigned, foreign-key and changed metadata refused', (t) => {
  const pair = generateSigningKeyPair();
  const trusted = [loadPublicKey(pair.publicKeyPem)];
  const text = signChannelMetadata(channel, loadPrivateKey(pair.privateKeyPem));
  const envelope = JSON.parse(text) as Record<string, unknown>;
  t.same(Object.keys(envelope), ['format', 'signed', 'key_id', 'signature']);
  t.equal(envelope.format, 2);
  t.same(verifyChannelMetadata(Buffer.from(text), trusted, 'stable'), channel);

  const refuse = (bytes: string, code: ErrorCode, what: string): void => void t.throws(() => verifyChannelMetadata(Buffer.from(bytes), trusted, 'stable', 'channel metadata http://x/channels/stable.json'), { code }, what);
  refuse(JSON.stringify({ format: 1, ...channel }), 'UPDATER_CHANNEL_UNSIGNED', 'format 1 (no signature) is refused');
  refuse(JSON.stringify({ format: 2, signed: renderChannelMetadata(channel) }), 'UPDATER_CHANNEL_UNSIGNED', 'an envelope without a signature is refused');
  const other = generateSigningKeyPair();
  refuse(signChannelMetadata(channel, loadPrivateKey(other.privateKeyPem)), 'UPDATER_SIGNATURE_WRONG_KEY', 'signed by another key');
  refuse(JSON.stringify({ ...envelope, signed: renderChannelMetadata({ ...channel, version: '9.0.0' }) }), 'UPDATER_SIGNATURE_INVALID', 'a changed version breaks the signature');
  refuse(JSON.stringify({ ...envelope, signed: renderChannelMetadata({ ...channel, expires: '2030-01-01T00:00:00Z' }) }), 'UPDATER_SIGNATURE_INVALID', 'an extended expiry breaks the signature');
  refuse('<html>', 'UPDATER_CHANNEL_INVALID', 'not JSON');
  refuse(JSON.stringify({ ...envelope, extra: 1 }), 'UPDATER_CHANNEL_INVALID', 'unknown envelope keys');
  t.throws(() => verifyChannelMetadata(Buffer.from(text), trusted, 'beta'), { code: errorCode('UPDATER_CHANNEL_INVALID') }, 'metadata of another channel, validly signed, is refused');

  // A bundle manifest signature by the same key does not pass as a channel signature.
  const signedText = renderChannelMetadata(channel);
  const manifestStyle = sign(null, Buffer.from(signedText), loadPrivateKey(pair.privateKeyPem)).toString('base64');
  refuse(JSON.stringify({ ...envelope, signature: manifestStyle }), 'UPDATER_SIGNATURE_INVALID', 'signatures are bound to their context');
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
