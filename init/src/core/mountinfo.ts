/**
 * Parser for /proc/self/mountinfo (proc(5)): which filesystems are mounted where.
 * Pure: takes the file's text.
 */

export interface MountInfoEntry {
  id: number;
  parentId: number;
  /** `major:minor` of the filesystem's device. */
  device: string;
  /** The directory of the filesystem that forms the root of this mount. */
  root: string;
  /** The mount point. */
  target: string;
  options: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

/** Undoes the kernel's octal escapes (`\040` for a space, `\011`, `\012`, `\134`). */
function unescapeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Parses mountinfo text; malformed lines are skipped. Order is mount order. */
export function parseMountInfo(text: string): MountInfoEntry[] {
  const entries: MountInfoEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    const separator = fields.indexOf('-', 6);
    if (fields.length < 10 || separator < 0 || fields.length < separator + 4) continue;
    const [id, parentId, device, root, target, options] = fields;
    const [fsType, source, superOptions] = fields.slice(separator + 1);
    if (
      id === undefined ||
      parentId === undefined ||
      device === undefined ||
      root === undefined ||
      target === undefined ||
      options === undefined ||
      fsType === undefined ||
      source === undefined ||
      superOptions === undefined
    ) {
      continue;
    }
    entries.push({
      id: Number(id),
      parentId: Number(parentId),
      device,
      root: unescapeOctal(root),
      target: unescapeOctal(target),
      options: options.split(','),
      fsType,
      source: unescapeOctal(source),
      superOptions: superOptions.split(','),
    });
  }
  return entries;
}

/** True when something is mounted exactly at `target`. */
export function isMountedAt(entries: readonly MountInfoEntry[], target: string): boolean {
  return entries.some((entry) => entry.target === target);
}

/** True when `path` is `dir` or lies below it. */
export function isPathWithin(path: string, dir: string): boolean {
  if (dir === '/') return path.startsWith('/');
  return path === dir || path.startsWith(`${dir}/`);
}
