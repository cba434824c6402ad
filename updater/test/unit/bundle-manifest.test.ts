import t from 'tap';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import {
  assertBundleApplies,
  canonicalManifestBytes,
  parseManifest,
  slotBytesNeeded,
  validateManifest,
  type HostFacts,
} from '../../src/core/bundle-manifest.ts';
import {
  generateSigningKeyPair,
  loadPrivateKey,
  loadPublicKey,
  signManifest,
  verifyManifest,
  writeSigningKeyPair,
} from '../../src/signing.ts';
import { PayloadCheck } from '../../src/payload-check.ts';
import { sampleManifest } from './fixtures.ts';
import { errorCode } from '../../../lib/errors.ts';

const pair = generateSigningKeyPair();
const other = generateSigningKeyPair();
const privateKey = loadPrivateKey(pair.privateKeyPem);
const trusted = [loadPublicKey(pair.publicKeyPem)];

void t.test('canonical form sorts keys at every level and has no whitespace', (t) => {
  const bytes = canonicalManifestBytes(sampleManifest());
  const text = new TextDecoder().decode(bytes);
  t.matchSnapshot(text);
  t.notOk(/\s/.test(text));
  // Key order in the object does not change the bytes.
  const m = sampleManifest();
  const reordered = Object.fromEntries(Object.entries(m).reverse()) as typeof m;
  t.same(canonicalManifestBytes(reordered), bytes);
  t.same(parseManifest(bytes), sampleManifest());
  t.end();
});

void t.test('a signed manifest verifies and parses', (t) => {
  const signed = signManifest(sampleManifest(), privateKey);
  t.same(verifyManifest(signed.manifestBytes, signed.signatureBytes, trusted), sampleManifest());
  const doc = JSON.parse(new TextDecoder().decode(signed.signatureBytes));
  t.equal(doc.key_id, pair.keyId);
  t.equal(doc.algorithm, 'ed25519');
  // Several trusted keys (key rotation): the right one is picked by id.
  t.same(verifyManifest(signed.manifestBytes, signed.signatureBytes, [loadPublicKey(other.publicKeyPem), ...trusted]).version, '2.0.0');
  t.end();
});

void t.test('a tampered manifest is refused with UPDATER_SIGNATURE_INVALID', (t) => {
  const signed = signManifest(sampleManifest(), privateKey);
  const tampered = new TextEncoder().encode(new TextDecoder().decode(signed.manifestBytes).replace('"2.0.0"', '"9.0.0"'));
  t.throws(() => verifyManifest(tampered, signed.signatureBytes, trusted), { code: errorCode('UPDATER_SIGNATURE_INVALID') });
  const flipped = Uint8Array.from(signed.manifestBytes);
  flipped[10] = (flipped[10] ?? 0) ^ 1;
  t.throws(() => verifyManifest(flipped, signed.signatureBytes, trusted), { code: errorCode('UPDATER_SIGNATURE_INVALID') });
  t.end();
});

void t.test('a signature whose key id claims the trusted key but was made by another key is invalid', (t) => {
  const forged = signManifest(sampleManifest(), loadPrivateKey(other.privateKeyPem));
  const doc = JSON.parse(new TextDecoder().decode(forged.signatureBytes));
  doc.key_id = pair.keyId;
  const sig = new TextEncoder().encode(JSON.stringify(doc));
  t.throws(() => verifyManifest(forged.manifestBytes, sig, trusted), { code: errorCode('UPDATER_SIGNATURE_INVALID') });
  t.end();
});

void t.test('a manifest signed with another key is refused with UPDATER_SIGNATURE_WRONG_KEY', (t) => {
  const signed = signManifest(sampleManifest(), loadPrivateKey(other.privateKeyPem));
  const error = t.throws(() => verifyManifest(signed.manifestBytes, signed.signatureBytes, trusted), { code: errorCode('UPDATER_SIGNATURE_WRONG_KEY') });
  t.match(String((error as Error | undefined)?.message), other.keyId);
  t.throws(() => verifyManifest(signed.manifestBytes, signed.signatureBytes, []), { code: errorCode('UPDATER_SIGNATURE_WRONG_KEY') });
  t.end();
});

void t.test('malformed signature files are UPDATER_SIGNATURE_INVALID', (t) => {
  const signed = signManifest(sampleManifest(), privateKey);
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  for (const bad of ['', 'not json', '[]', '{"format":1}', JSON.stringify({ format: 1, algorithm: 'rsa', key_id: pair.keyId, signature: 'AA==' })]) {
    t.throws(() => verifyManifest(signed.manifestBytes, enc(bad), trusted), { code: errorCode('UPDATER_SIGNATURE_INVALID') }, bad);
  }
  t.end();
});

void t.test('verification happens before the manifest is parsed', (t) => {
  // A malformed manifest with a bad signature reports the signature, not the fields:
  // nothing of an unverified manifest is looked at.
  const signed = signManifest(sampleManifest(), privateKey);
  t.throws(() => verifyManifest(new TextEncoder().encode('{"version": 5}'), signed.signatureBytes, trusted), { code: errorCode('UPDATER_SIGNATURE_INVALID') });
  t.end();
});

void t.test('a validly signed but malformed manifest names every bad field', async (t) => {
  // Sign raw bytes (bypassing canonicalManifestBytes, which refuses to serialise it).
  const { sign } = await import('node:crypto');
  const raw = new TextEncoder().encode(JSON.stringify({ ...sampleManifest(), architecture: 'sparc', extra: 1, payload: { ...sampleManifest().payload, kernel: { path: '../vmlinuz', size: -1, sha256: 'xyz' } } }));
  const sig = new TextEncoder().encode(JSON.stringify({ format: 1, algorithm: 'ed25519', key_id: pair.keyId, signature: sign(null, raw, privateKey).toString('base64') }));
  const error = t.throws(() => verifyManifest(raw, sig, trusted), { code: errorCode('UPDATER_MANIFEST_INVALID') }) as Error;
  for (const field of ['architecture', 'extra: unknown key', 'payload.kernel.path', 'payload.kernel.size', 'payload.kernel.sha256']) {
    t.match(error.message, field);
  }
});

void t.test('validation reports every problem with its path', (t) => {
  t.same(validateManifest(sampleManifest()), []);
  t.same(validateManifest(null), ['(root): expected a JSON object']);
  const m = sampleManifest();
  const broken = {
    ...m,
    format: 2,
    version: 'v2',
    min_version: '3.0.0',
    payload: {
      root: { ...m.payload.root, compression: 'gzip', image_size: 10 ** 12 },
      verity: { ...m.payload.verity, hash_start_block: 5, root_hash: 'AB' },
      kernel: { ...m.payload.kernel, path: 'root.erofs.zst' },
    },
  };
  t.matchSnapshot(validateManifest(broken));
  t.throws(() => canonicalManifestBytes(broken as never), { code: errorCode('UPDATER_MANIFEST_INVALID') });
  t.throws(() => parseManifest('{'), { code: errorCode('UPDATER_MANIFEST_INVALID') });
  t.end();
});

const host: HostFacts = { architecture: 'x86_64', channel: 'stable', runningVersion: '1.5.0', slotSize: 1024 ** 3, allowDowngrade: false, badVersions: [] };

void t.test('a verified bundle is checked against the host', (t) => {
  const m = sampleManifest();
  t.doesNotThrow(() => assertBundleApplies(m, host));
  t.equal(slotBytesNeeded(m), 100_000 * 4096 + 3_300_000);
  t.throws(() => assertBundleApplies(m, { ...host, architecture: 'aarch64' }), { code: errorCode('UPDATER_WRONG_ARCHITECTURE') });
  t.throws(() => assertBundleApplies(m, { ...host, runningVersion: '0.9.0' }), { code: errorCode('UPDATER_BELOW_MIN_VERSION') });
  t.throws(() => assertBundleApplies(m, { ...host, runningVersion: '3.0.0' }), { code: errorCode('UPDATER_DOWNGRADE_REFUSED') });
  t.doesNotThrow(() => assertBundleApplies(m, { ...host, runningVersion: '3.0.0', allowDowngrade: true, }));
  t.throws(() => assertBundleApplies(m, { ...host, runningVersion: '2.0.0' }), { code: errorCode('UPDATER_ALREADY_RUNNING') });
  t.throws(() => assertBundleApplies(m, { ...host, slotSize: 100_000 * 4096 }), { code: errorCode('UPDATER_PAYLOAD_TOO_LARGE') });
  t.throws(() => assertBundleApplies(m, { ...host, badVersions: ['2.0.0'] }), { code: errorCode('UPDATER_VERSION_BAD') });
  // A replayed older (validly signed) bundle does not pass for the announced release.
  t.throws(() => assertBundleApplies(m, { ...host, expectedVersion: '2.1.0' }), { code: errorCode('UPDATER_VERSION_MISMATCH') });
  // The channel is signed: a validly signed beta bundle served on stable is refused, naming both.
  t.throws(() => assertBundleApplies(m, { ...host, channel: 'beta' }), { code: errorCode('UPDATER_WRONG_CHANNEL'), message: /signed for channel stable, this host follows channel beta/ });
  t.end();
});

void t.test('payload check catches truncation, growth and hash mismatch', (t) => {
  const data = Buffer.from('hello world');
  const sha256 = createHash('sha256').update(data).digest('hex');
  const ok = new PayloadCheck('kernel', { size: data.length, sha256 });
  ok.update(data.subarray(0, 5));
  ok.update(data.subarray(5));
  t.doesNotThrow(() => ok.finish());
  t.equal(ok.bytesSeen, 11);
  const short = new PayloadCheck('kernel', { size: data.length, sha256 });
  short.update(data.subarray(0, 5));
  t.throws(() => short.finish(), { code: errorCode('UPDATER_PAYLOAD_TRUNCATED') });
  const long = new PayloadCheck('kernel', { size: 4, sha256 });
  t.throws(() => long.update(data), { code: errorCode('UPDATER_PAYLOAD_TOO_LARGE') });
  const wrong = new PayloadCheck('kernel', { size: data.length, sha256: '0'.repeat(64) });
  wrong.update(data);
  t.throws(() => wrong.finish(), { code: errorCode('UPDATER_HASH_MISMATCH') });
  t.end();
});

void t.test('keys generate writes a 0600 private key and a public key, never overwriting', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-keys-'));
  t.teardown(async () => {
    const { rm } = await import('node:fs/promises');
    await rm(dir, { recursive: true, force: true });
  });
  const out = join(dir, 'keys');
  const written = await writeSigningKeyPair(out);
  t.equal((await stat(written.privateKeyPath)).mode & 0o777, 0o600);
  t.equal((await stat(written.publicKeyPath)).mode & 0o777, 0o644);
  t.equal((await stat(out)).mode & 0o777, 0o700);
  const priv = loadPrivateKey(await readFile(written.privateKeyPath));
  const pub = loadPublicKey(await readFile(written.publicKeyPath));
  t.equal(pub.keyId, written.keyId);
  const signed = signManifest(sampleManifest(), priv);
  t.equal(verifyManifest(signed.manifestBytes, signed.signatureBytes, [pub]).version, '2.0.0');
  await t.rejects(writeSigningKeyPair(out), { code: errorCode('UPDATER_KEY_EXISTS') });
  t.throws(() => loadPublicKey('nope'), { code: errorCode('UPDATER_KEY_INVALID') });
  t.throws(() => loadPublicKey(pair.privateKeyPem.replace('PRIVATE', 'PUBLIC')), { code: errorCode('UPDATER_KEY_INVALID') });
});
