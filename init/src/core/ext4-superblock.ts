/**
 * The ext4 superblock of the data partition, read by init itself: what blkid and dumpe2fs told it
 * (an ext4 filesystem, its size) and what `e2fsck -p` decides first (the filesystem was unmounted
 * cleanly, no errors recorded, no journal to replay, no periodic check due). A boot of a cleanly
 * shut down machine then starts no process for /var before mount(2): under TCG each start costs
 * 0.1-0.2 s. Anything unusual (no ext4 magic, a checksum mismatch, a check due) leaves the
 * decision to those tools. Pure: bytes in, facts out.
 */

/** Where the primary superblock starts, and its length. */
export const EXT4_SUPERBLOCK_OFFSET = 1024;
export const EXT4_SUPERBLOCK_BYTES = 1024;

const MAGIC = 0xef53;
const STATE_VALID = 0x1;
const STATE_ERROR = 0x2;
const STATE_ORPHANS = 0x4;
const INCOMPAT_RECOVER = 0x4;
const INCOMPAT_JOURNAL_DEV = 0x8;
const INCOMPAT_EXTENTS = 0x40;
const INCOMPAT_64BIT = 0x80;
const RO_COMPAT_METADATA_CSUM = 0x400;
const RO_COMPAT_ORPHAN_PRESENT = 0x10000;
const CHECKSUM_OFFSET = 0x3fc;

export interface Ext4Superblock {
  sizeBytes: number;
  /** Why `e2fsck -p` must run before the mount; undefined when it would find nothing to do. */
  fsckReason: string | undefined;
}

/** What a superblock that is not a usable ext4 one gets: the tools decide. */
export type Ext4SuperblockRead = { kind: 'ext4'; superblock: Ext4Superblock } | { kind: 'unknown'; why: string };

let crc32cTable: Uint32Array | undefined;

/** CRC-32C (Castagnoli), ext4's metadata checksum, without the final inversion ext4 also skips. */
export function crc32c(bytes: Uint8Array, seed = 0xffffffff): number {
  if (crc32cTable === undefined) {
    crc32cTable = new Uint32Array(256);
    for (let n = 0; n < 256; n += 1) {
      let c = n;
      for (let k = 0; k < 8; k += 1) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
      crc32cTable[n] = c >>> 0;
    }
  }
  let crc = seed >>> 0;
  for (const byte of bytes) crc = (crc32cTable[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return crc >>> 0;
}

/**
 * Reads the 1024 bytes at EXT4_SUPERBLOCK_OFFSET. `nowSeconds` is the wall clock, for the
 * periodic check (`tune2fs -i`); mke2fs sets none by default, nor a maximum mount count.
 */
export function readExt4Superblock(bytes: Uint8Array, nowSeconds: number): Ext4SuperblockRead {
  if (bytes.length < EXT4_SUPERBLOCK_BYTES) return { kind: 'unknown', why: `only ${bytes.length} bytes of superblock` };
  const view = new DataView(bytes.buffer, bytes.byteOffset, EXT4_SUPERBLOCK_BYTES);
  const u16 = (at: number): number => view.getUint16(at, true);
  const u32 = (at: number): number => view.getUint32(at, true);
  if (u16(0x38) !== MAGIC) return { kind: 'unknown', why: 'no ext2/3/4 magic' };
  const incompat = u32(0x60);
  const roCompat = u32(0x64);
  // ext2 and ext3 share the magic; blkid names them, and the planner refuses them.
  if (!(incompat & INCOMPAT_EXTENTS)) return { kind: 'unknown', why: 'no extents feature (ext2 or ext3)' };
  if (incompat & INCOMPAT_JOURNAL_DEV) return { kind: 'unknown', why: 'an external journal device' };
  if (roCompat & RO_COMPAT_METADATA_CSUM) {
    const stored = u32(CHECKSUM_OFFSET);
    const actual = crc32c(bytes.subarray(0, CHECKSUM_OFFSET));
    if (stored !== actual) return { kind: 'unknown', why: `superblock checksum ${stored.toString(16)} is not ${actual.toString(16)}` };
  }
  const logBlockSize = u32(0x18);
  if (logBlockSize > 6) return { kind: 'unknown', why: `block size 2^${10 + logBlockSize}` };
  const blockSize = 1024 * 2 ** logBlockSize;
  const blocks = u32(0x04) + (incompat & INCOMPAT_64BIT ? u32(0x150) * 2 ** 32 : 0);
  return { kind: 'ext4', superblock: { sizeBytes: blocks * blockSize, fsckReason: fsckReason(view, incompat, roCompat, nowSeconds) } };
}

function fsckReason(view: DataView, incompat: number, roCompat: number, nowSeconds: number): string | undefined {
  const state = view.getUint16(0x3a, true);
  if (!(state & STATE_VALID)) return 'not cleanly unmounted';
  if (state & STATE_ERROR) return 'errors recorded';
  if (state & STATE_ORPHANS) return 'orphan inodes being recovered';
  if (incompat & INCOMPAT_RECOVER) return 'the journal needs replaying';
  if (roCompat & RO_COMPAT_ORPHAN_PRESENT) return 'orphan inodes left';
  const mountCount = view.getUint16(0x34, true);
  const maxMountCount = view.getInt16(0x36, true);
  if (maxMountCount > 0 && mountCount >= maxMountCount) return `mounted ${mountCount} times (check every ${maxMountCount})`;
  const lastCheck = view.getUint32(0x40, true);
  const interval = view.getUint32(0x44, true);
  if (interval > 0 && nowSeconds >= lastCheck + interval) return 'the periodic check is due';
  // e2fsck -p also checks when the last mount or write lies in the future: a clock it cannot trust.
  const lastMount = view.getUint32(0x2c, true);
  const lastWrite = view.getUint32(0x30, true);
  if (Math.max(lastMount, lastWrite) > nowSeconds + 86_400) return 'last mounted or written in the future';
  return undefined;
}
