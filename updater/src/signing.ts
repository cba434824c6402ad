/**
 * ed25519 signing of bundle manifests with node:crypto: key pair generation (the
 * support of `berth keys update-signing generate --out <dir>`), signing the canonical manifest bytes,
 * and verification against the keys built into the image. Verification always runs
 * before the manifest is parsed, so no field of an unverified manifest is ever used.
 * Effects: writeSigningKeyPair writes two files; everything else is computation.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { BerthError } from '../../lib/errors.ts';
import { canonicalManifestBytes, parseManifest, type BundleManifest } from './core/bundle-manifest.ts';
import { CHANNEL_FORMAT, parseChannelMetadata, renderChannelMetadata, type ChannelMetadata } from './core/release.ts';
import { isRecord } from '../../lib/record.ts';
import { unknownKeyProblems } from './core/units.ts';

/** File names `berth keys update-signing generate` writes into its output directory. */
export const KEY_FILES = {
  privateKey: 'berth-signing.key',
  publicKey: 'berth-signing.pub',
} as const;

/** The detached signature next to the manifest (`manifest.json.sig`). */
export interface SignatureDocument {
  format: 1;
  algorithm: 'ed25519';
  /** Which key signed: `ed25519:<first 16 hex of sha256(SPKI DER)>`. */
  key_id: string;
  /** base64 of the 64-byte ed25519 signature over the manifest bytes. */
  signature: string;
}

/** A public key the host trusts, with its id. */
export interface TrustedKey {
  keyId: string;
  key: KeyObject;
}

/** The id of a public key: stable, short, shown in errors and status. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return `ed25519:${createHash('sha256').update(der).digest('hex').slice(0, 16)}`;
}

/** Reads a PEM key with `create`, refusing anything that is not ed25519 (UPDATER_KEY_INVALID). */
function loadEd25519Key(create: (pem: string | Buffer) => KeyObject, pem: string | Buffer, source: string, kind: 'public' | 'private'): KeyObject {
  let key: KeyObject;
  try {
    key = create(pem);
  } catch (error) {
    throw new BerthError('UPDATER_KEY_INVALID', `Cannot read ${source}: expected an ed25519 ${kind} key in PEM form`, { cause: error });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new BerthError('UPDATER_KEY_INVALID', `Cannot use ${source}: it is a ${key.asymmetricKeyType ?? 'unknown'} key, berth signs with ed25519`);
  }
  return key;
}

/** Loads an ed25519 public key (PEM, SPKI) such as the one built into the image. */
export function loadPublicKey(pem: string | Buffer, source = 'public key'): TrustedKey {
  const key = loadEd25519Key(createPublicKey, pem, source, 'public');
  return { keyId: keyIdOf(key), key };
}

/** Loads an ed25519 private key (PEM, PKCS#8), e.g. for `berth build --signing-key`. */
export function loadPrivateKey(pem: string | Buffer, source = 'signing key'): KeyObject {
  return loadEd25519Key(createPrivateKey, pem, source, 'private');
}

export interface GeneratedKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
  keyId: string;
}

/** Makes a fresh ed25519 key pair in PEM form. */
export function generateSigningKeyPair(): GeneratedKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyIdOf(publicKey),
  };
}

async function writeNewFile(path: string, text: string, mode: number): Promise<void> {
  let handle;
  try {
    // 'wx': never overwrite an existing key; the mode is set at creation, so the
    // private key is never readable by others, not even for an instant.
    handle = await open(path, 'wx', mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new BerthError('UPDATER_KEY_EXISTS', `Refusing to overwrite ${path}: move the existing key away or choose another --out directory`, { cause: error });
    }
    throw new BerthError('UPDATER_KEY_WRITE_FAILED', `Cannot create ${path}`, { cause: error });
  }
  try {
    await handle.writeFile(text);
    await handle.chmod(mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface WrittenKeyPair {
  privateKeyPath: string;
  publicKeyPath: string;
  keyId: string;
}

/**
 * `berth keys update-signing generate --out <dir>`: writes the private key (mode 0600) and the
 * public key (0644) into `outDir`, creating it (0700) if needed. Never overwrites.
 */
export async function writeSigningKeyPair(outDir: string, pair: GeneratedKeyPair = generateSigningKeyPair()): Promise<WrittenKeyPair> {
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  const privateKeyPath = join(outDir, KEY_FILES.privateKey);
  const publicKeyPath = join(outDir, KEY_FILES.publicKey);
  await writeNewFile(privateKeyPath, pair.privateKeyPem, 0o600);
  await writeNewFile(publicKeyPath, pair.publicKeyPem, 0o644);
  return { privateKeyPath, publicKeyPath, keyId: pair.keyId };
}

export interface SignedManifest {
  /** Canonical manifest bytes: the content of manifest.json. */
  manifestBytes: Uint8Array;
  /** The signature document: the content of manifest.json.sig. */
  signatureBytes: Uint8Array;
}

/** Signs a manifest's canonical bytes. */
export function signManifest(manifest: BundleManifest, privateKey: KeyObject): SignedManifest {
  const manifestBytes = canonicalManifestBytes(manifest);
  const signature = sign(null, manifestBytes, privateKey);
  const document: SignatureDocument = {
    format: 1,
    algorithm: 'ed25519',
    key_id: keyIdOf(createPublicKey(privateKey)),
    signature: signature.toString('base64'),
  };
  return { manifestBytes, signatureBytes: new TextEncoder().encode(`${JSON.stringify(document)}\n`) };
}

function parseSignatureDocument(bytes: Uint8Array, source: string): SignatureDocument {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new BerthError('UPDATER_SIGNATURE_INVALID', `Refusing ${source}: its signature file is not JSON`, { cause: error });
  }
  const problems: string[] = [];
  if (!isRecord(value)) problems.push('(root): expected a JSON object');
  else {
    problems.push(...unknownKeyProblems(value, ['format', 'algorithm', 'key_id', 'signature'], ''));
    if (value.format !== 1) problems.push('format: expected 1');
    if (value.algorithm !== 'ed25519') problems.push('algorithm: expected "ed25519"');
    if (typeof value.key_id !== 'string' || !/^ed25519:[0-9a-f]{16}$/.test(value.key_id)) problems.push('key_id: expected "ed25519:" and 16 hex digits');
    if (typeof value.signature !== 'string' || !/^[A-Za-z0-9+/]{86}==$/.test(value.signature)) problems.push('signature: expected a base64 ed25519 signature (64 bytes)');
  }
  if (problems.length > 0) throw new BerthError('UPDATER_SIGNATURE_INVALID', `Refusing ${source}: its signature file is malformed: ${problems.join('; ')}`);
  return value as SignatureDocument;
}

/**
 * Verifies the signature over the exact manifest bytes with one of the trusted keys,
 * and only then parses the manifest. Throws UPDATER_SIGNATURE_WRONG_KEY (signed by a
 * key this host does not trust), UPDATER_SIGNATURE_INVALID (bad or malformed
 * signature, tampered manifest) or UPDATER_MANIFEST_INVALID (naming the bad fields).
 */
export function verifyManifest(
  manifestBytes: Uint8Array,
  signatureBytes: Uint8Array,
  trustedKeys: readonly TrustedKey[],
  source = 'bundle manifest',
): BundleManifest {
  const document = parseSignatureDocument(signatureBytes, source);
  const trusted = trustedKeys.find((k) => k.keyId === document.key_id);
  if (!trusted) {
    const known = trustedKeys.map((k) => k.keyId).join(', ') || 'none';
    throw new BerthError('UPDATER_SIGNATURE_WRONG_KEY', `Refusing ${source}: signed with key ${document.key_id}, this host trusts ${known}; sign bundles with the key built into the image`);
  }
  if (!verify(null, manifestBytes, trusted.key, Buffer.from(document.signature, 'base64'))) {
    throw new BerthError('UPDATER_SIGNATURE_INVALID', `Refusing ${source}: the signature by ${trusted.keyId} does not match its content (tampered or corrupted)`);
  }
  return parseManifest(manifestBytes, source);
}

/**
 * Channel metadata signatures cover this prefix and the signed text, so a signature over a
 * bundle manifest (same key) can never pass as one over channel metadata.
 */
const CHANNEL_SIGNING_CONTEXT = 'berth channel metadata v2\n';

function channelSigningBytes(signed: string): Buffer {
  return Buffer.from(`${CHANNEL_SIGNING_CONTEXT}${signed}`, 'utf8');
}

/** `channels/<name>.json` (format 2): the signed metadata text, which key signed it, the signature. */
export interface ChannelEnvelope {
  format: 2;
  /** The exact text signed: renderChannelMetadata's JSON. */
  signed: string;
  key_id: string;
  /** base64 ed25519 signature over CHANNEL_SIGNING_CONTEXT + signed. */
  signature: string;
}

/** Signs channel metadata with the bundle key; returns the text of `channels/<name>.json`. */
export function signChannelMetadata(metadata: ChannelMetadata, privateKey: KeyObject): string {
  const signed = renderChannelMetadata(metadata);
  const envelope: ChannelEnvelope = {
    format: CHANNEL_FORMAT,
    signed,
    key_id: keyIdOf(createPublicKey(privateKey)),
    signature: sign(null, channelSigningBytes(signed), privateKey).toString('base64'),
  };
  return `${JSON.stringify(envelope, null, 2)}\n`;
}

/**
 * Verifies `channels/<name>.json` and only then parses the metadata it carries. Throws
 * UPDATER_CHANNEL_UNSIGNED (format 1, or no signature), UPDATER_SIGNATURE_WRONG_KEY (a key this
 * host does not trust), UPDATER_SIGNATURE_INVALID (bad signature, changed text) or
 * UPDATER_CHANNEL_INVALID (not an envelope; bad or foreign metadata). Freshness is the caller's
 * (assertChannelFresh): it needs the time.
 */
export function verifyChannelMetadata(bytes: Uint8Array, trustedKeys: readonly TrustedKey[], expectedChannel: string, source = 'channel metadata'): ChannelMetadata {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new BerthError('UPDATER_CHANNEL_INVALID', `Cannot read ${source}: it is not JSON`, { cause: error });
  }
  if (!isRecord(value)) throw new BerthError('UPDATER_CHANNEL_INVALID', `Refusing ${source}: expected a JSON object`);
  if (value.format === 1 || (value.format === CHANNEL_FORMAT && (value.signature === undefined || value.key_id === undefined))) {
    throw new BerthError('UPDATER_CHANNEL_UNSIGNED', `Refusing ${source}: it is not signed; publish it with 'berth publish ... --signing-key KEY' (the key whose public half is in the image)`);
  }
  const problems = unknownKeyProblems(value, ['format', 'signed', 'key_id', 'signature'], '');
  if (value.format !== CHANNEL_FORMAT) problems.push(`format: expected ${CHANNEL_FORMAT}`);
  if (typeof value.signed !== 'string') problems.push('signed: expected the signed metadata as a string');
  if (typeof value.key_id !== 'string' || !/^ed25519:[0-9a-f]{16}$/.test(value.key_id)) problems.push('key_id: expected "ed25519:" and 16 hex digits');
  if (typeof value.signature !== 'string' || !/^[A-Za-z0-9+/]{86}==$/.test(value.signature)) problems.push('signature: expected a base64 ed25519 signature (64 bytes)');
  if (problems.length > 0) throw new BerthError('UPDATER_CHANNEL_INVALID', `Refusing ${source}: ${problems.join('; ')}`);
  const envelope = value as unknown as ChannelEnvelope;
  const trusted = trustedKeys.find((k) => k.keyId === envelope.key_id);
  if (!trusted) {
    const known = trustedKeys.map((k) => k.keyId).join(', ') || 'none';
    throw new BerthError('UPDATER_SIGNATURE_WRONG_KEY', `Refusing ${source}: signed with key ${envelope.key_id}, this host trusts ${known}; publish with the key built into the image`);
  }
  if (!verify(null, channelSigningBytes(envelope.signed), trusted.key, Buffer.from(envelope.signature, 'base64'))) {
    throw new BerthError('UPDATER_SIGNATURE_INVALID', `Refusing ${source}: the signature by ${trusted.keyId} does not match its content (tampered or corrupted)`);
  }
  return parseChannelMetadata(envelope.signed, expectedChannel, source);
}
