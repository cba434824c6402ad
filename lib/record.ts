/**
 * The one type guard for parsed JSON objects and YAML mappings. Pure.
 */

/** True for an object that is neither null nor an array: what JSON.parse gives for `{...}`. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
