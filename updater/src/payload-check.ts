/**
 * Incremental size and sha256 checking of one payload file while it streams (from the
 * network, from disk, or read back from the slot). Computation only, no I/O: the
 * caller feeds chunks, and learns early when a file grows past its declared size.
 */
import { createHash, type Hash } from 'node:crypto';
import { BerthError } from '../../lib/errors.ts';

export interface ExpectedDigest {
  size: number;
  sha256: string;
}

/** Checks one stream of bytes against its manifest entry. */
export class PayloadCheck {
  readonly #name: string;
  readonly #expected: ExpectedDigest;
  readonly #hash: Hash = createHash('sha256');
  #seen = 0;

  /** `name` appears in errors, e.g. `root image of bundle 2.0.0`. */
  constructor(name: string, expected: ExpectedDigest) {
    this.#name = name;
    this.#expected = expected;
  }

  /** Bytes fed so far. */
  get bytesSeen(): number {
    return this.#seen;
  }

  /** Feeds a chunk; throws UPDATER_PAYLOAD_TOO_LARGE as soon as the declared size is exceeded. */
  update(chunk: Uint8Array): void {
    this.#seen += chunk.byteLength;
    if (this.#seen > this.#expected.size) {
      throw new BerthError('UPDATER_PAYLOAD_TOO_LARGE', `Refusing ${this.#name}: more than the ${this.#expected.size} bytes the manifest declares`);
    }
    this.#hash.update(chunk);
  }

  /** Ends the stream: throws UPDATER_PAYLOAD_TRUNCATED or UPDATER_HASH_MISMATCH. */
  finish(): void {
    if (this.#seen < this.#expected.size) {
      throw new BerthError('UPDATER_PAYLOAD_TRUNCATED', `Refusing ${this.#name}: got ${this.#seen} of ${this.#expected.size} bytes; the download was cut short`);
    }
    const actual = this.#hash.digest('hex');
    if (actual !== this.#expected.sha256) {
      throw new BerthError('UPDATER_HASH_MISMATCH', `Refusing ${this.#name}: sha256 ${actual} differs from the manifest's ${this.#expected.sha256}`);
    }
  }
}
