/**
 * Semantic versions (semver.org 2.0.0): parsing and precedence. The update config (pins,
 * max_version) and the updater's release choice both compare versions with it. Pure.
 */
import { BerthError } from './errors.ts';

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  prerelease: readonly (string | number)[];
  build: readonly string[];
}

const SEMVER_RE =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** Parses a semantic version (2.0.0); undefined when `text` is not one. */
export function parseSemVer(text: string): SemVer | undefined {
  const match = SEMVER_RE.exec(text);
  if (!match) return undefined;
  const numbers = [match[1], match[2], match[3]].map(Number);
  if (numbers.some((n) => !Number.isSafeInteger(n))) return undefined;
  return {
    major: numbers[0] ?? 0,
    minor: numbers[1] ?? 0,
    patch: numbers[2] ?? 0,
    prerelease: match[4] === undefined ? [] : match[4].split('.').map((id) => (/^\d+$/.test(id) ? Number(id) : id)),
    build: match[5] === undefined ? [] : match[5].split('.'),
  };
}

export function isSemVer(text: unknown): text is string {
  return typeof text === 'string' && parseSemVer(text) !== undefined;
}

function requireSemVer(text: string): SemVer {
  const parsed = parseSemVer(text);
  if (!parsed) throw new BerthError('UPDATER_VERSION_INVALID', `Version '${text}' is not a semantic version (MAJOR.MINOR.PATCH[-pre][+build])`);
  return parsed;
}

/**
 * Semver precedence: negative when a < b, 0 when equal (build metadata is ignored),
 * positive when a > b. Throws UPDATER_VERSION_INVALID for a non-semver string.
 */
export function compareVersions(a: string, b: string): number {
  const x = requireSemVer(a);
  const y = requireSemVer(b);
  const core = x.major - y.major || x.minor - y.minor || x.patch - y.patch;
  if (core !== 0) return Math.sign(core);
  // A pre-release sorts before its release; then identifiers compare field by field.
  if (x.prerelease.length === 0 || y.prerelease.length === 0) {
    return Math.sign(y.prerelease.length - x.prerelease.length);
  }
  for (let i = 0; i < Math.max(x.prerelease.length, y.prerelease.length); i++) {
    const p = x.prerelease[i];
    const q = y.prerelease[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    if (p === q) continue;
    if (typeof p === 'number' && typeof q === 'number') return Math.sign(p - q);
    if (typeof p === 'number') return -1;
    if (typeof q === 'number') return 1;
    return p < q ? -1 : 1;
  }
  return 0;
}
