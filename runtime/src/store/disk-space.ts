/**
 * Keeps image pulls and layer unpacks above the disk reserve on /var (core/disk-reserve.ts):
 * a check before an operation starts, and a guard its writers charge as bytes go to disk, which
 * looks at the filesystem (statfs) again whenever the charged bytes reach the interval the core
 * allows. Effects: statfs(2) of one path; the fake beside the real one serves tests.
 */
import { promises as fsp } from 'node:fs';
import type { DiskReserveSetting } from '../../../lib/config/sections/storage.ts';
import { BerthError } from '../../../lib/errors.ts';
import { nextCheck, refusalBeforeStart, refusalWhileWriting, reserveFor, roomAbove, decideFits, type FileSystemSpace } from '../core/disk-reserve.ts';

/** The code of every refusal for want of space above the reserve. */
export const DISK_RESERVE_CODE = 'RUNTIME_DISK_RESERVE';

/** statfs(2) as the reserve needs it. */
export interface DiskSpace {
  statfs(path: string): Promise<FileSystemSpace>;
}

/** The real statfs, through node:fs. */
export function createDiskSpace(): DiskSpace {
  return {
    async statfs(path) {
      const stats = await fsp.statfs(path);
      return { totalBytes: stats.blocks * stats.bsize, availableBytes: stats.bavail * stats.bsize, totalInodes: stats.files, freeInodes: stats.ffree };
    },
  };
}

/** A filesystem in memory: tests set its figures, and writers through the guard use them up. */
export interface FakeDiskSpace extends DiskSpace {
  space: FileSystemSpace;
  /** statfs calls so far. */
  calls: number;
}

/** A fake filesystem of `space`; `consume` moves its free figures as a real write would. */
export function createFakeDiskSpace(space: FileSystemSpace): FakeDiskSpace & { consume(bytes: number, inodes?: number): void } {
  const fake = {
    space: { ...space },
    calls: 0,
    statfs() {
      fake.calls += 1;
      return Promise.resolve({ ...fake.space });
    },
    consume(bytes: number, inodes = 0) {
      fake.space.availableBytes -= bytes;
      fake.space.freeInodes -= inodes;
    },
  };
  return fake;
}

/** What image writers hold: the checks before and during an operation on one filesystem. */
export interface SpaceGuard {
  /** Throws RUNTIME_DISK_RESERVE naming `what` unless `needBytes` fit above the reserve now. */
  ensureRoom(what: string, needBytes: number): Promise<void>;
  /**
   * Accounts for `bytes` and `inodes` about to be written for `what`; throws RUNTIME_DISK_RESERVE
   * when writing them would take the filesystem below the reserve. Call before the write.
   */
  charge(what: string, bytes: number, inodes?: number): Promise<void>;
  /** A new `storage.reserve` (a config applied live); undefined is the default. */
  setReserve(setting: DiskReserveSetting | undefined): void;
}

/** A guard for the filesystem holding `path`, keeping `setting`'s reserve (default when undefined). */
export function createSpaceGuard(disk: DiskSpace, path: string, setting?: DiskReserveSetting): SpaceGuard {
  let current = setting;
  // Bytes and inodes that may still be written before the next statfs; 0 forces a look.
  let allowance = { bytes: 0, inodes: 0 };

  return {
    async ensureRoom(what, needBytes) {
      const space = await disk.statfs(path);
      const reserve = reserveFor(space, current);
      if (!decideFits(space, reserve, needBytes).fits) throw new BerthError(DISK_RESERVE_CODE, refusalBeforeStart(what, needBytes, space, reserve, current));
    },

    async charge(what, bytes, inodes = 0) {
      if (bytes <= allowance.bytes && inodes <= allowance.inodes) {
        allowance = { bytes: allowance.bytes - bytes, inodes: allowance.inodes - inodes };
        return;
      }
      const space = await disk.statfs(path);
      const reserve = reserveFor(space, current);
      const next = nextCheck(roomAbove(space, reserve), bytes, inodes);
      if (!next.ok) {
        allowance = { bytes: 0, inodes: 0 };
        throw new BerthError(DISK_RESERVE_CODE, refusalWhileWriting(what, next.short, space, reserve, current));
      }
      allowance = { bytes: next.bytes, inodes: next.inodes };
    },

    setReserve(next) {
      current = next;
      allowance = { bytes: 0, inodes: 0 };
    },
  };
}
