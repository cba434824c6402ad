/**
 * A small typed schema toolkit for configuration files (machine config, build profiles, API bodies):
 * schemas check plain values, infer their TypeScript type, and report every problem at once with
 * its key path and source position, plus warnings kept apart. Pure: no effects.
 *
 * ```ts
 * const Port = integer({ min: 1, max: 65535 });
 * const Service = object({ image: string(), restart: oneOf(['no', 'always']).default('no'), ports: array(Port).optional() });
 * type Service = Infer<typeof Service>; // { image: string; restart: 'no' | 'always'; ports?: number[] }
 * ```
 *
 * Conventions: a mapping, record or sequence written as an empty value (`debug:` with nothing
 * after it) counts as empty; `.optional()` and `.default()` only matter as values of `object()`
 * keys; unknown keys are errors unless they match the object's `allowKeys` pattern (then they are
 * accepted and dropped from the result).
 */
import { formatPath, sortProblems, type KeyPath, type Position, type Problem } from './problems.ts';
import { isRecord } from '../record.ts';

// One import site for schema authors: the problem types and ConfigError live in problems.ts.
export { ConfigError, formatPath, formatProblem, sortProblems } from './problems.ts';
export type { KeyPath, PathSegment, Position, Problem } from './problems.ts';

/** Returned by a check when the value is invalid (after reporting why). */
export const INVALID: unique symbol = Symbol('invalid');
/** The type of INVALID. */
export type Invalid = typeof INVALID;

/** Looks up source positions by key path; a parsed YamlDocument is one. */
export interface Locator {
  positionOf(path: KeyPath): Position;
  keyPositionOf(path: KeyPath): Position;
}

/** Options of one reported problem. `path` is relative to the value being checked. */
export interface ReportOptions {
  readonly path?: KeyPath;
  /** A warning: reported separately, does not make the value invalid. */
  readonly warning?: boolean;
  /** Point at the key of the mapping entry instead of its value (for problems about a key). */
  readonly at?: 'key' | 'value';
}

/** Reports a problem about the value being checked (or, with `path`, about a part of it). */
export type Report = (message: string, options?: ReportOptions) => void;

/** Collects problems and warnings while a value is checked. */
export class Context {
  readonly problems: Problem[] = [];
  readonly warnings: Problem[] = [];

  constructor(private readonly locator: Locator | undefined) {}

  /** Records a problem (or warning) at `path`. */
  add(path: KeyPath, message: string, options: Omit<ReportOptions, 'path'> = {}): void {
    const position = this.locator === undefined ? { line: 0, column: 0 } : options.at === 'key' ? this.locator.keyPositionOf(path) : this.locator.positionOf(path);
    const problem: Problem = { path: formatPath(path), segments: [...path], message, line: position.line, column: position.column };
    (options.warning === true ? this.warnings : this.problems).push(problem);
  }

  /** A Report bound to `path`. */
  reporter(path: KeyPath): Report {
    return (message, options = {}) => this.add([...path, ...(options.path ?? [])], message, options);
  }

  /** A context that collects into its own lists (for trying union members). */
  fork(): Context {
    return new Context(this.locator);
  }
}

/** How a key of `object()` treats a missing value. */
export type Presence = 'required' | 'optional' | 'default';

// Method syntax keeps the check bivariant in T, so Schema<string> still fits a Shape of Schema<unknown>.
type Refinement<T> = { check(value: T, report: Report): string | undefined | void }['check'];

/** A schema: checks a plain value and produces a typed one. */
export abstract class Schema<T> {
  /** What the schema wants, for messages: `expected <expected> but got ...`. */
  abstract readonly expected: string;
  /** How an `object()` key with this schema treats a missing value. */
  readonly presence: Presence = 'required';
  /** Extra checks added with refine(), run on a value that passed the base check. */
  protected refinements: ReadonlyArray<Refinement<T>> = [];

  /** Shallow kind check (string, number, mapping, ...) used by union() to pick a member. */
  abstract accepts(value: unknown): boolean;

  /** The base check: returns the typed value, or reports problems and returns INVALID. */
  protected abstract check(value: unknown, ctx: Context, path: KeyPath): T | Invalid;

  /** Checks `value` found at `path`, with refinements. */
  run(value: unknown, ctx: Context, path: KeyPath): T | Invalid {
    const result = this.check(value, ctx, path);
    if (result === INVALID) return INVALID;
    let isValid = true;
    const report = ctx.reporter(path);
    const tracking: Report = (message, options = {}) => {
      if (options.warning !== true) isValid = false;
      report(message, options);
    };
    for (const refinement of this.refinements) {
      const message = refinement(result, tracking);
      if (typeof message === 'string') tracking(message);
    }
    return isValid ? result : INVALID;
  }

  /**
   * Adds a check. Return a message (or call `report`, possibly for a sub-path or as a warning)
   * to flag a problem; return nothing when the value is fine. Keeps optional()/default().
   */
  refine(check: Refinement<T>): this {
    const copy = Object.create(Object.getPrototypeOf(this) as object) as this;
    Object.assign(copy, this);
    copy.refinements = [...this.refinements, check];
    return copy;
  }

  /** Converts a valid value; `convert` may report problems and return INVALID. */
  transform<U>(convert: (value: T, report: Report) => U | Invalid, expected?: string): Schema<U> {
    return new TransformSchema(this, convert, expected ?? this.expected);
  }

  /** As an `object()` key: may be missing (the key is then absent from the result). */
  optional(): OptionalSchema<T> {
    return new OptionalSchema(this);
  }

  /**
   * As an `object()` key: may be missing, and then takes `value` (a fresh copy each time).
   * Without a value, the default is what the schema makes of an empty value: `{}` with every
   * default filled in for object(), `[]` for array(), `{}` for record(). Throws (a bug in the
   * schema, found when the module loads) if the schema refuses an empty value.
   */
  default(...value: [] | [T]): DefaultSchema<T> {
    if (value.length === 1) return new DefaultSchema(this, value[0]);
    const ctx = new Context(undefined);
    const empty = this.run(null, ctx, []);
    if (empty === INVALID) {
      throw new Error(`default() without a value needs a schema that accepts an empty value: ${ctx.problems.map((p) => p.message).join('; ')}`);
    }
    return new DefaultSchema(this, empty);
  }

  /** Also accepts null (an empty value in YAML), kept as null even for object(), array() and record(). */
  nullable(): Schema<T | null> {
    return union(nullValue(), this);
  }

  /** Replaces the `expected ...` wording in messages. */
  describe(expected: string): Schema<T> {
    return new TransformSchema(this, (value) => value, expected);
  }
}

/** The TypeScript type a schema produces. */
export type Infer<S> = S extends Schema<infer T> ? T : never;

/** Keys with their schemas, for `object()`. */
export type Shape = Readonly<Record<string, Schema<unknown>>>;

type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends { readonly presence: 'optional' } ? K : never }[keyof S];
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The result type of `object(shape)`: optional() keys are optional properties. */
export type ObjectOutput<S extends Shape> = Simplify<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

class TransformSchema<T, U> extends Schema<U> {
  constructor(
    private readonly inner: Schema<T>,
    private readonly convert: (value: T, report: Report) => U | Invalid,
    readonly expected: string,
  ) {
    super();
  }

  accepts(value: unknown): boolean {
    return this.inner.accepts(value);
  }

  protected check(value: unknown, ctx: Context, path: KeyPath): U | Invalid {
    if (this.expected !== this.inner.expected && !this.inner.accepts(value)) {
      ctx.add(path, mismatch(this.expected, value));
      return INVALID;
    }
    const inner = this.inner.run(value, ctx, path);
    if (inner === INVALID) return INVALID;
    let isValid = true;
    const report = ctx.reporter(path);
    const result = this.convert(inner, (message, options = {}) => {
      if (options.warning !== true) isValid = false;
      report(message, options);
    });
    return isValid ? result : INVALID;
  }
}

/** Wraps a schema so that an `object()` key may be missing. */
export class OptionalSchema<T> extends Schema<T> {
  override readonly presence = 'optional' as const;
  readonly expected: string;

  constructor(readonly inner: Schema<T>) {
    super();
    this.expected = inner.expected;
  }

  accepts(value: unknown): boolean {
    return this.inner.accepts(value);
  }

  protected check(value: unknown, ctx: Context, path: KeyPath): T | Invalid {
    return this.inner.run(value, ctx, path);
  }
}

/** Wraps a schema so that a missing `object()` key takes a default value. */
export class DefaultSchema<T> extends Schema<T> {
  override readonly presence = 'default' as const;
  readonly expected: string;

  constructor(
    readonly inner: Schema<T>,
    private readonly fallback: T,
  ) {
    super();
    this.expected = inner.expected;
  }

  /** A fresh copy of the default, so callers never share (and mutate) one object. */
  defaultValue(): T {
    return structuredClone(this.fallback);
  }

  accepts(value: unknown): boolean {
    return this.inner.accepts(value);
  }

  protected check(value: unknown, ctx: Context, path: KeyPath): T | Invalid {
    return this.inner.run(value, ctx, path);
  }
}

// ---------------------------------------------------------------------------------------------
// Scalars

/** Options of string(). */
export interface StringOptions {
  /** The whole string must match. */
  readonly pattern?: RegExp;
  /** How to describe what the pattern wants, e.g. `a serial device name like "ttyS1"`. */
  readonly expected?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
}

class StringSchema extends Schema<string> {
  readonly expected: string;

  constructor(private readonly options: StringOptions) {
    super();
    this.expected = options.expected ?? (options.pattern === undefined ? 'a string' : `a string matching ${String(options.pattern)}`);
  }

  accepts(value: unknown): boolean {
    return typeof value === 'string';
  }

  protected check(value: unknown, ctx: Context, path: KeyPath): string | Invalid {
    if (typeof value !== 'string') {
      // YAML reads 1.10, 0755, true and the like as numbers and booleans unless quoted.
      const hint = typeof value === 'number' || typeof value === 'boolean' ? ' (put it in quotes to make it a string)' : '';
      ctx.add(path, mismatch(this.expected, value) + hint);
      return INVALID;
    }
    const { minLength, maxLength, pattern } = this.options;
    if (minLength !== undefined && value.length < minLength) {
      ctx.add(path, minLength === 1 ? `expected ${this.expected} but got an empty string` : `expected at least ${minLength} characters but got ${value.length}`);
      return INVALID;
    }
    if (maxLength !== undefined && value.length > maxLength) {
      ctx.add(path, `expected at most ${maxLength} characters but got ${value.length}`);
      return INVALID;
    }
    if (pattern !== undefined && !matchesWhole(pattern, value)) {
      ctx.add(path, mismatch(this.expected, value));
      return INVALID;
    }
    return value;
  }
}

/** A string, optionally with a pattern (matched against the whole string) and length bounds. */
export function string(options: StringOptions = {}): Schema<string> {
  return new StringSchema(options);
}

type Literal = string | number | boolean | null;

class OneOfSchema<V extends Literal> extends Schema<V> {
  readonly expected: string;

  constructor(private readonly values: readonly V[]) {
    super();
    const shown = values.map(describeLiteral);
    this.expected = values.length === 1 ? shown.join('') : `one of ${shown.join(', ')}`;
  }

  accepts(value: unknown): boolean {
    return this.values.some((candidate) => typeof candidate === typeof value);
  }

  protected check(value: unknown, ctx: Context, path: KeyPath): V | Invalid {
    if (!this.values.includes(value as V)) {
      ctx.add(path, mismatch(this.expected, value));
      return INVALID;
    }
    return value as V;
  }
}

/** One of the given literal values: `oneOf(['no', 'always'])` has type `'no' | 'always'`. */
export function oneOf<const V extends Literal>(values: readonly V[]): Schema<V> {
  return new OneOfSchema(values);
}

/** Exactly this literal value. */
export function literal<const V extends Literal>(value: V): Schema<V> {
  return new OneOfSchema([value]);
}

/** Options of integer() and number(). */
export interface NumberOptions {
  readonly min?: number;
  readonly max?: number;
}

class NumberSchema extends Schema<number> {
  readonly expected: string;

  constructor(
    private readonly isInteger: boolean,
    private readonly options: NumberOptions,
  ) {
    super();
    this.expected = (isInteger ? 'an integer' : 'a number') + rangeText(options.min, options.max, String);
  }

  accepts(value: unknown): boolean {
    return typeof value === 'number';
  }

  protected check(value: unknown, ctx: Context, path: KeyPath): number | Invalid {
    const isKind = typeof value === 'number' && Number.isFinite(value) && (!this.isInteger || Number.isInteger(value));
    const { min, max } = this.options;
    if (!isKind || (min !== undefined && value < min) || (max !== undefined && value > max)) {
      ctx.add(path, mismatch(this.expected, value));
      return INVALID;
    }
    return value;
  }
}

/** A whole number (YAML int, or a float with no fraction), optionally bounded (inclusive). */
export function integer(options: NumberOptions = {}): Schema<number> {
  return new NumberSchema(true, options);
}

/** A finite number, optionally bounded (inclusive). */
export function number(options: NumberOptions = {}): Schema<number> {
  return new NumberSchema(false, options);
}

class BooleanSchema extends Schema<boolean> {
  readonly expected = 'a boolean (true or false)';

  accepts(value: unknown): boolean {
    return typeof value === 'boolean';
  }

  protected check(value: unknown, ctx: Context, path: KeyPath): boolean | Invalid {
    if (typeof value === 'boolean') return value;
    // YAML 1.2 reads yes/no/on/off as strings; say so rather than leave the user puzzled.
    const hint = typeof value === 'string' && /^(yes|no|on|off|y|n)$/i.test(value) ? ' (YAML 1.2 reads yes/no/on/off as strings)' : '';
    ctx.add(path, mismatch(this.expected, value) + hint);
    return INVALID;
  }
}

/** true or false. */
export function boolean(): Schema<boolean> {
  return new BooleanSchema();
}

class NullSchema extends Schema<null> {
  readonly expected = 'an empty value';

  accepts(value: unknown): boolean {
    return value === null;
  }

  protected check(value: unknown, ctx: Context, path: KeyPath): null | Invalid {
    if (value === null) return null;
    ctx.add(path, mismatch(this.expected, value));
    return INVALID;
  }
}

/** Only null (an empty YAML value or `~`). */
export function nullValue(): Schema<null> {
  return new NullSchema();
}

class UnknownSchema extends Schema<unknown> {
  readonly expected = 'any value';

  accepts(): boolean {
    return true;
  }

  protected check(value: unknown): unknown {
    return value;
  }
}

/** Any value, unchecked (e.g. free-form `labels` values handed on verbatim). */
export function unknownValue(): Schema<unknown> {
  return new UnknownSchema();
}

class CustomSchema<T> extends Schema<T> {
  constructor(
    readonly expected: string,
    private readonly parse: (value: unknown, report: Report) => T | Invalid,
    private readonly acceptsKind: (value: unknown) => boolean,
  ) {
    super();
  }

  accepts(value: unknown): boolean {
    return this.acceptsKind(value);
  }

  protected check(value: unknown, ctx: Context, path: KeyPath): T | Invalid {
    let isValid = true;
    const report = ctx.reporter(path);
    const result = this.parse(value, (message, options = {}) => {
      if (options.warning !== true) isValid = false;
      report(message, options);
    });
    if (result === INVALID && isValid) ctx.add(path, mismatch(this.expected, value));
    return isValid ? result : INVALID;
  }
}

/**
 * A schema from a function: `parse` returns the typed value, or INVALID (after reporting, or
 * else the message is `expected <expected> but got ...`). `accepts` is the shallow kind check
 * union() uses (default: any value).
 */
export function custom<T>(expected: string, parse: (value: unknown, report: Report) => T | Invalid, accepts: (value: unknown) => boolean = () => true): Schema<T> {
  return new CustomSchema(expected, parse, accepts);
}

// ---------------------------------------------------------------------------------------------
// Durations and sizes

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/**
 * Parses a duration such as "100ms", "10s", "2m", "1h30m", "1.5s" or "1d" into milliseconds
 * (rounded). Units: ms, s, m, h, d. Returns undefined for anything else, including a bare number
 * other than "0".
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  if (!DURATION.test(trimmed)) return undefined;
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(DURATION_PART)) total += Number(amount) * (DURATION_UNITS[unit ?? ''] ?? 0);
  return Math.round(total);
}

/** Prints milliseconds the way parseDuration reads them: 5400000 -> "1h30m", 1500 -> "1s500ms". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms']) {
    const size = DURATION_UNITS[unit] ?? 1;
    const count = Math.floor(rest / size);
    if (count > 0) out += `${count}${unit}`;
    rest -= count * size;
  }
  return out;
}

/** Options of duration(), in milliseconds. */
export interface DurationOptions {
  readonly min?: number;
  readonly max?: number;
}

/** A duration written as "100ms", "2m", "1h30m" ... (units ms, s, m, h, d); the result is in ms. */
export function duration(options: DurationOptions = {}): Schema<number> {
  const expected = `a duration like "10s", "1m30s" or "100ms"${rangeText(options.min, options.max, formatDuration)}`;
  return custom(
    expected,
    (value, report) => {
      if (typeof value === 'number' && value !== 0) {
        report(`${mismatch(expected, value)} (add a unit, e.g. "${value}s")`);
        return INVALID;
      }
      const ms = typeof value === 'string' ? parseDuration(value) : value === 0 ? 0 : undefined;
      if (ms === undefined || (options.min !== undefined && ms < options.min) || (options.max !== undefined && ms > options.max)) return INVALID;
      return ms;
    },
    (value) => typeof value === 'string' || typeof value === 'number',
  );
}

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
const SIZE = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i;

/**
 * Parses a byte size such as "256M", "5M", "1G", "512k", "1.5G", "256MiB" or "4096" into bytes.
 * Units are binary (K = 1024, as Docker's mem_limit and sfdisk read them), case-insensitive, with
 * an optional "B"/"iB" suffix. Returns undefined for anything else or a fractional byte count.
 */
export function parseByteSize(text: string): number | undefined {
  const match = SIZE.exec(text.trim());
  if (match === null) return undefined;
  const bytes = Number(match[1]) * (SIZE_UNITS[(match[2] ?? '').toLowerCase()] ?? 1);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Prints bytes in the largest unit that divides them: 268435456 -> "256M", 1000 -> "1000". */
export function formatByteSize(bytes: number): string {
  for (const unit of ['P', 'T', 'G', 'M', 'K']) {
    const size = SIZE_UNITS[unit.toLowerCase()] ?? 1;
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

/** Options of byteSize(), in bytes. */
export interface ByteSizeOptions {
  readonly min?: number;
  readonly max?: number;
}

/** A size written as "256M", "1G", "512k" or a plain number of bytes; the result is in bytes. */
export function byteSize(options: ByteSizeOptions = {}): Schema<number> {
  const expected = `a size like "256M" or "1G" (or a number of bytes)${rangeText(options.min, options.max, formatByteSize)}`;
  return custom(
    expected,
    (value) => {
      const bytes = typeof value === 'string' ? parseByteSize(value) : typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
      if (bytes === undefined || (options.min !== undefined && bytes < options.min) || (options.max !== undefined && bytes > options.max)) return INVALID;
      return bytes;
    },
    (value) => typeof value === 'string' || typeof value === 'number',
  );
}

// ---------------------------------------------------------------------------------------------
// Collections

/** Options of array(). */
export interface ArrayOptions {
  readonly minItems?: number;
  readonly maxItems?: number;
}

class ArraySchema<T> extends Schema<T[]> {
  readonly expected = 'a sequence';

  constructor(
    private readonly item: Schema<T>,
    private readonly options: ArrayOptions,
  ) {
    super();
  }

  accepts(value: unknown): boolean {
    return value === null || Array.isArray(value);
  }

  protected check(value: unknown, ctx: Context, path: KeyPath): T[] | Invalid {
    if (value !== null && !Array.isArray(value)) {
      ctx.add(path, mismatch(this.expected, value));
      return INVALID;
    }
    const items: readonly unknown[] = value ?? [];
    const { minItems, maxItems } = this.options;
    let isValid = true;
    if (minItems !== undefined && items.length < minItems) {
      ctx.add(path, `expected at least ${minItems} item${minItems === 1 ? '' : 's'} but got ${items.length}`);
      isValid = false;
    }
    if (maxItems !== undefined && items.length > maxItems) {
      ctx.add(path, `expected at most ${maxItems} item${maxItems === 1 ? '' : 's'} but got ${items.length}`);
      isValid = false;
    }
    const out: T[] = [];
    for (const [index, item] of items.entries()) {
      const result = this.item.run(item, ctx, [...path, index]);
      if (result === INVALID) isValid = false;
      else out.push(result);
    }
    return isValid ? out : INVALID;
  }
}

/** A sequence of items; an empty YAML value counts as an empty sequence. */
export function array<T>(item: Schema<T>, options: ArrayOptions = {}): Schema<T[]> {
  return new ArraySchema(item, options);
}

/** Options of record(). */
export interface RecordOptions {
  /** Checks each key (problems point at the key), e.g. `string({ pattern: /^[a-z][a-z0-9-]*$/ })`. */
  readonly key?: Schema<string>;
}

class RecordSchema<T> extends Schema<Record<string, T>> {
  readonly expected = 'a mapping';

  constructor(
    private readonly value: Schema<T>,
    private readonly options: RecordOptions,
  ) {
    super();
  }

  accepts(value: unknown): boolean {
    return value === null || isRecord(value);
  }

  protected check(value: unknown, ctx: Context, path: KeyPath): Record<string, T> | Invalid {
    if (value !== null && !isRecord(value)) {
      ctx.add(path, mismatch(this.expected, value));
      return INVALID;
    }
    const out: Record<string, T> = {};
    let isValid = true;
    for (const [key, item] of Object.entries(value ?? {})) {
      const entryPath = [...path, key];
      if (this.options.key !== undefined) {
        const keyCtx = ctx.fork();
        if (this.options.key.run(key, keyCtx, entryPath) === INVALID) {
          isValid = false;
          for (const problem of keyCtx.problems) ctx.add(entryPath, `invalid key: ${problem.message}`, { at: 'key' });
        }
        for (const warning of keyCtx.warnings) ctx.add(entryPath, warning.message, { at: 'key', warning: true });
      }
      const result = this.value.run(item, ctx, entryPath);
      if (result === INVALID) isValid = false;
      else defineKey(out, key, result);
    }
    return isValid ? out : INVALID;
  }
}

/** A mapping with arbitrary (optionally checked) keys and values of one schema. */
export function record<T>(value: Schema<T>, options: RecordOptions = {}): Schema<Record<string, T>> {
  return new RecordSchema(value, options);
}

/** Options of object(). */
export interface ObjectOptions {
  /** Unknown keys matching this are accepted and dropped (e.g. /^x-/ for Compose extensions). */
  readonly allowKeys?: RegExp;
  /** Keys that are known but refused, with the reason: `{ build: 'berth does not build images; set "image"' }`. */
  readonly unsupported?: Readonly<Record<string, string>>;
}

/** A mapping with known keys; see object(). */
export class ObjectSchema<S extends Shape> extends Schema<ObjectOutput<S>> {
  readonly expected = 'a mapping';

  constructor(
    readonly shape: S,
    readonly options: ObjectOptions = {},
  ) {
    super();
  }

  /**
   * The same object with more keys (a later key replaces an earlier one of the same name) and
   * the same options. Refinements are not carried over: they were written for the old shape.
   */
  extend<E extends Shape>(shape: E): ObjectSchema<Omit<S, keyof E> & E> {
    return new ObjectSchema<Omit<S, keyof E> & E>({ ...this.shape, ...shape }, this.options);
  }

  accepts(value: unknown): boolean {
    return value === null || isRecord(value);
  }

  protected check(value: unknown, ctx: Context, path: KeyPath): ObjectOutput<S> | Invalid {
    if (value !== null && !isRecord(value)) {
      ctx.add(path, mismatch(this.expected, value));
      return INVALID;
    }
    const input = value ?? {};
    const out: Record<string, unknown> = {};
    let isValid = true;
    for (const [key, schema] of Object.entries(this.shape)) {
      const item = Object.hasOwn(input, key) ? input[key] : undefined;
      if (item === undefined) {
        if (schema instanceof DefaultSchema) defineKey(out, key, schema.defaultValue());
        else if (schema.presence === 'required') {
          ctx.add(path, `missing required key "${key}"`);
          isValid = false;
        }
        continue;
      }
      const result = schema.run(item, ctx, [...path, key]);
      if (result === INVALID) isValid = false;
      else defineKey(out, key, result);
    }
    for (const key of Object.keys(input)) {
      if (Object.hasOwn(this.shape, key)) continue;
      const reason = this.options.unsupported?.[key];
      if (reason !== undefined) {
        ctx.add([...path, key], `not supported: ${reason}`, { at: 'key' });
        isValid = false;
      } else if (this.options.allowKeys === undefined || !this.options.allowKeys.test(key)) {
        ctx.add([...path, key], unknownKeyMessage(key, Object.keys(this.shape)), { at: 'key' });
        isValid = false;
      }
    }
    return isValid ? (out as ObjectOutput<S>) : INVALID;
  }
}

/**
 * A mapping with known keys. Each key is required unless its schema is `.optional()` (absent
 * from the result when missing) or `.default(v)`. Unknown keys are errors naming the key and
 * suggesting the nearest known one, unless they match `options.allowKeys`.
 */
export function object<S extends Shape>(shape: S, options: ObjectOptions = {}): ObjectSchema<S> {
  return new ObjectSchema(shape, options);
}

class UnionSchema<T> extends Schema<T> {
  readonly expected: string;

  constructor(private readonly members: ReadonlyArray<Schema<T>>) {
    super();
    this.expected = joinOr(members.map((member) => member.expected));
  }

  accepts(value: unknown): boolean {
    return this.members.some((member) => member.accepts(value));
  }

  protected check(value: unknown, ctx: Context, path: KeyPath): T | Invalid {
    const candidates = this.members.filter((member) => member.accepts(value));
    if (candidates.length === 0) {
      ctx.add(path, mismatch(this.expected, value));
      return INVALID;
    }
    let first: Context | undefined;
    for (const candidate of candidates) {
      const trial = ctx.fork();
      const result = candidate.run(value, trial, path);
      if (result !== INVALID) {
        ctx.warnings.push(...trial.warnings);
        return result;
      }
      first ??= trial;
    }
    // Every plausible member failed: explain the failure of the first one, the likeliest intent.
    ctx.problems.push(...(first?.problems ?? []));
    ctx.warnings.push(...(first?.warnings ?? []));
    return INVALID;
  }
}

/**
 * The first member that accepts the value's kind and checks cleanly; e.g. Compose's
 * `command: string | string[]`. If several kinds fit and all fail, the first one's problems are
 * reported.
 */
export function union<M extends ReadonlyArray<Schema<unknown>>>(...members: M): Schema<Infer<M[number]>> {
  return new UnionSchema(members as unknown as ReadonlyArray<Schema<Infer<M[number]>>>);
}

// ---------------------------------------------------------------------------------------------
// Running a schema

/** The outcome of validate(): the typed value, or every problem; warnings either way. */
export type ValidationResult<T> =
  | { readonly ok: true; readonly value: T; readonly warnings: Problem[] }
  | { readonly ok: false; readonly problems: Problem[]; readonly warnings: Problem[] };

/**
 * Checks `value` against `schema`, collecting every problem. With a `locator` (a parsed
 * YamlDocument) problems carry source positions; without one their line and column are 0.
 */
export function validate<T>(schema: Schema<T>, value: unknown, locator?: Locator): ValidationResult<T> {
  const ctx = new Context(locator);
  const result = schema.run(value, ctx, []);
  const warnings = sortProblems(ctx.warnings);
  if (result === INVALID || ctx.problems.length > 0) {
    const problems = sortProblems(ctx.problems);
    // A schema returning INVALID without saying why is a bug in the schema; still refuse the value.
    if (problems.length === 0) problems.push({ path: '', segments: [], message: 'invalid value', line: 0, column: 0 });
    return { ok: false, problems, warnings };
  }
  return { ok: true, value: result, warnings };
}

// ---------------------------------------------------------------------------------------------
// Helpers


function defineKey(target: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty, so a "__proto__" key is data and never a prototype change.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function matchesWhole(pattern: RegExp, text: string): boolean {
  const match = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')).exec(text);
  return match !== null && match.index === 0 && match[0].length === text.length;
}

/** `expected <what> but got <value>`. */
export function mismatch(expected: string, value: unknown): string {
  return `expected ${expected} but got ${describeValue(value)}`;
}

/** A short description of a value for messages: `"sometimes"`, `42`, `a mapping`, `an empty value`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (typeof value === 'string') return value.length > 60 ? `${JSON.stringify(value.slice(0, 57))}...` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a sequence';
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

function describeLiteral(value: Literal): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function rangeText(min: number | undefined, max: number | undefined, show: (n: number) => string): string {
  if (min !== undefined && max !== undefined) return ` from ${show(min)} to ${show(max)}`;
  if (min !== undefined) return ` of at least ${show(min)}`;
  if (max !== undefined) return ` of at most ${show(max)}`;
  return '';
}

function joinOr(parts: readonly string[]): string {
  const unique = [...new Set(parts)];
  if (unique.length <= 1) return unique.join('');
  return `${unique.slice(0, -1).join(', ')} or ${unique.at(-1) ?? ''}`;
}

function unknownKeyMessage(key: string, known: readonly string[]): string {
  const near = known
    .map((candidate) => ({ candidate, distance: editDistance(key.toLowerCase(), candidate.toLowerCase()) }))
    .filter(({ distance }) => distance <= Math.max(1, Math.floor(key.length / 3)))
    .sort((a, b) => a.distance - b.distance)[0];
  if (near !== undefined) return `unknown key (did you mean "${near.candidate}"?)`;
  if (known.length === 0) return 'unknown key (no keys are allowed here)';
  if (known.length <= 12) return `unknown key (expected one of ${known.map((k) => `"${k}"`).join(', ')})`;
  return 'unknown key';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
