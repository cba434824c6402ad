/**
 * Structured logging in logfmt, one line per event:
 *   level=info component=init msg="Mounted data partition" device=/dev/vda5
 * The console, the tests and the management API all read this format. Pure except for
 * the sinks passed in.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | undefined | null>;

/** Where formatted lines go: the console, a file, a test buffer. */
export type LogSink = (line: string) => void;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines carry extra fields (e.g. container=web). */
  child(fields: LogFields): Logger;
}

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function quoteValue(value: string): string {
  if (value !== '' && /^[^\s"=\\]+$/.test(value)) return value;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** Formats one event as a logfmt line (no trailing newline). */
export function formatLogLine(
  level: LogLevel,
  component: string,
  msg: string,
  fields: LogFields = {},
  time?: Date,
): string {
  const parts: string[] = [];
  if (time) parts.push(`time=${time.toISOString()}`);
  parts.push(`level=${level}`, `component=${quoteValue(component)}`, `msg=${quoteValue(msg)}`);
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue;
    parts.push(`${key}=${quoteValue(String(value))}`);
  }
  return parts.join(' ');
}

/** Parses a logfmt line back into fields (used by tests and `berth analyze`). */
export function parseLogLine(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Za-z0-9_.-]+)=("((?:[^"\\]|\\.)*)"|[^\s]*)/g;
  for (const match of line.matchAll(re)) {
    const key = match[1] as string;
    const quoted = match[3];
    out[key] =
      quoted !== undefined
        ? quoted.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1')
        : (match[2] ?? '');
  }
  return out;
}

export interface LoggerOptions {
  component: string;
  sinks: LogSink[];
  minLevel?: LogLevel;
  /** Clock for timestamps; omit to leave lines untimed (the console adds kernel time). */
  now?: () => Date;
  fields?: LogFields;
}

export function createLogger(options: LoggerOptions): Logger {
  const minLevel = LEVEL_ORDER[options.minLevel ?? 'info'];
  const base = options.fields ?? {};
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (LEVEL_ORDER[level] < minLevel) return;
    const line = formatLogLine(level, options.component, msg, { ...base, ...fields }, options.now?.());
    for (const sink of options.sinks) sink(line);
  };
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  };
}

/** A logger that keeps lines in memory, for tests. */
export function createMemoryLogger(component = 'test'): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ component, sinks: [(line) => lines.push(line)], minLevel: 'debug' });
  return Object.assign(logger, { lines });
}
