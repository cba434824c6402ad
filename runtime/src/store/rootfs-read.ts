/**
 * Reading files of a container image from the host without trusting its symlinks: a path is
 * resolved component by component with lstat/readlink, absolute link targets restart at the
 * image root and `..` stops there, exactly as the path would resolve inside the container.
 * Needed before start (e.g. the image's /etc/passwd for `user:`), where a naive read of
 * `<rootfs>/etc/passwd -> /etc/shadow` would read the host's file. Effects: reads only.
 */
import { constants as fsConstants, promises as fsp } from 'node:fs';
import * as nodePath from 'node:path';
import { BerthError, errnoCode } from '../../../lib/errors.ts';

/** Linux's own limit on symlinks followed in one lookup. */
const MAX_SYMLINKS = 40;

/**
 * The host path `path` names inside `root`, with every symlink resolved inside `root`.
 * Components that do not exist are kept (the result may not exist). Throws
 * RUNTIME_ROOTFS_PATH for symlink loops and for non-directories used as directories.
 */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  let pending = path.split('/').filter((part) => part !== '' && part !== '.');
  const resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const [component, ...rest] = pending;
    pending = rest;
    if (component === undefined) break;
    if (component === '..') {
      resolved.pop();
      continue;
    }
    const candidate = nodePath.join(root, ...resolved, component);
    let stat;
    try {
      stat = await fsp.lstat(candidate);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') {
        // A missing component ends the walk; '..' after it cannot be resolved meaningfully.
        if (pending.includes('..')) throw new BerthError('RUNTIME_ROOTFS_PATH', `Cannot resolve ${path} in ${root}: '..' after missing '${component}'`);
        return nodePath.join(root, ...resolved, component, ...pending);
      }
      throw error;
    }
    if (stat.isSymbolicLink()) {
      hops += 1;
      if (hops > MAX_SYMLINKS) throw new BerthError('RUNTIME_ROOTFS_PATH', `Cannot resolve ${path} in ${root}: too many levels of symbolic links`);
      const target = await fsp.readlink(candidate);
      // Absolute targets restart at the image root, never the host's.
      if (target.startsWith('/')) resolved.length = 0;
      pending = [...target.split('/').filter((part) => part !== '' && part !== '.'), ...pending];
      continue;
    }
    if (pending.length > 0 && !stat.isDirectory()) {
      throw new BerthError('RUNTIME_ROOTFS_PATH', `Cannot resolve ${path} in ${root}: '${[...resolved, component].join('/')}' is not a directory`);
    }
    resolved.push(component);
  }
  return nodePath.join(root, ...resolved);
}

/**
 * Reads a regular file of the image at `path` (resolved inside `root`), or undefined when it
 * does not exist. Refuses non-regular files and files over `maxBytes` (default 1 MiB).
 */
export async function readFileInRoot(root: string, path: string, maxBytes = 1024 * 1024): Promise<Buffer | undefined> {
  const hostPath = await resolveInRoot(root, path);
  let handle;
  try {
    // O_NOFOLLOW: the last component was resolved above; never follow a link swapped in since.
    handle = await fsp.open(hostPath, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw new BerthError('RUNTIME_ROOTFS_PATH', `Cannot read ${path} in ${root}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new BerthError('RUNTIME_ROOTFS_PATH', `Cannot read ${path} in ${root}: not a regular file`);
    if (stat.size > maxBytes) throw new BerthError('RUNTIME_ROOTFS_PATH', `Cannot read ${path} in ${root}: ${stat.size} bytes is more than ${maxBytes}`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
