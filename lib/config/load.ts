/**
 * Parses a YAML text and checks it against a schema in one call: the typed value and warnings,
 * or a ConfigError listing every problem as `<source>:<line>:<col>: <path>: <message>`. Pure.
 */
import type { ErrorCode } from '../errors.ts';
import { ConfigError, type Problem } from './problems.ts';
import { validate, type Schema } from './validate.ts';
import { parseYaml } from './yaml.ts';

/** Options of loadYaml(). */
export interface LoadYamlOptions {
  /** Error code of the ConfigError. Default CONFIG_INVALID (build profiles use PROFILE_INVALID). */
  readonly code?: ErrorCode;
}

/** A checked configuration value with the warnings found beside it. */
export interface Loaded<T> {
  readonly value: T;
  readonly warnings: Problem[];
}

/**
 * Parses `text` (named `source` in messages) and validates it with `schema`. An empty document
 * is `null`, which object() schemas read as an empty mapping (all defaults). Throws ConfigError.
 */
export function loadYaml<T>(text: string, source: string, schema: Schema<T>, options: LoadYamlOptions = {}): Loaded<T> {
  const errorOptions = options.code === undefined ? {} : { code: options.code };
  const document = parseYaml(text, source, errorOptions);
  const result = validate(schema, document.value, document);
  if (!result.ok) throw new ConfigError(source, result.problems, { ...errorOptions, warnings: result.warnings });
  return { value: result.value, warnings: result.warnings };
}
