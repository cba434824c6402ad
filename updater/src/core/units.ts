/**
 * Unknown-key problems for the JSON documents the updater reads (manifests, channel files,
 * journal). Config sections are checked with lib/config (problem lines: lib/config/problems.ts,
 * percentages: lib/config/sections/update-throttle.ts). Pure.
 */

/** Problems for keys of `value` not in `allowed`, each with its path: a typo is never ignored. */
export function unknownKeyProblems(value: Record<string, unknown>, allowed: readonly string[], path: string): string[] {
  return Object.keys(value)
    .filter((key) => !allowed.includes(key))
    .map((key) => `${path === '' ? key : `${path}.${key}`}: unknown key (expected one of ${allowed.join(', ')})`);
}
