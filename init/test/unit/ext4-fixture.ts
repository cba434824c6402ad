/** Test superblocks for core/ext4-superblock.ts and the data partition's shell tests. Test-only. */
import { crc32c, EXT4_SUPERBLOCK_BYTES } from '../../src/core/ext4-superblock.ts';

/** The wall clock (seconds) the superblocks' times are set around: the fake Sys's clock at its start. */
export const SUPERBLOCK_NOW = Date.UTC(2026, 0, 1) / 1000;

/**
 * A superblock as mke2fs leaves a clean ext4 with metadata_csum: `blocks` blocks of 4 KiB,
 * 64bit, then `edit`, then its checksum (unless `checksum: false`).
 */
export function ext4Superblock(edit: (view: DataView) => void = () => undefined, options: { checksum?: boolean; blocks?: number } = {}): Uint8Array {
  const bytes = new Uint8Array(EXT4_SUPERBLOCK_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0x04, options.blocks ?? 262_144, true);
  view.setUint32(0x18, 2, true); // 4096-byte blocks
  view.setUint32(0x2c, SUPERBLOCK_NOW - 60, true); // last mount
  view.setUint32(0x30, SUPERBLOCK_NOW - 30, true); // last write
  view.setUint16(0x34, 7, true); // mounts since the last check
  view.setInt16(0x36, -1, true); // no maximum
  view.setUint16(0x38, 0xef53, true);
  view.setUint16(0x3a, 0x1, true); // cleanly unmounted
  view.setUint32(0x40, SUPERBLOCK_NOW - 86_400 * 400, true);
  view.setUint32(0x5c, 0x4, true); // has_journal
  view.setUint32(0x60, 0x2 | 0x40 | 0x80, true); // filetype, extents, 64bit
  view.setUint32(0x64, 0x400, true); // metadata_csum
  edit(view);
  if (options.checksum !== false) view.setUint32(0x3fc, crc32c(bytes.subarray(0, 0x3fc)), true);
  return bytes;
}
