/**
 * Content digests as the OCI image spec defines them (`algorithm:hex`). Pure: parsing,
 * validation, hashing bytes with a digest's own algorithm, and short display forms.
 */
import { createHash, type Hash } from 'node:crypto';
import { BerthError } from '../../../lib/errors.ts';

/** A validated digest, e.g. `sha256:` followed by 64 lowercase hex characters. */
export type Digest = `${string}:${string}`;

export interface ParsedDigest {
  algorithm: string;
  encoded: string;
}

const ALGORITHM = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*$/;
const ENCODED = /^[a-zA-Z0-9=_-]+$/;
/** Registered algorithms and the exact shape of their encoded part. */
const REGISTERED: Readonly<Record<string, RegExp>> = {
  sha256: /^[a-f0-9]{64}$/,
  sha512: /^[a-f0-9]{128}$/,
};

/** Why `text` is not an acceptable digest, or undefined when it is. */
export function digestProblem(text: string): string | undefined {
  const colon = text.indexOf(':');
  if (colon <= 0) return 'expected "<algorithm>:<hex>"';
  const algorithm = text.slice(0, colon);
  const encoded = text.slice(colon + 1);
  if (!ALGORITHM.test(algorithm)) return `invalid algorithm '${algorithm}'`;
  if (!ENCODED.test(encoded)) return 'invalid encoded part';
  const shape = REGISTERED[algorithm];
  if (shape === undefined) return `unsupported algorithm '${algorithm}' (expected sha256 or sha512)`;
  if (!shape.test(encoded)) return `${algorithm} digest must be ${algorithm === 'sha256' ? 64 : 128} lowercase hex characters`;
  return undefined;
}

/** True when `text` is a digest berth can verify (sha256 or sha512). */
export function isDigest(text: unknown): text is Digest {
  return typeof text === 'string' && digestProblem(text) === undefined;
}

/** Splits and validates a digest; throws RUNTIME_DIGEST_INVALID naming the text. */
export function parseDigest(text: string): ParsedDigest {
  const problem = digestProblem(text);
  if (problem !== undefined) throw new BerthError('RUNTIME_DIGEST_INVALID', `Invalid digest '${text}': ${problem}`);
  const colon = text.indexOf(':');
  return { algorithm: text.slice(0, colon), encoded: text.slice(colon + 1) };
}

/** The algorithms berth verifies: the OCI image spec's registered ones. */
export type DigestAlgorithm = 'sha256' | 'sha512';

/**
 * A running hash for content claimed to have `digest`, with the digest's own algorithm.
 * Throws RUNTIME_DIGEST_INVALID for a malformed digest or an algorithm berth does not verify.
 */
export function hasherFor(digest: string): { hash: Hash; finish: () => string } {
  const algorithm = parseDigest(digest).algorithm as DigestAlgorithm;
  const hash = createHash(algorithm);
  return { hash, finish: () => `${algorithm}:${hash.digest('hex')}` };
}

/** The digest of `data` with `algorithm` (`sha512:…`). */
export function digestOf(data: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** A short form for messages: `sha256:ab12cd34ef56…`. */
export function shortDigest(digest: string): string {
  const colon = digest.indexOf(':');
  if (colon < 0 || digest.length - colon - 1 <= 12) return digest;
  return `${digest.slice(0, colon + 13)}…`;
}
