import t from 'tap';
import { crc32c, EXT4_SUPERBLOCK_BYTES, readExt4Superblock } from '../../../src/core/ext4-superblock.ts';
import { ext4Superblock, SUPERBLOCK_NOW } from '../ext4-fixture.ts';

const NOW = SUPERBLOCK_NOW;
const superblock = ext4Superblock;

void t.test('crc32c is the Castagnoli CRC ext4 uses', async (t) => {
  // The standard check value of CRC-32C over "123456789" is 0xe3069283, after the final inversion.
  t.equal((crc32c(Buffer.from('123456789')) ^ 0xffffffff) >>> 0, 0xe3069283);
});

void t.test('a clean ext4: its size, and no check', async (t) => {
  t.same(readExt4Superblock(superblock(), NOW), { kind: 'ext4', superblock: { sizeBytes: 262_144 * 4096, fsckReason: undefined } });
  const big = readExt4Superblock(superblock((v) => v.setUint32(0x150, 1, true)), NOW);
  t.match(big, { kind: 'ext4', superblock: { sizeBytes: (2 ** 32 + 262_144) * 4096 } }, 'the high 32 bits of the block count with 64bit');
});

void t.test('each reason e2fsck -p would check for', async (t) => {
  const reason = (edit: (view: DataView) => void): string | undefined => {
    const read = readExt4Superblock(superblock(edit), NOW);
    return read.kind === 'ext4' ? read.superblock.fsckReason : `unknown: ${read.why}`;
  };
  t.equal(reason((v) => v.setUint16(0x3a, 0, true)), 'not cleanly unmounted');
  t.equal(reason((v) => v.setUint16(0x3a, 0x3, true)), 'errors recorded');
  t.equal(reason((v) => v.setUint16(0x3a, 0x5, true)), 'orphan inodes being recovered');
  t.equal(reason((v) => v.setUint32(0x60, 0x2 | 0x4 | 0x40 | 0x80, true)), 'the journal needs replaying');
  t.equal(reason((v) => v.setUint32(0x64, 0x400 | 0x10000, true)), 'orphan inodes left');
  t.equal(reason((v) => v.setInt16(0x36, 7, true)), 'mounted 7 times (check every 7)');
  t.equal(reason((v) => v.setInt16(0x36, 8, true)), undefined, 'one mount before the maximum');
  t.equal(reason((v) => v.setUint32(0x44, 86_400 * 180, true)), 'the periodic check is due');
  t.equal(reason((v) => v.setUint32(0x44, 86_400 * 500, true)), undefined, 'an interval not yet over');
  t.equal(reason((v) => v.setUint32(0x30, NOW + 2 * 86_400, true)), 'last mounted or written in the future');
});

void t.test('what is not berth\'s ext4 is left to blkid, dumpe2fs and e2fsck', async (t) => {
  t.match(readExt4Superblock(new Uint8Array(EXT4_SUPERBLOCK_BYTES), NOW), { kind: 'unknown', why: 'no ext2/3/4 magic' }, 'a blank partition');
  t.match(readExt4Superblock(superblock().subarray(0, 512), NOW), { kind: 'unknown', why: 'only 512 bytes of superblock' });
  t.match(readExt4Superblock(superblock((v) => v.setUint32(0x60, 0x2, true)), NOW), { kind: 'unknown', why: /ext2 or ext3/ });
  t.match(readExt4Superblock(superblock((v) => v.setUint32(0x60, 0x2 | 0x8 | 0x40, true)), NOW), { kind: 'unknown', why: /external journal/ });
  const flipped = superblock();
  flipped[0x3a] = 0x1 | 0x2; // errors recorded after the checksum was computed
  t.match(readExt4Superblock(flipped, NOW), { kind: 'unknown', why: /superblock checksum/ }, 'a checksum that does not match');
  t.match(readExt4Superblock(superblock((v) => v.setUint32(0x64, 0, true), { checksum: false }), NOW), { kind: 'ext4' }, 'without metadata_csum there is no checksum to check');
});
