/**
 * Init's bundle (berth-init.cjs) compiled with a V8 code cache taken after the boot ran, kept on
 * /var across boots. Node's own compile cache (module.enableCompileCache) stores only what V8
 * compiled when the module was compiled, the top level: every function runs lazily compiled
 * on each boot (measured: a function called at the top level adds nothing to Node's entry).
 * A cache created from the script once the boot settled (vm.Script#createCachedData) holds
 * every function the boot compiled. V8 checks the cache's version and flags but of the source
 * only its length, so the cache is named by the bundle's CRC-32 and size: another bundle
 * (an update, a rebuild) never reads it. V8 does not checksum a cache in release builds, so the
 * file carries the CRC-32 of what follows: a damaged file is rejected, not run. Effects: reads the bundle and the cache, writes below
 * the kept cache's directory.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import nodeModule from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { crc32 } from 'node:zlib';
import { writeFileAtomically } from '../../lib/sys/atomic-file.ts';

/** A cache directory per V8 version and architecture: an update to Node leaves the old one to be removed. */
export function codeCacheDirName(v8Version: string = process.versions.v8, arch: string = process.arch): string {
  return `v8-${v8Version}-${arch}`;
}

/** The cache's file name for one bundle: its CRC-32 and size, since V8 checks only the length. */
export function codeCacheFileName(bundleName: string, source: Buffer): string {
  return `${bundleName}-${crc32(source).toString(16).padStart(8, '0')}-${source.length}.v8cache`;
}

export type CodeCacheState = 'accepted' | 'rejected' | 'damaged' | 'missing' | 'off';

/** The kept file: the cache's CRC-32 (4 bytes, big-endian), then the cache. */
export function frameCodeCache(data: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(crc32(data));
  return Buffer.concat([header, data]);
}

/** The cache in a kept file, or undefined when the file is damaged (short, or its CRC-32 differs). */
export function unframeCodeCache(file: Buffer): Buffer | undefined {
  if (file.length <= 4) return undefined;
  const data = file.subarray(4);
  return crc32(data) === file.readUInt32BE(0) ? data : undefined;
}

export interface LoadedBundle<Exports> {
  exports: Exports;
  /** accepted: V8 used the kept cache; rejected: it did not match (another V8 or flags); damaged: its CRC-32 differs; missing: none kept; off: not asked for. */
  cache: CodeCacheState;
  /** The cache as of now: every function compiled so far (vm.Script#createCachedData). */
  createCache(): Buffer;
  /** Where the cache of this bundle is kept, relative to a cache root: `<dir>/<file>`. */
  cacheName: { dir: string; file: string };
}

/**
 * Compiles and runs a CommonJS bundle as Node's loader would (the same wrapper and require),
 * with the code cache kept below `cacheRoot` when given.
 */
export function loadBundle<Exports>(file: string, cacheRoot: string | undefined): LoadedBundle<Exports> {
  const source = readFileSync(file);
  const cacheName = { dir: codeCacheDirName(), file: codeCacheFileName(path.basename(file, path.extname(file)), source) };
  let kept: Buffer | undefined;
  if (cacheRoot !== undefined) {
    try {
      kept = readFileSync(path.join(cacheRoot, cacheName.dir, cacheName.file));
    } catch {
      // No cache kept yet (a first boot, a new bundle): compiled from source.
    }
  }
  const cachedData = kept === undefined ? undefined : unframeCodeCache(kept);
  const script = new vm.Script(nodeModule.wrap(source.toString('utf8')), {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
    // The bundle's import() of Node built-ins and files resolves as in a module Node loaded itself.
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const cache: CodeCacheState = cacheRoot === undefined ? 'off' : kept === undefined ? 'missing' : cachedData === undefined ? 'damaged' : script.cachedDataRejected ? 'rejected' : 'accepted';
  const module = { exports: {} as Exports };
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => void;
  wrapper.call(module.exports, module.exports, nodeModule.createRequire(file), module, file, path.dirname(file));
  return { exports: module.exports, cache, createCache: () => script.createCachedData(), cacheName };
}

export interface SavedCodeCache {
  /** Bytes written; 0 when the kept cache was the same. */
  bytes: number;
  /** Other caches removed: of other bundles, other V8 versions or architectures. */
  removed: number;
}

/**
 * Keeps `cache` as the only cache below `keptRoot` (crash-safely: a torn write leaves the old
 * file or none), removing the caches of other bundles and V8 versions.
 */
export async function saveCodeCache(cache: Buffer, name: { dir: string; file: string }, keptRoot: string): Promise<SavedCodeCache> {
  const data = frameCodeCache(cache);
  const dir = path.join(keptRoot, name.dir);
  const saved: SavedCodeCache = { bytes: 0, removed: 0 };
  let old: Buffer | undefined;
  try {
    old = await readFile(path.join(dir, name.file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (!old?.equals(data)) {
    await mkdir(dir, { recursive: true });
    await writeFileAtomically(path.join(dir, name.file), data);
    saved.bytes = data.length;
  }
  for (const entry of await readdir(keptRoot)) {
    if (entry === name.dir) continue;
    await rm(path.join(keptRoot, entry), { recursive: true, force: true });
    saved.removed += 1;
  }
  for (const entry of await readdir(dir)) {
    if (entry === name.file) continue;
    await rm(path.join(dir, entry), { recursive: true, force: true });
    saved.removed += 1;
  }
  return saved;
}
