/**
 * Problems found in a configuration text (syntax or schema), how a key path is printed, and the
 * ConfigError that carries every problem at once. Pure: no effects.
 */
import { BerthError, type ErrorCode } from '../errors.ts';

/** One step of a key path: a mapping key or a sequence index. */
export type PathSegment = string | number;

/** A key path from the document root, e.g. `['containers', 'web', 'ports', 0]`. */
export type KeyPath = readonly PathSegment[];

/** A 1-based line and column in a source text. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/**
 * One thing wrong (or, as a warning, questionable) in a configuration. `path` is the printed key
 * path (`containers.web.ports[0]`, empty for the whole document), `segments` the same path as data.
 * `line` and `column` are 1-based; both are 0 when the value did not come from a source text.
 */
export interface Problem {
  readonly path: string;
  readonly segments: KeyPath;
  readonly message: string;
  readonly line: number;
  readonly column: number;
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Prints a key path the way problems show it: `containers.web.ports[0]`. Keys that are not plain
 * words are quoted: `registries["registry.example.com:5000"].insecure`.
 */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/**
 * Prints one problem as `<source>:<line>:<col>: <path>: <message>`; the path part is left out for
 * problems about the whole document, the position when it is unknown (0).
 */
export function formatProblem(source: string, problem: Problem): string {
  const where = problem.line > 0 ? `${source}:${problem.line}:${problem.column}` : source;
  return problem.path === '' ? `${where}: ${problem.message}` : `${where}: ${problem.path}: ${problem.message}`;
}

/** Orders problems by position in the source; problems without a position keep their order, last. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  const rank = (p: Problem): number => (p.line === 0 ? Number.MAX_SAFE_INTEGER : p.line * 1_000_000 + p.column);
  return problems
    .map((problem, index) => ({ problem, index }))
    .sort((a, b) => rank(a.problem) - rank(b.problem) || a.index - b.index)
    .map(({ problem }) => problem);
}

/**
 * A configuration text that cannot be used. `problems` lists every error found (sorted by
 * position); the message has a heading line and then one `formatProblem` line per problem.
 * The code is CONFIG_INVALID unless a caller picks another (the image builder uses PROFILE_INVALID).
 */
export class ConfigError extends BerthError {
  readonly source: string;
  readonly problems: readonly Problem[];
  readonly warnings: readonly Problem[];

  constructor(
    source: string,
    problems: readonly Problem[],
    options: { code?: ErrorCode; warnings?: readonly Problem[]; cause?: unknown } = {},
  ) {
    const sorted = sortProblems(problems);
    const count = sorted.length === 1 ? '1 problem' : `${sorted.length} problems`;
    const lines = sorted.map((problem) => formatProblem(source, problem));
    super(options.code ?? 'CONFIG_INVALID', [`Invalid configuration ${source} (${count}):`, ...lines].join('\n'), {
      cause: options.cause,
    });
    this.name = 'ConfigError';
    this.source = source;
    this.problems = sorted;
    this.warnings = sortProblems(options.warnings ?? []);
  }
}

/** A lib/config problem as one `<section path>.<path>: <message>` line. */
export function problemLine(base: string, problem: Problem): string {
  const path = problem.path === '' ? base : problem.path.startsWith('[') ? `${base}${problem.path}` : `${base}.${problem.path}`;
  return `${path}: ${problem.message}`;
}
