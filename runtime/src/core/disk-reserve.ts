/**
 * The disk reserve on /var as arithmetic: how many bytes (and inodes) image pulls and layer
 * unpacks must leave free, whether an operation fits before it starts, when a running one must
 * look at the filesystem again, and the refusal messages. Pure: the caller passes statfs figures.
 */
import type { DiskReserveSetting } from '../../../lib/config/sections/storage.ts';

/** The default reserve: this share of /var ... */
export const DEFAULT_RESERVE_PERCENT = 10;
/** ... or this many bytes, whichever is smaller. */
export const DEFAULT_RESERVE_MAX_BYTES = 1024 ** 3;
/** Inodes images leave free: this share of the filesystem's inodes, at most DEFAULT_INODE_RESERVE_MAX. */
export const INODE_RESERVE_PERCENT = 10;
export const DEFAULT_INODE_RESERVE_MAX = 65_536;

/**
 * Unpacked size per compressed byte assumed before an unpack: image layers compress 2-3.5x with
 * gzip or zstd (Debian, Alpine, Node and Python bases), so 4 errs on the side of refusing early.
 * Layers that expand further are stopped while they unpack.
 */
export const UNPACK_EXPANSION = 4;
/** Charged per layer entry on top of its data: the inode, directory entry and partial block. */
export const ENTRY_OVERHEAD_BYTES = 4096;
/** The most bytes written between two looks at the filesystem, however much room there is. */
export const MAX_CHECK_INTERVAL_BYTES = 16 * 1024 * 1024;

/** What statfs says about a filesystem, in bytes and inodes. */
export interface FileSystemSpace {
  totalBytes: number;
  /** Free bytes an unprivileged writer may use (f_bavail): ext4's root-only blocks stay out. */
  availableBytes: number;
  totalInodes: number;
  freeInodes: number;
}

/** Bytes and inodes to keep free on a filesystem. */
export interface Reserve {
  bytes: number;
  inodes: number;
}

/** The reserve for a filesystem of `space`'s size: the setting, or min(10%, 1 GiB) without one. */
export function reserveFor(space: Pick<FileSystemSpace, 'totalBytes' | 'totalInodes'>, setting?: DiskReserveSetting): Reserve {
  let bytes: number;
  if (setting === undefined) bytes = Math.min(Math.floor((space.totalBytes * DEFAULT_RESERVE_PERCENT) / 100), DEFAULT_RESERVE_MAX_BYTES);
  else if ('percent' in setting) bytes = Math.floor((space.totalBytes * setting.percent) / 100);
  else bytes = setting.bytes;
  // A reserve of 0 turns the byte reserve off; the inode reserve follows it (no reserve at all).
  const inodes = bytes === 0 ? 0 : Math.min(Math.floor((space.totalInodes * INODE_RESERVE_PERCENT) / 100), DEFAULT_INODE_RESERVE_MAX);
  return { bytes, inodes };
}

/**
 * Room above the reserve: what an image operation may still use (negative when already below it).
 * A filesystem that reports no inodes at all (btrfs allocates them dynamically) has no inode limit.
 */
export function roomAbove(space: FileSystemSpace, reserve: Reserve): { bytes: number; inodes: number } {
  return { bytes: space.availableBytes - reserve.bytes, inodes: space.totalInodes === 0 ? Number.POSITIVE_INFINITY : space.freeInodes - reserve.inodes };
}

/** A layer as the manifest describes it. */
export interface LayerSize {
  mediaType: string;
  size: number;
}

/** True for a layer stored as a plain tar (`...layer.v1.tar`, `...rootfs.diff.tar`); gzip, zstd and unknown types are not. */
export function isPlainTarLayer(mediaType: string): boolean {
  return /[.+/]tar$/.test(mediaType);
}

/**
 * A conservative estimate of the bytes the layers take once unpacked: UNPACK_EXPANSION times a
 * compressed layer (or one of an unknown type), a plain tar's own size, so an image that will not
 * unpack is refused before it downloads.
 */
export function estimateUnpackedBytes(layers: readonly LayerSize[]): number {
  return layers.reduce((sum, layer) => sum + (isPlainTarLayer(layer.mediaType) ? layer.size : layer.size * UNPACK_EXPANSION), 0);
}

/** The outcome of checking an operation of `needBytes` against the room above the reserve. */
export type SpaceDecision = { fits: true; leftBytes: number } | { fits: false; shortBytes: number };

/** Whether `needBytes` fit into the room above the reserve on a filesystem of `space`. */
export function decideFits(space: FileSystemSpace, reserve: Reserve, needBytes: number): SpaceDecision {
  const room = roomAbove(space, reserve).bytes;
  return needBytes <= room ? { fits: true, leftBytes: room - needBytes } : { fits: false, shortBytes: needBytes - Math.max(room, 0) };
}

/** Which of the two a filesystem ran out of (above the reserve). */
export type Shortage = 'bytes' | 'inodes';

/**
 * What a writer may write (bytes, inodes) before it looks at the filesystem again, having just
 * seen `room` and being about to write `bytes` and create `inodes`; or what it would run short
 * of, and must stop. The interval is half the room left (at most MAX_CHECK_INTERVAL_BYTES), so
 * the writer looks more often as it nears the reserve, and other writers on /var (logs,
 * containers) can take at most about that much of the reserve before the next look.
 */
export function nextCheck(room: { bytes: number; inodes: number }, bytes: number, inodes: number): { ok: true; bytes: number; inodes: number } | { ok: false; short: Shortage } {
  if (bytes > room.bytes) return { ok: false, short: 'bytes' };
  if (inodes > room.inodes) return { ok: false, short: 'inodes' };
  return {
    ok: true,
    bytes: Math.min(Math.floor((room.bytes - bytes) / 2), MAX_CHECK_INTERVAL_BYTES),
    inodes: Math.floor((room.inodes - inodes) / 2),
  };
}

/** 1536 -> "1.5 KiB", 1073741824 -> "1.0 GiB": sizes in refusal messages. */
export function formatSize(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = Math.max(bytes, 0);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

/** How the reserve is set, for messages: "the reserve of 1.0 GiB (storage.reserve: 10%)". */
export function describeReserve(reserve: Reserve, setting?: DiskReserveSetting): string {
  const how = setting === undefined ? 'default: 10% of /var, at most 1 GiB' : 'percent' in setting ? `storage.reserve: ${setting.percent}%` : `storage.reserve: ${formatSize(setting.bytes)}`;
  return `the reserve of ${formatSize(reserve.bytes)} (${how})`;
}

/** What to do about a refusal; the same advice everywhere. */
export const RESERVE_ADVICE = 'free space on /var (berth ctl prune, berth ctl rmi) or lower storage.reserve in the machine config';

/** Why an operation needing `needBytes` is refused before it starts; `what` is plural ("its layers"). */
export function refusalBeforeStart(what: string, needBytes: number, space: FileSystemSpace, reserve: Reserve, setting?: DiskReserveSetting): string {
  const room = Math.max(roomAbove(space, reserve).bytes, 0);
  return `${what} take about ${formatSize(needBytes)} on /var and only ${formatSize(room)} is free above ${describeReserve(reserve, setting)}; ${RESERVE_ADVICE}`;
}

/** Why a running operation was stopped: it would have taken /var below the reserve. */
export function refusalWhileWriting(what: string, short: Shortage, space: FileSystemSpace, reserve: Reserve, setting?: DiskReserveSetting): string {
  const state =
    short === 'inodes'
      ? `/var is down to ${space.freeInodes} free inodes, the reserve is ${reserve.inodes}`
      : `/var is down to ${formatSize(space.availableBytes)} free, ${describeReserve(reserve, setting)}`;
  return `${what} stopped: ${state}; what it wrote is removed again; ${RESERVE_ADVICE}`;
}
