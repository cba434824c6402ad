/**
 * Writes one container's stdout and stderr to /var/log/containers/<name>.log as Docker
 * json-file lines, rotating by size (core/container-log.ts plans it), and keeps the last lines
 * in memory for the console when the container crashes. Effects: appends and renames files.
 */
import { promises as fsp } from 'node:fs';
import type { Readable } from 'node:stream';
import { DEFAULT_ROTATION, LogLineSplitter, planRotation, type LogStream, type RotationPolicy } from './core/container-log.ts';

/** Lines kept in memory for the console. */
const TAIL_LINES = 10;

export class ContainerLogWriter {
  private size: number | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly tail: string[] = [];
  private readonly listeners = new Set<(record: string) => void>();

  constructor(
    readonly path: string,
    private readonly now: () => Date,
    private readonly rotation: RotationPolicy = DEFAULT_ROTATION,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {}

  /** Pipes a stream of the container into the log; resolves when the stream ended and was written. */
  follow(stream: Readable, kind: LogStream): Promise<void> {
    const splitter = new LogLineSplitter(kind);
    return new Promise<void>((resolve) => {
      stream.on('data', (chunk: Buffer) => this.append(splitter.push(chunk, this.now()), kind));
      stream.on('error', () => undefined);
      stream.on('close', () => {
        this.append(splitter.flush(this.now()), kind);
        void this.chain.then(resolve);
      });
    });
  }

  /** Forgets the remembered last lines (a new run of the container begins). */
  startRun(): void {
    this.tail.length = 0;
  }

  /** The last lines written since startRun(), oldest first, as `stdout: text`. */
  lastLines(): string[] {
    return [...this.tail];
  }

  /** Resolves once everything appended so far is written. */
  flushed(): Promise<void> {
    return this.chain;
  }

  private append(records: string[], kind: LogStream): void {
    if (records.length === 0) return;
    for (const record of records) {
      try {
        const text = (JSON.parse(record) as { log: string }).log.replace(/\n$/, '');
        this.tail.push(`${kind}: ${text}`);
        if (this.tail.length > TAIL_LINES) this.tail.shift();
      } catch {
        // formatLogRecord always writes JSON; nothing to keep otherwise.
      }
    }
    const data = records.join('');
    this.chain = this.chain
      .then(() => this.write(data))
      .then(() => {
        for (const listener of this.listeners) for (const record of records) listener(record);
      })
      .catch((error: unknown) => this.onError(error));
  }

  /**
   * The last `count` records in the files (rotated ones too when the current one has fewer), and,
   * with `onRecord`, every record written after them until `signal` aborts. The read happens
   * between two writes, so no record is missed or sent twice.
   */
  async read(count: number, onRecord?: (record: string) => void, signal?: AbortSignal): Promise<string[]> {
    let records: string[] = [];
    const reading = this.chain.then(async () => {
      records = count === 0 ? [] : await readLastRecords(this.path, count, this.rotation.maxFiles);
      if (onRecord !== undefined && signal?.aborted !== true) this.listeners.add(onRecord);
    });
    this.chain = reading.catch((error: unknown) => this.onError(error));
    await reading;
    if (onRecord !== undefined) {
      signal?.addEventListener('abort', () => this.listeners.delete(onRecord), { once: true });
      if (signal?.aborted === true) this.listeners.delete(onRecord);
    }
    return records;
  }

  private async write(data: string): Promise<void> {
    this.size ??= await fsp.stat(this.path).then((s) => s.size, () => 0);
    const bytes = Buffer.byteLength(data);
    const step = planRotation(this.path, this.size, bytes, this.rotation);
    if (step !== undefined) {
      if (step.remove !== undefined) await fsp.rm(step.remove, { force: true });
      for (const [from, to] of step.renames) await fsp.rename(from, to).catch(() => undefined);
      this.size = 0;
    }
    await fsp.appendFile(this.path, data, { mode: 0o640 });
    this.size += bytes;
  }
}

/** The last `count` json-file lines of `path` and, if it has fewer, of `path.1`, `path.2`... (oldest first). */
export async function readLastRecords(path: string, count: number, maxFiles: number): Promise<string[]> {
  const out: string[] = [];
  for (let index = 0; index < maxFiles && out.length < count; index += 1) {
    const file = index === 0 ? path : `${path}.${index}`;
    const text = await fsp.readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) break;
    // A torn last line (a crash mid-write) is not a record.
    const lines = text.split('\n').filter((line) => line.startsWith('{') && line.endsWith('}'));
    out.unshift(...lines.slice(-(count - out.length)).map((line) => `${line}\n`));
  }
  return out;
}
