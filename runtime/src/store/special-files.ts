/**
 * The filesystem operations Node has no API for and the unpacker needs: creating device
 * nodes and FIFOs (mknod), setting extended attributes (overlay whiteouts and opaque
 * directories, file capabilities) and syncfs. Runs coreutils `mknod` and `sync` and attr's `setfattr`
 * through lib/sys/exec: absolute paths, no shell. A recording fake sits beside it.
 */
import { createExec, type Exec } from '../../../lib/sys/exec.ts';

export type NodeKind = 'char' | 'block' | 'fifo';

export interface SpecialFiles {
  /** Creates a device node or FIFO at `path` (which must not exist) with permission bits `mode`. */
  mknod(path: string, kind: NodeKind, mode: number, major?: number, minor?: number): Promise<void>;
  /** Sets xattr `name` on `path` itself, never on a symlink's target. */
  setXattr(path: string, name: string, value: Buffer): Promise<void>;
  /** Flushes the whole filesystem holding `path` (syncfs(2)). */
  syncFilesystem(path: string): Promise<void>;
}

export const MKNOD_PATH = '/usr/bin/mknod';
/** coreutils `sync -f` is syncfs(2), which Node does not expose. */
export const SYNC_PATH = '/usr/bin/sync';
/** From Debian's `attr` package; the root filesystem must ship it for opaque directories. */
export const SETFATTR_PATH = '/usr/bin/setfattr';

const KIND_LETTER: Record<NodeKind, string> = { char: 'c', block: 'b', fifo: 'p' };

/** The argv of `mknod` for one node (pure, exported for tests). */
export function mknodArgs(path: string, kind: NodeKind, mode: number, major = 0, minor = 0): string[] {
  const args = ['-m', (mode & 0o7777).toString(8).padStart(4, '0'), '--', path, KIND_LETTER[kind]];
  if (kind !== 'fifo') args.push(String(major), String(minor));
  return args;
}

/** The argv of `setfattr` for one attribute; the value goes hex-encoded so any bytes survive. */
export function setfattrArgs(path: string, name: string, value: Buffer): string[] {
  return ['-h', '-n', name, '-v', `0x${value.toString('hex')}`, '--', path];
}

/** The real implementation over lib/sys/exec. */
export function createSpecialFiles(exec: Exec = createExec()): SpecialFiles {
  return {
    async mknod(path, kind, mode, major, minor) {
      await exec.run(MKNOD_PATH, mknodArgs(path, kind, mode, major, minor), { timeoutMs: 10_000 });
    },
    async setXattr(path, name, value) {
      await exec.run(SETFATTR_PATH, setfattrArgs(path, name, value), { timeoutMs: 10_000 });
    },
    async syncFilesystem(path) {
      // Flushing a large unpack to a slow disk can take a while.
      await exec.run(SYNC_PATH, ['--file-system', '--', path], { timeoutMs: 300_000 });
    },
  };
}
