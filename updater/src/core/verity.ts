/**
 * dm-verity hash trees as veritysetup builds them (format 1, sha256, salt prepended,
 * no superblock): levels stored top level first, each level padded to whole blocks,
 * the root hash = sha256(salt || the single top-level block). Lets the updater check
 * a written slot completely (data → tree → root hash) without veritysetup. Pure
 * computation (node:crypto hashing only).
 */
import { createHash } from 'node:crypto';

export interface VerityTree {
  rootHash: string;
  /** The hash tree bytes as stored after the data (top level first). */
  tree: Buffer;
}

const DIGEST_BYTES = 32;

function hashBlock(salt: Buffer, block: Uint8Array): Buffer {
  return createHash('sha256').update(salt).update(block).digest();
}

/** Builds the verity tree of data fed in chunks; the data must be whole blocks. */
export class VerityTreeBuilder {
  readonly #salt: Buffer;
  readonly #blockSize: number;
  readonly #digests: Buffer[] = [];
  #pending: Buffer = Buffer.alloc(0);

  constructor(saltHex: string, blockSize = 4096) {
    this.#salt = Buffer.from(saltHex, 'hex');
    this.#blockSize = blockSize;
  }

  /** Data blocks hashed so far. */
  get blocks(): number {
    return this.#digests.length;
  }

  update(chunk: Uint8Array): void {
    let data = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (data.length >= this.#blockSize) {
      this.#digests.push(hashBlock(this.#salt, data.subarray(0, this.#blockSize)));
      data = data.subarray(this.#blockSize);
    }
    this.#pending = Buffer.from(data);
  }

  finish(): VerityTree {
    if (this.#pending.length > 0) throw new RangeError(`Verity data must be whole ${this.#blockSize}-byte blocks (${this.#pending.length} bytes left over)`);
    if (this.#digests.length === 0) throw new RangeError('Verity data is empty');
    const perBlock = this.#blockSize / DIGEST_BYTES;
    const levels: Buffer[] = [];
    let digests = this.#digests;
    // Each level hashes the blocks of the level below, until one block remains.
    for (;;) {
      const blockCount = Math.ceil(digests.length / perBlock);
      const level = Buffer.alloc(blockCount * this.#blockSize);
      digests.forEach((d, i) => d.copy(level, i * DIGEST_BYTES));
      levels.push(level);
      if (blockCount === 1) break;
      const next: Buffer[] = [];
      for (let i = 0; i < blockCount; i++) next.push(hashBlock(this.#salt, level.subarray(i * this.#blockSize, (i + 1) * this.#blockSize)));
      digests = next;
    }
    const top = levels[levels.length - 1] ?? Buffer.alloc(0);
    return { rootHash: hashBlock(this.#salt, top).toString('hex'), tree: Buffer.concat(levels.reverse()) };
  }
}

/** The root hash implied by a stored tree: sha256(salt || its first block). */
export function verityRootHashOfTree(tree: Uint8Array, saltHex: string, blockSize = 4096): string {
  return hashBlock(Buffer.from(saltHex, 'hex'), tree.subarray(0, blockSize)).toString('hex');
}
