/**
 * Parses one YAML document (js-yaml, YAML 1.2 core schema) into plain values and remembers where
 * every value and key came from, so problems can name `source:line:column`. Pure: takes text.
 *
 * Beyond js-yaml's own rules: mapping keys must be scalars (used as strings, as written), merge keys
 * (`<<: *base`, as Compose files use them) are applied, recursive aliases are refused, and alias
 * expansion is bounded (a "billion laughs" document is refused, not expanded).
 */
import {
  COLLECTION_STYLE,
  CORE_SCHEMA,
  EVENT_ID,
  SCALAR_STYLE,
  YAMLException,
  constructFromEvents,
  getScalarValue,
  parseEvents,
  realMapTag,
  type Event,
} from 'js-yaml';
import type { ErrorCode } from '../errors.ts';
import { ConfigError, type KeyPath, type PathSegment, type Position } from './problems.ts';

/** A parsed YAML document: its plain value and the source positions of its parts. */
export interface YamlDocument {
  /** Name used in messages (a file path, `fw_cfg:opt/berth/config`, ...). */
  readonly source: string;
  /**
   * The document as plain data: objects, arrays, strings, numbers, booleans and null. An empty
   * document (no content, only comments) is `null`. Values reached through aliases are shared.
   */
  readonly value: unknown;
  /**
   * Where the value at `path` is written. Falls back to the nearest ancestor that exists (so a
   * missing key points at its parent mapping), and to 1:1 for an empty document.
   */
  positionOf(path: KeyPath): Position;
  /** Where the key of the mapping entry at `path` is written (for unknown keys); like positionOf otherwise. */
  keyPositionOf(path: KeyPath): Position;
}

/** Options of parseYaml. */
export interface ParseYamlOptions {
  /** Error code of the ConfigError thrown for syntax errors. Default CONFIG_INVALID. */
  readonly code?: ErrorCode;
  /** Refuse documents whose alias expansion exceeds this many values. Default 100000. */
  readonly maxValues?: number;
}

/** A location tree parallel to the value: positions of the value and of its key, and children. */
interface Located {
  readonly pos: Position;
  readonly keyPos: Position | undefined;
  readonly children: ReadonlyMap<PathSegment, Located> | undefined;
}

/** A built value: the plain data, its locations, and how many values it expands to. */
interface Built {
  readonly value: unknown;
  readonly loc: Located;
  readonly size: number;
}

const START: Position = { line: 1, column: 1 };
const PENDING = Symbol('pending anchor');
const yamlSchema = CORE_SCHEMA.withTags(realMapTag);

/** A failure found while building, turned into a ConfigError by parseYaml. */
class BuildFailure extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(reason);
  }
}

/**
 * Parses `text` as one YAML document. Throws ConfigError (code CONFIG_INVALID unless overridden)
 * naming `source:line:column` for syntax errors, duplicate keys, unknown tags, non-scalar keys,
 * recursive aliases, more than one document, or runaway alias expansion.
 */
export function parseYaml(input: string, source: string, options: ParseYamlOptions = {}): YamlDocument {
  // Drop a byte-order mark so that columns on the first line count from the first real character.
  const text = input.startsWith('\uFEFF') ? input.slice(1) : input;
  const lines = lineStarts(text);
  const fail = (message: string, pos: Position): never => {
    throw new ConfigError(source, [{ path: '', segments: [], message, ...pos }], options.code === undefined ? {} : { code: options.code });
  };
  let events: Event[];
  let constructed: unknown[];
  try {
    events = parseEvents(text, { filename: source });
    constructed = constructFromEvents(events, { source: text, filename: source, schema: yamlSchema });
  } catch (error) {
    if (error instanceof YAMLException) {
      const pos = error.mark === undefined ? START : { line: error.mark.line + 1, column: error.mark.column + 1 };
      return fail(`invalid YAML: ${error.reason}`, pos);
    }
    throw error;
  }
  if (constructed.length > 1) {
    const second = events.findIndex((event, index) => index > 0 && event.type === EVENT_ID.DOCUMENT);
    const next = events[second + 1];
    const pos = next === undefined ? START : positionAt(lines, eventOffset(next));
    return fail(`expected one YAML document but found ${constructed.length} (remove the "---" separators)`, pos);
  }
  if (constructed.length === 0) return makeDocument(source, null, undefined);
  const builder = new Builder(text, lines, events, options.maxValues ?? 100_000);
  try {
    // events[0] is the DOCUMENT event; the content node follows it.
    const built = builder.build(1, constructed[0], START);
    return makeDocument(source, built.value, built.loc);
  } catch (error) {
    if (error instanceof BuildFailure) return fail(error.reason, positionAt(lines, error.offset));
    throw error;
  }
}

function makeDocument(source: string, value: unknown, root: Located | undefined): YamlDocument {
  const find = (path: KeyPath, wantKey: boolean): Position => {
    let node = root;
    let best = root?.pos ?? START;
    for (const [index, segment] of path.entries()) {
      node = node?.children?.get(segment);
      if (node === undefined) break;
      best = wantKey && index === path.length - 1 ? (node.keyPos ?? node.pos) : node.pos;
    }
    return best;
  };
  return {
    source,
    value,
    positionOf: (path) => find(path, false),
    keyPositionOf: (path) => find(path, true),
  };
}

/** Walks the event stream beside js-yaml's constructed value, building plain data and locations. */
class Builder {
  private index = 0;
  private total = 0;
  private readonly anchors = new Map<string, Built | typeof PENDING>();

  constructor(
    private readonly text: string,
    private readonly lines: readonly number[],
    private readonly events: readonly Event[],
    private readonly maxValues: number,
  ) {}

  /** Builds the node starting at event `start`; `fallback` positions an empty scalar. */
  build(start: number, constructed: unknown, fallback: Position): Built {
    this.index = start;
    return this.node(constructed, fallback, undefined);
  }

  private node(constructed: unknown, fallback: Position, keyPos: Position | undefined): Built {
    const event = this.events[this.index++];
    if (event === undefined) throw new BuildFailure('unexpected end of the YAML event stream', this.text.length);
    switch (event.type) {
      case EVENT_ID.SCALAR: {
        const empty = event.valueStart < 0 && event.tagStart < 0 && event.anchorStart < 0;
        // A block scalar's text starts on the line after its key: point at the key instead.
        const isBlock = event.style === SCALAR_STYLE.LITERAL_BLOCK || event.style === SCALAR_STYLE.FOLDED_BLOCK;
        const pos = empty ? fallback : isBlock && keyPos !== undefined ? keyPos : this.pos(eventOffset(event));
        const built: Built = { value: constructed, loc: { pos, keyPos, children: undefined }, size: 1 };
        this.count(built.size, event);
        this.remember(event, built);
        return built;
      }
      case EVENT_ID.SEQUENCE: {
        const anchor = this.anchorName(event);
        if (anchor !== undefined) this.anchors.set(anchor, PENDING);
        const items = Array.isArray(constructed) ? (constructed as unknown[]) : [];
        const pos = this.pos(eventOffset(event));
        const value: unknown[] = [];
        const children = new Map<PathSegment, Located>();
        let size = 1;
        while (this.events[this.index]?.type !== EVENT_ID.POP) {
          const item = this.node(items[value.length], pos, undefined);
          children.set(value.length, item.loc);
          value.push(item.value);
          size += item.size;
        }
        this.index++;
        const built: Built = { value, loc: { pos: this.entryPos(event.style, pos, keyPos), keyPos, children }, size };
        this.count(1, event);
        this.remember(event, built);
        return built;
      }
      case EVENT_ID.MAPPING: {
        const anchor = this.anchorName(event);
        if (anchor !== undefined) this.anchors.set(anchor, PENDING);
        const entries = constructed instanceof Map ? [...(constructed as Map<unknown, unknown>).entries()] : [];
        const pos = this.pos(eventOffset(event));
        const value: Record<string, unknown> = {};
        const children = new Map<PathSegment, Located>();
        const merges: Array<Pick<Built, 'value' | 'loc'>> = [];
        let size = 1;
        let pair = 0;
        while (this.events[this.index]?.type !== EVENT_ID.POP) {
          const [constructedKey, constructedValue] = entries[pair++] ?? [undefined, undefined];
          const keyEvent = this.events[this.index];
          const keyOffset = keyEvent === undefined ? this.text.length : eventOffset(keyEvent);
          const entryKeyPos = this.pos(keyOffset);
          const key = this.key(constructedKey);
          const isMerge = keyEvent?.type === EVENT_ID.SCALAR && keyEvent.style === SCALAR_STYLE.PLAIN && key === '<<';
          const item = this.node(constructedValue, entryKeyPos, entryKeyPos);
          if (isMerge) {
            merges.push(...this.mergeSources(item, keyOffset));
            size += item.size;
            continue;
          }
          if (Object.hasOwn(value, key)) throw new BuildFailure(`duplicated mapping key "${key}"`, keyOffset);
          define(value, key, item.value);
          children.set(key, item.loc);
          size += item.size;
        }
        this.index++;
        // Merge keys: explicit keys win over merged ones, earlier merge sources over later ones.
        for (const source of merges) {
          for (const [key, item] of Object.entries(source.value as Record<string, unknown>)) {
            if (Object.hasOwn(value, key)) continue;
            define(value, key, item);
            const loc = source.loc.children?.get(key);
            if (loc !== undefined) children.set(key, loc);
          }
        }
        const built: Built = { value, loc: { pos: this.entryPos(event.style, pos, keyPos), keyPos, children }, size };
        this.count(1, event);
        this.remember(event, built);
        return built;
      }
      case EVENT_ID.ALIAS: {
        const name = this.text.slice(event.anchorStart, event.anchorEnd);
        const target = this.anchors.get(name);
        if (target === PENDING) throw new BuildFailure(`alias "*${name}" refers to a node that contains it`, event.anchorStart - 1);
        if (target === undefined) throw new BuildFailure(`unknown alias "*${name}"`, event.anchorStart - 1);
        this.count(target.size, event);
        const pos = this.pos(event.anchorStart - 1);
        return { value: target.value, loc: { pos, keyPos, children: target.loc.children }, size: target.size };
      }
      default:
        throw new BuildFailure('unexpected YAML event', this.text.length);
    }
  }

  /** Consumes a mapping key: the string it is written as. Complex keys are refused. */
  private key(constructedKey: unknown): string {
    const keyEvent = this.events[this.index];
    if (keyEvent?.type === EVENT_ID.SCALAR) {
      this.index++;
      return getScalarValue(this.text, keyEvent);
    }
    const isScalar = typeof constructedKey === 'string' || typeof constructedKey === 'number' || typeof constructedKey === 'boolean' || constructedKey === null;
    if (keyEvent?.type === EVENT_ID.ALIAS && isScalar) {
      this.index++;
      return String(constructedKey);
    }
    throw new BuildFailure('mapping keys must be plain strings, not mappings or sequences', keyEvent === undefined ? this.text.length : eventOffset(keyEvent));
  }

  private mergeSources(item: Built, offset: number): Array<Pick<Built, 'value' | 'loc'>> {
    const isMapping = (value: unknown): boolean => typeof value === 'object' && value !== null && !Array.isArray(value);
    if (isMapping(item.value)) return [item];
    const items: unknown = item.value;
    if (Array.isArray(items) && items.every(isMapping)) {
      return (items as unknown[]).map((value, index) => ({ value, loc: item.loc.children?.get(index) ?? item.loc }));
    }
    throw new BuildFailure('merge key "<<" takes a mapping or a sequence of mappings (e.g. "<<: *defaults")', offset);
  }

  /** A block collection starts on the line after its key: point at the key instead. */
  private entryPos(style: number, pos: Position, keyPos: Position | undefined): Position {
    return style === COLLECTION_STYLE.BLOCK && keyPos !== undefined ? keyPos : pos;
  }

  private anchorName(event: { anchorStart: number; anchorEnd: number }): string | undefined {
    return event.anchorStart < 0 ? undefined : this.text.slice(event.anchorStart, event.anchorEnd);
  }

  private remember(event: { anchorStart: number; anchorEnd: number }, built: Built): void {
    const anchor = this.anchorName(event);
    if (anchor !== undefined) this.anchors.set(anchor, built);
  }

  private count(size: number, event: Event): void {
    this.total += size;
    if (this.total > this.maxValues) {
      throw new BuildFailure(`document expands to more than ${this.maxValues} values through aliases`, eventOffset(event));
    }
  }

  private pos(offset: number): Position {
    return positionAt(this.lines, offset);
  }
}

/** Sets a key without ever invoking the `__proto__` setter. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The first source offset of an event's node: its anchor, tag or value, whichever comes first. */
function eventOffset(event: Event): number {
  const candidates: number[] = [];
  switch (event.type) {
    case EVENT_ID.SCALAR: {
      const quoted = event.style === SCALAR_STYLE.SINGLE_QUOTED || event.style === SCALAR_STYLE.DOUBLE_QUOTED;
      // A quoted scalar's value starts after its opening quote.
      if (event.valueStart >= 0) candidates.push(quoted ? event.valueStart - 1 : event.valueStart);
      if (event.tagStart >= 0) candidates.push(event.tagStart);
      if (event.anchorStart >= 0) candidates.push(event.anchorStart - 1);
      break;
    }
    case EVENT_ID.SEQUENCE:
    case EVENT_ID.MAPPING:
      candidates.push(event.start);
      if (event.tagStart >= 0) candidates.push(event.tagStart);
      if (event.anchorStart >= 0) candidates.push(event.anchorStart - 1);
      break;
    case EVENT_ID.ALIAS:
      candidates.push(event.anchorStart - 1);
      break;
    default:
      break;
  }
  return candidates.length === 0 ? 0 : Math.max(0, Math.min(...candidates));
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function positionAt(starts: readonly number[], offset: number): Position {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) low = mid;
    else high = mid - 1;
  }
  return { line: low + 1, column: offset - (starts[low] ?? 0) + 1 };
}
