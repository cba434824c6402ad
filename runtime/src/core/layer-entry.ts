/**
 * Safety rules for the entries of an image layer tar, decided before anything touches the
 * disk: path normalisation (no `..`, no absolute paths), whiteout and opaque-marker
 * classification, hard-link targets, device nodes, xattr names, and per-layer bookkeeping
 * (duplicates, whiteout conflicts, size and entry-count bounds). Pure: the unpacker in
 * store/ asks these functions and performs the effects.
 */
import { BerthError, type RuntimeLayerErrorCode } from '../../../lib/errors.ts';
import { shortDigest } from './digest.ts';

/** Every reason a layer is refused (documented where the union lives, lib/errors.ts). */
export type LayerErrorCode = RuntimeLayerErrorCode;

/** Builds the refusal error: `Refusing layer sha256:ab12…: entry '../../etc/passwd' escapes the root`. */
export function layerError(code: LayerErrorCode, digest: string, detail: string, cause?: unknown): BerthError {
  return new BerthError(code, `Refusing layer ${shortDigest(digest)}: ${detail}`, cause === undefined ? undefined : { cause });
}

/** The header fields the rules look at (a subset of tar-stream's header). */
export interface TarEntryHeader {
  name: string;
  type: string | null;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  linkname: string | null;
  devmajor: number;
  devminor: number;
  pax?: Record<string, string> | null | undefined;
}

/** Components of a path inside the layer; [] is the layer root. */
export type EntryPath = readonly string[];

export interface EntryMetadata {
  /** Permission bits including setuid/setgid/sticky (& 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch, fractional when a pax header gave sub-second time. */
  mtime: number;
  /** Extended attributes to apply (already vetted). */
  xattrs: ReadonlyMap<string, Buffer>;
}

/** What an entry asks for, after validation. */
export type EntryPlan =
  | { kind: 'directory'; path: EntryPath; meta: EntryMetadata }
  | { kind: 'file'; path: EntryPath; size: number; meta: EntryMetadata }
  | { kind: 'symlink'; path: EntryPath; target: string; meta: EntryMetadata }
  | { kind: 'hardlink'; path: EntryPath; target: EntryPath }
  | { kind: 'device'; path: EntryPath; device: 'char' | 'block'; major: number; minor: number; meta: EntryMetadata }
  | { kind: 'fifo'; path: EntryPath; meta: EntryMetadata }
  /** `dir/.wh.name`: hide `dir/name` of lower layers. `path` is the hidden path. */
  | { kind: 'whiteout'; path: EntryPath; entryName: string }
  /** `dir/.wh..wh..opq`: hide everything of lower layers below `dir`. */
  | { kind: 'opaque'; path: EntryPath; entryName: string };

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';
const NAME_MAX = 255;
const PATH_MAX = 4095;

export interface EntryRules {
  /** Create character and block devices (off by default: images have no business shipping them). */
  allowDevices: boolean;
  /** Skip xattrs whose namespace is unknown instead of refusing the layer. */
  ignoreUnknownXattrs?: boolean;
}

/** Renders a path for messages exactly as the archive spelled it. */
export function joinEntryPath(path: EntryPath): string {
  return path.length === 0 ? '.' : path.join('/');
}

/**
 * Normalises a path from the archive: drops `.` and empty components, refuses absolute
 * paths, any `..` component, NUL bytes and over-long names. Returns the problem as text.
 */
export function normaliseEntryPath(name: string): { path: EntryPath } | { problem: string } {
  if (name.includes('\0')) return { problem: 'contains a NUL byte' };
  if (name.startsWith('/')) return { problem: 'is an absolute path' };
  if (Buffer.byteLength(name) > PATH_MAX) return { problem: `is longer than ${PATH_MAX} bytes` };
  const path: string[] = [];
  let depth = 0;
  let hasDotDot = false;
  for (const component of name.split('/')) {
    if (component === '' || component === '.') continue;
    if (component === '..') {
      hasDotDot = true;
      depth -= 1;
      if (depth < 0) return { problem: 'escapes the root' };
      continue;
    }
    if (Buffer.byteLength(component) > NAME_MAX) return { problem: `has a component longer than ${NAME_MAX} bytes` };
    depth += 1;
    path.push(component);
  }
  // Even a '..' that stays inside is refused: no honest layer writer emits one, and
  // resolving it would mean trusting the components before it.
  if (hasDotDot) return { problem: "contains a '..' component" };
  return { path };
}

const ALLOWED_XATTR_PREFIXES = ['user.', 'security.capability', 'system.posix_acl_access', 'system.posix_acl_default'];

function decodeXattrs(header: TarEntryHeader, entry: string, digest: string, rules: EntryRules): Map<string, Buffer> {
  const xattrs = new Map<string, Buffer>();
  const pax = header.pax ?? {};
  // libarchive writes LIBARCHIVE.xattr.<name>=<base64> (binary safe) next to the
  // SCHILY.xattr.<name>=<raw> of GNU tar/Docker; raw values arrive UTF-8 decoded.
  for (const [key, value] of Object.entries(pax)) {
    let name: string;
    let data: Buffer;
    if (key.startsWith('LIBARCHIVE.xattr.')) {
      name = decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length));
      data = Buffer.from(value, 'base64');
    } else if (key.startsWith('SCHILY.xattr.')) {
      name = key.slice('SCHILY.xattr.'.length);
      if (xattrs.has(name)) continue;
      data = Buffer.from(value, 'utf8');
    } else {
      continue;
    }
    // user.overlay.* is what overlayfs reads instead of trusted.* when mounted with userxattr.
    if (name.startsWith('user.overlay.')) {
      throw layerError('RUNTIME_LAYER_UNSAFE_XATTR', digest, `entry '${entry}' sets xattr '${name}' (overlayfs metadata)`);
    }
    if (name.startsWith('trusted.')) {
      throw layerError('RUNTIME_LAYER_UNSAFE_XATTR', digest, `entry '${entry}' sets xattr '${name}' (trusted.* is reserved for the host, e.g. overlayfs)`);
    }
    if (!ALLOWED_XATTR_PREFIXES.some((prefix) => name === prefix || (prefix.endsWith('.') && name.startsWith(prefix)))) {
      if (rules.ignoreUnknownXattrs === true) continue;
      throw layerError('RUNTIME_LAYER_UNSAFE_XATTR', digest, `entry '${entry}' sets xattr '${name}' outside user.*, security.capability and POSIX ACLs`);
    }
    xattrs.set(name, data);
  }
  return xattrs;
}

function paxNumber(pax: Record<string, string> | null | undefined, key: string): number | undefined {
  const text = pax?.[key];
  if (text === undefined) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

function metadataOf(header: TarEntryHeader, entry: string, digest: string, rules: EntryRules): EntryMetadata {
  const uid = paxNumber(header.pax, 'uid') ?? header.uid;
  const gid = paxNumber(header.pax, 'gid') ?? header.gid;
  for (const [what, id] of [['uid', uid], ['gid', gid]] as const) {
    if (!Number.isInteger(id) || id < 0 || id > 0xfffffffe) {
      throw layerError('RUNTIME_LAYER_UNSUPPORTED_ENTRY', digest, `entry '${entry}' has an invalid ${what} ${id}`);
    }
  }
  const mtime = paxNumber(header.pax, 'mtime') ?? header.mtime.getTime() / 1000;
  return {
    mode: header.mode & 0o7777,
    uid,
    gid,
    mtime: Number.isFinite(mtime) ? mtime : 0,
    xattrs: decodeXattrs(header, entry, digest, rules),
  };
}

/**
 * Validates one archive entry and says what to create. Throws a refusal naming the layer
 * and the entry; never consults the filesystem (the caller checks parents with lstat).
 */
export function planEntry(header: TarEntryHeader, digest: string, rules: EntryRules): EntryPlan {
  const shown = header.name;
  const normal = normaliseEntryPath(header.name);
  if ('problem' in normal) throw layerError('RUNTIME_LAYER_UNSAFE_PATH', digest, `entry '${shown}' ${normal.problem}`);
  const path = normal.path;
  const base = path[path.length - 1];

  for (const component of path.slice(0, -1)) {
    if (component.startsWith(WHITEOUT_PREFIX)) {
      throw layerError('RUNTIME_LAYER_BAD_WHITEOUT', digest, `entry '${shown}' lies below whiteout name '${component}'`);
    }
  }

  if (base === undefined && header.type !== 'directory') {
    throw layerError('RUNTIME_LAYER_UNSAFE_PATH', digest, `entry '${shown}' replaces the layer root with a ${header.type ?? 'unknown entry'}`);
  }

  if (base !== undefined && base.startsWith(WHITEOUT_PREFIX)) {
    if (header.type !== 'file') {
      throw layerError('RUNTIME_LAYER_BAD_WHITEOUT', digest, `entry '${shown}' is a whiteout but a ${header.type ?? 'unknown entry'}, not a plain file`);
    }
    const parent = path.slice(0, -1);
    if (base === OPAQUE_MARKER) return { kind: 'opaque', path: parent, entryName: shown };
    if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) {
      throw layerError('RUNTIME_LAYER_BAD_WHITEOUT', digest, `entry '${shown}' is aufs metadata, which OCI layers may not carry`);
    }
    const hidden = base.slice(WHITEOUT_PREFIX.length);
    if (hidden === '' || hidden === '.' || hidden === '..') {
      throw layerError('RUNTIME_LAYER_BAD_WHITEOUT', digest, `entry '${shown}' whites out '${hidden}'`);
    }
    return { kind: 'whiteout', path: [...parent, hidden], entryName: shown };
  }

  switch (header.type) {
    case 'directory':
      return { kind: 'directory', path, meta: metadataOf(header, shown, digest, rules) };
    case 'file':
    case 'contiguous-file':
      if (!Number.isSafeInteger(header.size) || header.size < 0) {
        throw layerError('RUNTIME_LAYER_CORRUPT', digest, `entry '${shown}' has an invalid size`);
      }
      return { kind: 'file', path, size: header.size, meta: metadataOf(header, shown, digest, rules) };
    case 'symlink': {
      const target = header.linkname ?? '';
      if (target === '') throw layerError('RUNTIME_LAYER_UNSAFE_LINK', digest, `symlink '${shown}' has an empty target`);
      if (target.includes('\0')) throw layerError('RUNTIME_LAYER_UNSAFE_LINK', digest, `symlink '${shown}' target contains a NUL byte`);
      if (Buffer.byteLength(target) > PATH_MAX) throw layerError('RUNTIME_LAYER_UNSAFE_LINK', digest, `symlink '${shown}' target is longer than ${PATH_MAX} bytes`);
      // The target is kept as written (absolute targets are normal inside images): the
      // unpacker never follows a symlink, and later path lookups resolve inside the root.
      return { kind: 'symlink', path, target, meta: metadataOf(header, shown, digest, rules) };
    }
    case 'link': {
      const linkname = header.linkname ?? '';
      const target = normaliseEntryPath(linkname);
      if ('problem' in target) throw layerError('RUNTIME_LAYER_UNSAFE_LINK', digest, `hard link '${shown}' -> '${linkname}': target ${target.problem}`);
      if (target.path.length === 0) throw layerError('RUNTIME_LAYER_UNSAFE_LINK', digest, `hard link '${shown}' points at the layer root`);
      if (joinEntryPath(target.path) === joinEntryPath(path)) throw layerError('RUNTIME_LAYER_UNSAFE_LINK', digest, `hard link '${shown}' points at itself`);
      return { kind: 'hardlink', path, target: target.path };
    }
    case 'character-device':
    case 'block-device': {
      const device = header.type === 'character-device' ? 'char' : 'block';
      if (!rules.allowDevices) {
        throw layerError('RUNTIME_LAYER_DEVICE_NOT_ALLOWED', digest, `entry '${shown}' is a ${device} device ${header.devmajor}:${header.devminor} and devices are not allowed`);
      }
      return { kind: 'device', path, device, major: header.devmajor, minor: header.devminor, meta: metadataOf(header, shown, digest, rules) };
    }
    case 'fifo':
      return { kind: 'fifo', path, meta: metadataOf(header, shown, digest, rules) };
    default:
      throw layerError('RUNTIME_LAYER_UNSUPPORTED_ENTRY', digest, `entry '${shown}' has unsupported type ${header.type ?? 'unknown'}`);
  }
}

export interface LayerLimits {
  /** Sum of regular-file sizes. */
  maxUnpackedBytes: number;
  maxEntries: number;
}

/** 16 GiB and a million entries: far beyond real images, far below a full disk of inodes. */
export const DEFAULT_LAYER_LIMITS: Readonly<LayerLimits> = { maxUnpackedBytes: 16 * 1024 ** 3, maxEntries: 1_000_000 };

type SeenKind = 'directory' | 'implicit-directory' | 'file' | 'symlink' | 'hardlink' | 'device' | 'fifo' | 'whiteout' | 'opaque';

/**
 * Per-layer bookkeeping over the plans in archive order: refuses duplicates, whiteouts
 * that conflict with entries of the same layer, hard links to anything but an earlier
 * non-directory entry, and crossing the size and count limits. Holds no file handles.
 */
export class LayerEntryTracker {
  private readonly seen = new Map<string, SeenKind>();
  private entries = 0;
  private bytes = 0;

  constructor(
    private readonly digest: string,
    private readonly limits: LayerLimits,
  ) {}

  get entryCount(): number {
    return this.entries;
  }

  get unpackedBytes(): number {
    return this.bytes;
  }

  /** The kind recorded at `path`, if any entry (or implicit parent) created it. */
  kindAt(path: EntryPath): SeenKind | undefined {
    return this.seen.get(joinEntryPath(path));
  }

  /** Counts an entry before any of its data is read (the declared size is checked up front). */
  countEntry(name: string, declaredSize: number): void {
    this.entries += 1;
    if (this.entries > this.limits.maxEntries) {
      throw layerError('RUNTIME_LAYER_TOO_MANY_ENTRIES', this.digest, `entry '${name}' exceeds the limit of ${this.limits.maxEntries} entries`);
    }
    if (declaredSize > this.limits.maxUnpackedBytes - this.bytes) {
      throw layerError('RUNTIME_LAYER_TOO_LARGE', this.digest, `entry '${name}' (${declaredSize} bytes) exceeds the limit of ${this.limits.maxUnpackedBytes} unpacked bytes`);
    }
    this.bytes += declaredSize;
  }

  /** Checks `plan` against the entries before it and records it. */
  accept(plan: EntryPlan): void {
    const key = joinEntryPath(plan.path);
    const shown = 'entryName' in plan ? plan.entryName : key;
    // Parents must not be anything an earlier entry made into a non-directory.
    for (let i = 1; i < plan.path.length; i += 1) {
      const parentKind = this.seen.get(joinEntryPath(plan.path.slice(0, i)));
      if (parentKind === 'whiteout') {
        throw layerError('RUNTIME_LAYER_BAD_WHITEOUT', this.digest, `entry '${shown}' lies below '${joinEntryPath(plan.path.slice(0, i))}', which this layer whites out`);
      }
      if (parentKind === 'symlink') {
        throw layerError('RUNTIME_LAYER_SYMLINK_TRAVERSAL', this.digest, `entry '${shown}' would be written through symlink '${joinEntryPath(plan.path.slice(0, i))}'`);
      }
      if (parentKind !== undefined && parentKind !== 'directory' && parentKind !== 'implicit-directory') {
        throw layerError('RUNTIME_LAYER_UNSAFE_PATH', this.digest, `entry '${shown}' lies below '${joinEntryPath(plan.path.slice(0, i))}', which is not a directory`);
      }
    }
    if (plan.kind === 'opaque') {
      const dirKind = this.seen.get(key);
      if (dirKind === 'whiteout') {
        throw layerError('RUNTIME_LAYER_BAD_WHITEOUT', this.digest, `opaque marker '${shown}' is inside '${key}', which this layer whites out`);
      }
      if (dirKind === 'symlink') {
        throw layerError('RUNTIME_LAYER_SYMLINK_TRAVERSAL', this.digest, `opaque marker '${shown}' would mark the target of symlink '${key}'`);
      }
      if (dirKind !== undefined && dirKind !== 'directory' && dirKind !== 'implicit-directory') {
        throw layerError('RUNTIME_LAYER_BAD_WHITEOUT', this.digest, `opaque marker '${shown}' is inside '${key}', which is not a directory`);
      }
      const markerKey = `${key}/${OPAQUE_MARKER}`;
      if (this.seen.has(markerKey)) throw layerError('RUNTIME_LAYER_DUPLICATE_ENTRY', this.digest, `entry '${shown}' appears twice`);
      this.seen.set(markerKey, 'opaque');
      if (plan.path.length > 0 && dirKind === undefined) this.recordParents(plan.path.length + 1, plan.path);
      return;
    }
    const existing = this.seen.get(key);
    if (plan.kind === 'whiteout') {
      if (existing !== undefined) {
        throw layerError('RUNTIME_LAYER_BAD_WHITEOUT', this.digest, `whiteout '${shown}' hides '${key}', which this same layer ${existing === 'whiteout' ? 'already whites out' : 'creates'}`);
      }
    } else if (existing === 'whiteout') {
      throw layerError('RUNTIME_LAYER_BAD_WHITEOUT', this.digest, `entry '${shown}' is whited out by this same layer`);
    } else if (existing !== undefined) {
      const bothDirectories = plan.kind === 'directory' && (existing === 'directory' || existing === 'implicit-directory');
      if (!bothDirectories) throw layerError('RUNTIME_LAYER_DUPLICATE_ENTRY', this.digest, `entry '${shown}' appears twice (first as ${existing.replace('implicit-', '')})`);
    }
    if (plan.kind === 'hardlink') {
      const targetKey = joinEntryPath(plan.target);
      const targetKind = this.seen.get(targetKey);
      if (targetKind === undefined || targetKind === 'whiteout' || targetKind === 'opaque') {
        throw layerError('RUNTIME_LAYER_UNSAFE_LINK', this.digest, `hard link '${shown}' -> '${targetKey}': target is not an earlier entry of this layer`);
      }
      if (targetKind === 'directory' || targetKind === 'implicit-directory') {
        throw layerError('RUNTIME_LAYER_UNSAFE_LINK', this.digest, `hard link '${shown}' -> '${targetKey}': target is a directory`);
      }
    }
    this.recordParents(plan.path.length, plan.path);
    this.seen.set(key, plan.kind);
  }

  private recordParents(count: number, path: EntryPath): void {
    for (let i = 1; i < Math.min(count, path.length + 1); i += 1) {
      const parentKey = joinEntryPath(path.slice(0, i));
      if (!this.seen.has(parentKey)) this.seen.set(parentKey, 'implicit-directory');
    }
  }
}
