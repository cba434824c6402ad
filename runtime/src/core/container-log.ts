/**
 * Container output in Docker's json-file format: one JSON object per line with `log`,
 * `stream` and `time`, lines longer than 16 KiB split like Docker splits them (the parts
 * without a trailing newline), size-based rotation with numbered files, and reading the last
 * lines back for the console when a container crashes. Pure: bytes and clocks come in.
 */

export type LogStream = 'stdout' | 'stderr';

/** Docker's limit per log message; longer lines become several records. */
export const MAX_LOG_LINE_BYTES = 16 * 1024;

/** One json-file line (with its newline). */
export function formatLogRecord(stream: LogStream, text: string, time: Date): string {
  return `${JSON.stringify({ log: text, stream, time: time.toISOString() })}\n`;
}

/** The last index <= `end` that does not split a UTF-8 character. */
function utf8Boundary(buffer: Buffer, end: number): number {
  let cut = end;
  // Step back over continuation bytes (10xxxxxx) to the start of the character.
  while (cut > 0 && cut < buffer.length && ((buffer[cut] ?? 0) & 0xc0) === 0x80) cut -= 1;
  return cut === 0 ? end : cut;
}

/**
 * Turns a stream's chunks into json-file records: complete lines as they arrive, over-long
 * lines in 16 KiB parts, and whatever is left when the stream ends.
 */
export class LogLineSplitter {
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly stream: LogStream,
    private readonly maxLineBytes = MAX_LOG_LINE_BYTES,
  ) {}

  push(chunk: Uint8Array, time: Date): string[] {
    this.pending = this.pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.pending, chunk]);
    const records: string[] = [];
    for (;;) {
      const newline = this.pending.indexOf(0x0a);
      if (newline >= 0 && newline < this.maxLineBytes) {
        records.push(formatLogRecord(this.stream, this.pending.subarray(0, newline + 1).toString('utf8'), time));
        this.pending = this.pending.subarray(newline + 1);
        continue;
      }
      // Only past the limit: the byte after it tells whether the cut splits a character, so the
      // records do not depend on how the bytes were chunked (berth-monitor cuts the same way).
      if (this.pending.length > this.maxLineBytes) {
        const cut = utf8Boundary(this.pending, this.maxLineBytes);
        records.push(formatLogRecord(this.stream, this.pending.subarray(0, cut).toString('utf8'), time));
        this.pending = this.pending.subarray(cut);
        continue;
      }
      return records;
    }
  }

  /** The unterminated rest, when the stream closes. */
  flush(time: Date): string[] {
    if (this.pending.length === 0) return [];
    const record = formatLogRecord(this.stream, this.pending.toString('utf8'), time);
    this.pending = Buffer.alloc(0);
    return [record];
  }
}

export interface RotationPolicy {
  /** Rotate before the current file would grow past this. */
  maxBytes: number;
  /** Files kept in total, the current one included (Docker's max-file). */
  maxFiles: number;
}

/** berth's default: 10 MiB x 3 files per container. */
export const DEFAULT_ROTATION: Readonly<RotationPolicy> = { maxBytes: 10 * 1024 * 1024, maxFiles: 3 };

export interface RotationStep {
  /** Remove this file first (the oldest), if present. */
  remove?: string;
  /** Then these renames, in order. */
  renames: Array<[from: string, to: string]>;
}

/**
 * Whether writing `incomingBytes` to a file of `currentBytes` needs a rotation, and the
 * renames that do it: `web.log.2` is dropped, `.1` becomes `.2`, the current file `.1`.
 */
export function planRotation(path: string, currentBytes: number, incomingBytes: number, policy: RotationPolicy = DEFAULT_ROTATION): RotationStep | undefined {
  if (currentBytes === 0 || currentBytes + incomingBytes <= policy.maxBytes) return undefined;
  if (policy.maxFiles <= 1) return { remove: path, renames: [] };
  const renames: Array<[string, string]> = [];
  for (let i = policy.maxFiles - 2; i >= 1; i -= 1) renames.push([`${path}.${i}`, `${path}.${i + 1}`]);
  renames.push([path, `${path}.1`]);
  return { remove: `${path}.${policy.maxFiles - 1}`, renames };
}

/** The text of the last `count` records of json-file content (for the console after a crash). */
export function lastLogLines(content: string, count: number): string[] {
  const lines: string[] = [];
  const records = content.split('\n').filter((line) => line !== '');
  for (const line of records.slice(-count)) {
    try {
      const record = JSON.parse(line) as { log?: unknown; stream?: unknown };
      if (typeof record.log === 'string') lines.push(`${record.stream === 'stderr' ? 'stderr' : 'stdout'}: ${record.log.replace(/\n$/, '')}`);
    } catch {
      // A torn last line (crash mid-write) is skipped, not fatal.
    }
  }
  return lines;
}
