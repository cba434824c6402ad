/**
 * Hostile-input-safe unpacking of one image layer (tar, gzip or zstd) into its own
 * directory. tar-stream only parses; every path, link, type, size and whiteout decision is
 * made by core/layer-entry.ts and re-checked on disk with lstat and O_NOFOLLOW. The layer
 * is built in a temporary directory beside the target and renamed into place only when
 * complete, so a refusal or a crash never leaves a usable partial layer. With a SpaceGuard
 * every entry and every chunk of file data is charged before it is written, so an unpack stops
 * at the disk reserve on /var (and its temporary directory is removed). Effects: files
 * under the target's parent directory; mknod/setfattr through SpecialFiles.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, constants as fsConstants, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, promises as fsp, symlinkSync, utimesSync, type Stats } from 'node:fs';
import * as nodePath from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { extract as createTarExtract, type Header } from 'tar-stream';
import { errnoCode, isBerthError } from '../../../lib/errors.ts';
import { syncDirectory, syncFile } from '../../../lib/sys/atomic-file.ts';
import { createBatchedWriter } from '../../../lib/sys/batched-writer.ts';
import { drainedOrClosed } from '../../../lib/sys/drained.ts';
import { shortDigest } from '../core/digest.ts';
import { ENTRY_OVERHEAD_BYTES } from '../core/disk-reserve.ts';
import {
  DEFAULT_LAYER_LIMITS,
  LayerEntryTracker,
  joinEntryPath,
  layerError,
  planEntry,
  type EntryMetadata,
  type EntryPath,
  type EntryPlan,
  type TarEntryHeader,
} from '../core/layer-entry.ts';
import { createDecompressor, peekBytes, sniffCompression, type Compression, type DecompressOptions } from './decompress.ts';
import type { SpaceGuard } from './disk-space.ts';
import { createSpecialFiles, type SpecialFiles } from './special-files.ts';

/** The unpacked tree inside a layer directory: the overlayfs lowerdir. */
export const LAYER_ROOT_DIR = 'root';
/** The record of the unpack (an UnpackResult as JSON) beside the tree. */
export const LAYER_RECORD_FILE = 'layer.json';
const PARTIAL_MARKER = '.partial-';
const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';

export interface UnpackOptions {
  /** The layer's digest, named in every message. */
  digest: string;
  /** The layer directory to create; must not exist. Receives `root/` and `layer.json`. */
  target: string;
  /** Bound on the sum of file sizes (decompression bombs). Default 16 GiB. */
  maxUnpackedBytes?: number;
  /** Bound on the number of archive entries. Default 1,000,000. */
  maxEntries?: number;
  /** Bound on the decompressed tar stream itself (headers, padding, trailing data). Default: maxUnpackedBytes + 8 KiB per allowed entry. */
  maxArchiveBytes?: number;
  /** Create character and block devices from the layer. Default false: such layers are refused. */
  allowDevices?: boolean;
  /** Skip xattrs of unknown namespaces instead of refusing. Default false. */
  ignoreUnknownXattrs?: boolean;
  /** Force a compression instead of sniffing the magic bytes. */
  compression?: Compression;
  /** The diff_id from the image config; a mismatch refuses the layer. */
  expectedDiffId?: string;
  /** Whiteouts as overlayfs char devices 0:0 and trusted.overlay.opaque (needs root), or only recorded in layer.json. Default: 'overlay' as root, else 'record'. */
  whiteouts?: 'overlay' | 'record';
  /** Keep owners from the archive (needs root). Default: true as root. */
  keepOwnership?: boolean;
  /**
   * Durability before the rename, so a power cut never exposes a layer with empty files:
   * 'filesystem' (default) flushes the whole filesystem once with syncfs (coreutils
   * `sync -f`), 'files' fsyncs every file and directory, 'none' is for tests and scratch.
   */
  sync?: 'filesystem' | 'files' | 'none';
  special?: SpecialFiles;
  decompress?: DecompressOptions;
  /** Charged for every entry and every chunk of file data before it is written (the disk reserve). */
  space?: SpaceGuard;
  /**
   * Awaited once the layer is complete and durable, before it gets its name; a rejection
   * discards it. A layer unpacked while its blob downloads waits here for the blob store's
   * digest check, so no layer from bytes the store refused is ever used.
   */
  beforeCommit?: () => Promise<unknown>;
}

/** What was unpacked; also written to `<target>/layer.json`. */
export interface UnpackResult {
  digest: string;
  /** sha256 of the uncompressed tar stream (the image config's diff_id). */
  diffId: string;
  compression: Compression;
  entries: number;
  unpackedBytes: number;
  archiveBytes: number;
  whiteoutMode: 'overlay' | 'record';
  ownership: 'kept' | 'not-kept';
  /** Paths (relative to the layer root) hidden from lower layers. */
  whiteouts: string[];
  /** Directories whose lower-layer contents are hidden. */
  opaqueDirectories: string[];
  /** Things not done and why (not root, skipped xattrs). */
  notes: string[];
}

interface DeferredDirectory {
  path: EntryPath;
  meta: EntryMetadata | undefined;
}

/**
 * An entry's metadata calls (lstat, mkdir, symlink, link, lchown, lutimes, chmod, utimes) are
 * made synchronously: each is one quick syscall on the local /var, while under emulation the
 * trip through libuv's thread pool and back costs more than the call (measured under TCG: the
 * unpack of a 34-entry busybox layer went from ~0.9 s to ~0.78 s). The entry loop yields to the event loop every
 * ENTRIES_BETWEEN_YIELDS entries, so the process's other work (init's API, supervision) never
 * waits behind more than a few milliseconds of them. File data stays asynchronous.
 */
const ENTRIES_BETWEEN_YIELDS = 16;

function lstatOrUndefined(path: string): Stats | undefined {
  return lstatSync(path, { throwIfNoEntry: false });
}

function headerOf(header: Header): TarEntryHeader {
  // tar-stream's typings promise a type and a linkname; at run time both can be null.
  const loose = header as unknown as { type: string | null; linkname: string | null | undefined; pax?: Record<string, string> | null };
  return {
    name: header.name,
    type: loose.type,
    size: header.size,
    mode: header.mode,
    uid: header.uid,
    gid: header.gid,
    mtime: header.mtime,
    linkname: loose.linkname ?? null,
    devmajor: header.devmajor,
    devminor: header.devminor,
    pax: loose.pax ?? null,
  };
}

/** One unpack in progress: the temp tree, the tracker and the deferred directory metadata. */
class LayerWriter {
  readonly tracker: LayerEntryTracker;
  readonly rootDir: string;
  private readonly verifiedDirs = new Set<string>(['.']);
  private readonly directories = new Map<string, DeferredDirectory>();
  readonly whiteouts: string[] = [];
  readonly opaqueDirectories: string[] = [];
  readonly notes: string[] = [];
  private readonly special: SpecialFiles;

  constructor(
    private readonly options: UnpackOptions,
    tempDir: string,
    private readonly whiteoutMode: 'overlay' | 'record',
    private readonly keepOwnership: boolean,
    private readonly syncEach: boolean,
  ) {
    this.rootDir = nodePath.join(tempDir, LAYER_ROOT_DIR);
    this.tracker = new LayerEntryTracker(options.digest, {
      maxUnpackedBytes: options.maxUnpackedBytes ?? DEFAULT_LAYER_LIMITS.maxUnpackedBytes,
      maxEntries: options.maxEntries ?? DEFAULT_LAYER_LIMITS.maxEntries,
    });
    this.special = options.special ?? createSpecialFiles();
    this.directories.set('.', { path: [], meta: undefined });
  }

  private abs(path: EntryPath): string {
    return nodePath.join(this.rootDir, ...path);
  }

  /**
   * Makes sure every component of `dir` is a real directory inside the root, creating
   * missing ones. A symlink anywhere on the way is a refusal: writing below it would land
   * wherever an earlier entry pointed it.
   */
  private ensureDirectory(dir: EntryPath, entry: string): void {
    for (let i = 1; i <= dir.length; i += 1) {
      const prefix = dir.slice(0, i);
      const key = joinEntryPath(prefix);
      if (this.verifiedDirs.has(key)) continue;
      const abs = this.abs(prefix);
      const stat = lstatOrUndefined(abs);
      if (stat === undefined) {
        mkdirSync(abs, { mode: 0o755 });
        this.directories.set(key, { path: prefix, meta: undefined });
      } else if (stat.isSymbolicLink()) {
        throw layerError('RUNTIME_LAYER_SYMLINK_TRAVERSAL', this.options.digest, `entry '${entry}' would be written through symlink '${key}'`);
      } else if (!stat.isDirectory()) {
        throw layerError('RUNTIME_LAYER_UNSAFE_PATH', this.options.digest, `entry '${entry}' lies below '${key}', which is not a directory`);
      }
      this.verifiedDirs.add(key);
    }
  }

  /** The final component must be free: nothing is ever replaced or written through. */
  private ensureAbsent(path: EntryPath, entry: string): string {
    const abs = this.abs(path);
    if (lstatOrUndefined(abs) !== undefined) {
      throw layerError('RUNTIME_LAYER_DUPLICATE_ENTRY', this.options.digest, `entry '${entry}' would replace an existing path`);
    }
    return abs;
  }

  private applyOwnerAndTimes(abs: string, meta: EntryMetadata): void {
    if (this.keepOwnership) lchownSync(abs, meta.uid, meta.gid);
    lutimesSync(abs, meta.mtime, meta.mtime);
  }

  private async applyXattrs(abs: string, meta: EntryMetadata, entry: string, isSymlink = false): Promise<void> {
    for (const [name, value] of meta.xattrs) {
      if (isSymlink && name.startsWith('user.')) {
        this.notes.push(`xattr ${name} of symlink '${entry}' not set (Linux has no user xattrs on symlinks)`);
        continue;
      }
      if (!this.keepOwnership && !name.startsWith('user.')) {
        this.notes.push(`xattr ${name} of '${entry}' not set (needs root)`);
        continue;
      }
      await this.special.setXattr(abs, name, value);
    }
  }

  async write(plan: EntryPlan, data: AsyncIterable<Buffer>): Promise<void> {
    const digest = this.options.digest;
    const entry = 'entryName' in plan ? plan.entryName : joinEntryPath(plan.path);
    const parent = plan.path.slice(0, -1);
    const space = this.options.space;
    const what = `Layer ${shortDigest(digest)}`;
    // Every entry may take an inode, a directory slot and a partial block.
    await space?.charge(what, ENTRY_OVERHEAD_BYTES, 1);
    switch (plan.kind) {
      case 'directory': {
        this.ensureDirectory(parent, entry);
        const key = joinEntryPath(plan.path);
        if (plan.path.length > 0) {
          const stat = lstatOrUndefined(this.abs(plan.path));
          if (stat === undefined) mkdirSync(this.abs(plan.path), { mode: 0o700 });
          else if (stat.isSymbolicLink() || !stat.isDirectory()) {
            throw layerError('RUNTIME_LAYER_DUPLICATE_ENTRY', digest, `entry '${entry}' would replace an existing non-directory`);
          }
          this.verifiedDirs.add(key);
        }
        // Mode, owner and times are applied after all children exist (a 0555 directory
        // would refuse them, and each child would bump the mtime).
        this.directories.set(key, { path: plan.path, meta: plan.meta });
        return;
      }
      case 'file': {
        this.ensureDirectory(parent, entry);
        const abs = this.ensureAbsent(plan.path, entry);
        // O_EXCL|O_NOFOLLOW: never open something an earlier entry put here, never follow a link.
        const handle = await fsp.open(abs, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, 0o600);
        try {
          const writer = createBatchedWriter(handle);
          let written = 0;
          for await (const chunk of data) {
            written += chunk.length;
            if (written > plan.size) throw layerError('RUNTIME_LAYER_CORRUPT', digest, `entry '${entry}' carries more data than its size ${plan.size}`);
            await space?.charge(what, chunk.length);
            await writer.write(chunk);
          }
          await writer.flush();
          if (written !== plan.size) throw layerError('RUNTIME_LAYER_CORRUPT', digest, `entry '${entry}' is truncated (${written} of ${plan.size} bytes)`);
          // chown clears setuid/setgid and file capabilities, so: owner, then mode, then xattrs.
          if (this.keepOwnership) await handle.chown(plan.meta.uid, plan.meta.gid);
          await handle.chmod(plan.meta.mode);
          await this.applyXattrs(abs, plan.meta, entry);
          await handle.utimes(plan.meta.mtime, plan.meta.mtime);
          if (this.syncEach) await handle.sync();
        } finally {
          await handle.close();
        }
        return;
      }
      case 'symlink': {
        this.ensureDirectory(parent, entry);
        const abs = this.ensureAbsent(plan.path, entry);
        symlinkSync(plan.target, abs);
        await this.applyXattrs(abs, plan.meta, entry, true);
        this.applyOwnerAndTimes(abs, plan.meta);
        return;
      }
      case 'hardlink': {
        this.ensureDirectory(parent, entry);
        const abs = this.ensureAbsent(plan.path, entry);
        const targetAbs = this.abs(plan.target);
        // The tracker proved the target is an earlier non-directory entry; check the disk agrees.
        const stat = lstatOrUndefined(targetAbs);
        if (stat === undefined || stat.isDirectory()) {
          throw layerError('RUNTIME_LAYER_UNSAFE_LINK', digest, `hard link '${entry}' -> '${joinEntryPath(plan.target)}': target is not an earlier entry of this layer`);
        }
        // link(2) does not follow a symlink target: linking to a symlink links the symlink.
        linkSync(targetAbs, abs);
        return;
      }
      case 'device':
      case 'fifo': {
        this.ensureDirectory(parent, entry);
        const abs = this.ensureAbsent(plan.path, entry);
        if (plan.kind === 'device' && !this.keepOwnership) {
          this.notes.push(`device '${entry}' not created (needs root)`);
          return;
        }
        if (plan.kind === 'device') await this.special.mknod(abs, plan.device, plan.meta.mode, plan.major, plan.minor);
        else await this.special.mknod(abs, 'fifo', plan.meta.mode);
        await this.applyXattrs(abs, plan.meta, entry);
        this.applyOwnerAndTimes(abs, plan.meta);
        return;
      }
      case 'whiteout': {
        this.ensureDirectory(parent, entry);
        this.whiteouts.push(joinEntryPath(plan.path));
        if (this.whiteoutMode === 'overlay') {
          const abs = this.ensureAbsent(plan.path, entry);
          await this.special.mknod(abs, 'char', 0, 0, 0);
        }
        return;
      }
      case 'opaque': {
        this.ensureDirectory(plan.path, entry);
        this.opaqueDirectories.push(joinEntryPath(plan.path));
        if (this.whiteoutMode === 'overlay') {
          await this.special.setXattr(this.abs(plan.path), OVERLAY_OPAQUE_XATTR, Buffer.from('y'));
        }
        return;
      }
    }
  }

  /** Applies directory metadata deepest first, then (optionally) fsyncs every directory. */
  async finish(): Promise<void> {
    const dirs = [...this.directories.values()].sort((a, b) => b.path.length - a.path.length);
    let sinceYield = 0;
    for (const dir of dirs) {
      if (dir.meta === undefined) continue;
      const abs = this.abs(dir.path);
      if (this.keepOwnership) lchownSync(abs, dir.meta.uid, dir.meta.gid);
      chmodSync(abs, dir.meta.mode);
      await this.applyXattrs(abs, dir.meta, joinEntryPath(dir.path));
      utimesSync(abs, dir.meta.mtime, dir.meta.mtime);
      sinceYield += 1;
      if (sinceYield >= ENTRIES_BETWEEN_YIELDS) {
        sinceYield = 0;
        await yieldToEventLoop();
      }
    }
    if (this.syncEach) {
      for (const dir of dirs) await syncDirectory(this.abs(dir.path), { refuseSymlink: true });
    }
  }
}

/** Wraps anything that is not already a refusal: tar/decompression errors are corrupt input, the rest are filesystem failures. */
function asLayerError(error: unknown, digest: string, stage: 'archive' | 'filesystem', entry?: string): Error {
  if (isBerthError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (stage === 'archive') return layerError('RUNTIME_LAYER_CORRUPT', digest, `not a readable layer archive: ${message}`, error);
  return layerError('RUNTIME_LAYER_UNPACK_FAILED', digest, `${entry === undefined ? 'unpacking' : `writing entry '${entry}'`} failed: ${message}`, error);
}

/**
 * Unpacks the layer read from `source` into `options.target` (created; must not exist).
 * Refusals throw a BerthError with a RUNTIME_LAYER_* code naming the layer and the entry;
 * on any failure the temporary directory is removed and the target does not exist.
 */
export async function unpackLayer(source: Readable, options: UnpackOptions): Promise<UnpackResult> {
  const { digest, target } = options;
  const isRoot = process.getuid?.() === 0;
  const whiteoutMode = options.whiteouts ?? (isRoot ? 'overlay' : 'record');
  const keepOwnership = options.keepOwnership ?? isRoot;
  const sync = options.sync ?? 'filesystem';
  const special = options.special ?? createSpecialFiles();
  const maxUnpackedBytes = options.maxUnpackedBytes ?? DEFAULT_LAYER_LIMITS.maxUnpackedBytes;
  const maxEntries = options.maxEntries ?? DEFAULT_LAYER_LIMITS.maxEntries;
  const maxArchiveBytes = options.maxArchiveBytes ?? maxUnpackedBytes + 8192 * maxEntries;

  if (lstatOrUndefined(target) !== undefined) {
    source.destroy();
    throw layerError('RUNTIME_LAYER_EXISTS', digest, `target ${target} already exists`);
  }
  const tempDir = nodePath.join(nodePath.dirname(target), `.${nodePath.basename(target)}${PARTIAL_MARKER}${randomBytes(6).toString('hex')}`);
  // 0700: the tree may hold setuid binaries of the image; host users must not reach them.
  await fsp.mkdir(tempDir, { mode: 0o700 });
  try {
    const writer = new LayerWriter({ ...options, special }, tempDir, whiteoutMode, keepOwnership, sync === 'files');
    await fsp.mkdir(writer.rootDir, { mode: 0o755 });
    const { compression, diffId, archiveBytes } = await streamEntries(source, writer, options, maxArchiveBytes);
    if (options.expectedDiffId !== undefined && options.expectedDiffId !== diffId) {
      throw layerError('RUNTIME_LAYER_DIFF_ID_MISMATCH', digest, `uncompressed content hashes to ${diffId}, the image config says ${options.expectedDiffId}`);
    }
    await writer.finish().catch((error: unknown) => {
      throw asLayerError(error, digest, 'filesystem');
    });
    if (whiteoutMode === 'record' && (writer.whiteouts.length > 0 || writer.opaqueDirectories.length > 0)) {
      writer.notes.push(`${writer.whiteouts.length} whiteouts and ${writer.opaqueDirectories.length} opaque directories recorded in ${LAYER_RECORD_FILE} only (overlay form needs root)`);
    }
    if (!keepOwnership) writer.notes.push('ownership not kept (needs root): files belong to the unpacking user');
    const result: UnpackResult = {
      digest,
      diffId,
      compression,
      entries: writer.tracker.entryCount,
      unpackedBytes: writer.tracker.unpackedBytes,
      archiveBytes,
      whiteoutMode,
      ownership: keepOwnership ? 'kept' : 'not-kept',
      whiteouts: writer.whiteouts,
      opaqueDirectories: writer.opaqueDirectories,
      notes: writer.notes,
    };
    const recordPath = nodePath.join(tempDir, LAYER_RECORD_FILE);
    await fsp.writeFile(recordPath, `${JSON.stringify(result, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    if (sync === 'files') {
      await syncFile(recordPath);
      await syncDirectory(tempDir, { refuseSymlink: true });
    } else if (sync === 'filesystem') {
      // One syncfs instead of an fsync per file: the layer is durable before it gets its name.
      await special.syncFilesystem(tempDir);
    }
    await options.beforeCommit?.();
    try {
      await fsp.rename(tempDir, target);
    } catch (error) {
      if (errnoCode(error) === 'ENOTEMPTY' || errnoCode(error) === 'EEXIST') {
        throw layerError('RUNTIME_LAYER_EXISTS', digest, `target ${target} appeared while unpacking`, error);
      }
      throw error;
    }
    if (sync !== 'none') await syncDirectory(nodePath.dirname(target), { refuseSymlink: true });
    return result;
  } catch (error) {
    await fsp.rm(tempDir, { recursive: true, force: true });
    throw asLayerError(error, digest, 'filesystem');
  }
}

/** Feeds the decompressed archive to tar-stream and each entry to the writer, hashing as it goes. */
async function streamEntries(
  source: Readable,
  writer: LayerWriter,
  options: UnpackOptions,
  maxArchiveBytes: number,
): Promise<{ compression: Compression; diffId: string; archiveBytes: number }> {
  const { digest } = options;
  let failure: Error | undefined;
  const fail = (error: Error): void => {
    failure ??= error;
  };

  const head = await peekBytes(source, 4).catch((error: unknown) => {
    throw asLayerError(error, digest, 'archive');
  });
  if (head.length < 4) throw layerError('RUNTIME_LAYER_CORRUPT', digest, `blob of ${head.length} bytes is too short to be a layer`);
  const compression = options.compression ?? sniffCompression(head);
  const plain = pipeline(source, createDecompressor(compression, options.decompress), (error) => {
    if (error) fail(asLayerError(error, digest, 'archive'));
  });

  const tarExtract = createTarExtract();
  const closed = new Promise<void>((resolve) => tarExtract.once('close', () => resolve()));
  tarExtract.on('error', (error: unknown) => fail(asLayerError(error, digest, 'archive')));
  // The entry being written. A writer that stops inside an entry's data (a write error, the disk
  // reserve) ends the entry stream, and tar-stream then destroys the parser without an error
  // before the writer's failure is known: wait for the entry, never take that for an end.
  let entryDone: Promise<void> = Promise.resolve();
  const parserStopped = (): boolean => tarExtract.destroyed || tarExtract.destroying;
  let entriesSinceYield = 0;
  tarExtract.on('entry', (header, stream, next) => {
    const data = stream as unknown as AsyncIterable<Buffer>;
    // When the parser is destroyed (a refusal), it destroys the entry stream with the same
    // error; without a listener that 'error' would be an uncaught exception in PID 2.
    stream.on('error', () => undefined);
    const shown = header.name;
    let plan: EntryPlan | undefined;
    const handle = async (): Promise<void> => {
      writer.tracker.countEntry(shown, header.size);
      plan = planEntry(headerOf(header), digest, { allowDevices: options.allowDevices ?? false, ignoreUnknownXattrs: options.ignoreUnknownXattrs ?? false });
      writer.tracker.accept(plan);
      await writer.write(plan, data);
      entriesSinceYield += 1;
      if (entriesSinceYield >= ENTRIES_BETWEEN_YIELDS) {
        entriesSinceYield = 0;
        await yieldToEventLoop();
      }
      // Entries other than files may still carry data blocks; read past them.
      for await (const _ of data) {
        // discard
      }
    };
    entryDone = handle().then(
      () => next(),
      (error: unknown) => {
        const wrapped = asLayerError(error, digest, 'filesystem', shown);
        fail(wrapped);
        next(wrapped);
      },
    );
  });

  const hash = createHash('sha256');
  let archiveBytes = 0;
  try {
    for await (const chunk of plain as AsyncIterable<Buffer>) {
      if (failure !== undefined) break;
      archiveBytes += chunk.length;
      if (archiveBytes > maxArchiveBytes) {
        throw layerError('RUNTIME_LAYER_TOO_LARGE', digest, `uncompressed archive exceeds the limit of ${maxArchiveBytes} bytes`);
      }
      hash.update(chunk);
      // A refused entry destroys the parser; its 'close' may already have fired, so never wait then.
      if (!parserStopped() && !tarExtract.write(chunk) && failure === undefined && !parserStopped()) {
        await drainedOrClosed(tarExtract);
      }
      if (parserStopped()) {
        await entryDone;
        break;
      }
    }
  } catch (error) {
    fail(asLayerError(error, digest, 'archive'));
  }
  if (parserStopped()) {
    // Only once the parser is gone: a live entry may still be waiting for the parser's end.
    await entryDone;
    if (failure === undefined) fail(layerError('RUNTIME_LAYER_UNPACK_FAILED', digest, 'the archive parser stopped before the end of the layer'));
  }
  if (failure === undefined) tarExtract.end(undefined);
  else {
    plain.destroy();
    tarExtract.destroy(failure);
  }
  await closed;
  await entryDone;
  if (failure !== undefined) throw failure;
  return { compression, diffId: `sha256:${hash.digest('hex')}`, archiveBytes };
}

/** Removes `.<name>.partial-*` directories a crash left in `layersDir` (call once at store start). */
export async function removePartialLayers(layersDir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await fsp.readdir(layersDir)) {
    if (name.startsWith('.') && name.includes(PARTIAL_MARKER)) {
      await fsp.rm(nodePath.join(layersDir, name), { recursive: true, force: true });
      removed.push(name);
    }
  }
  return removed;
}
