/**
 * Writes one container's stdout and stderr to /var/log/containers/<name>.log as Docker
 * json-file lines, rotating by size (core/container-log.ts plans it), and keeps the last lines
 * in memory for the console when the container crashes. Memory is bounded: while more than
 * LOG_PENDING_MAX_BYTES wait to be written, the container's pipes are paused (the container
 * blocks in write(2) instead of init buffering for it). One file descriptor stays open, opened
 * with O_NOFOLLOW|O_APPEND, so a symlink or FIFO planted in place of the log is refused.
 * Effects: opens, appends to, renames and removes files.
 */
import { constants, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { BerthError } from '../../lib/errors.ts';
import { DEFAULT_ROTATION, LogLineSplitter, planRotation, type LogStream, type RotationPolicy } from './core/container-log.ts';

/** Lines kept in memory for the console. */
const TAIL_LINES = 10;

/** Bytes of records waiting for the disk before the container's output is paused. */
export const LOG_PENDING_MAX_BYTES = 1024 * 1024;

// O_NONBLOCK: opening a FIFO planted in the log's place fails instead of waiting for a reader
// (it changes nothing for a regular file).
const WRITE_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Opens a log file with `flags`, refusing a symlink (O_NOFOLLOW) and anything but a regular file. */
async function openLogFile(path: string, flags: number): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await fsp.open(path, flags, 0o640);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'ENXIO') throw new BerthError('RUNTIME_LOG_UNSAFE', `Refusing container log ${path}: it is a symlink or a FIFO, not a file; remove it`, { cause: error });
    throw error;
  }
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw new BerthError('RUNTIME_LOG_UNSAFE', `Refusing container log ${path}: it is not a regular file; remove it`);
  }
  return handle;
}

export class ContainerLogWriter {
  private size = 0;
  private handle: FileHandle | undefined;
  private chain: Promise<void> = Promise.resolve();
  /** Bytes appended but not yet written. */
  private pendingBytes = 0;
  private readonly paused = new Set<Readable>();
  private readonly tail: string[] = [];
  private readonly listeners = new Set<(record: string) => void>();

  constructor(
    readonly path: string,
    private readonly now: () => Date,
    private readonly rotation: RotationPolicy = DEFAULT_ROTATION,
    private readonly onError: (error: unknown) => void = () => undefined,
    private readonly maxPendingBytes: number = LOG_PENDING_MAX_BYTES,
  ) {}

  /** Bytes of records waiting to be written (at most about maxPendingBytes plus one chunk). */
  get backlog(): number {
    return this.pendingBytes;
  }

  /** Pipes a stream of the container into the log; resolves when the stream ended and was written. */
  follow(stream: Readable, kind: LogStream): Promise<void> {
    const splitter = new LogLineSplitter(kind);
    return new Promise<void>((resolve) => {
      stream.on('data', (chunk: Buffer) => {
        this.append(splitter.push(chunk, this.now()), kind);
        if (this.pendingBytes > this.maxPendingBytes && !this.paused.has(stream)) {
          // The pipe fills up and the container waits in write(2): backpressure, not memory.
          stream.pause();
          this.paused.add(stream);
        }
      });
      stream.on('error', () => undefined);
      stream.on('close', () => {
        this.paused.delete(stream);
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
    const bytes = Buffer.byteLength(data);
    this.pendingBytes += bytes;
    this.chain = this.chain
      .then(() => this.write(data, bytes))
      .then(() => {
        for (const listener of this.listeners) for (const record of records) listener(record);
      })
      .catch((error: unknown) => this.onError(error))
      .finally(() => {
        this.pendingBytes -= bytes;
        // Resume at half the bound, so a fast producer is not paused and resumed per chunk.
        if (this.pendingBytes <= this.maxPendingBytes / 2) {
          for (const stream of this.paused) stream.resume();
          this.paused.clear();
        }
      });
  }

  /** Writes what is pending and closes the log file (it is opened again by the next write). */
  async close(): Promise<void> {
    const closing = this.chain.then(async () => {
      const handle = this.handle;
      this.handle = undefined;
      await handle?.close();
    });
    this.chain = closing.catch((error: unknown) => this.onError(error));
    await this.chain;
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

  private async open(): Promise<FileHandle> {
    const handle = await openLogFile(this.path, WRITE_FLAGS);
    this.size = (await handle.stat()).size;
    this.handle = handle;
    return handle;
  }

  private async write(data: string, bytes: number): Promise<void> {
    let handle = this.handle ?? (await this.open());
    const step = planRotation(this.path, this.size, bytes, this.rotation);
    if (step !== undefined) {
      this.handle = undefined;
      await handle.close();
      if (step.remove !== undefined) await fsp.rm(step.remove, { force: true });
      for (const [from, to] of step.renames) await fsp.rename(from, to).catch(() => undefined);
      handle = await this.open();
    }
    await handle.appendFile(data);
    this.size += bytes;
  }
}

/** The last `count` json-file lines of `path` and, if it has fewer, of `path.1`, `path.2`... (oldest first). */
export async function readLastRecords(path: string, count: number, maxFiles: number): Promise<string[]> {
  const out: string[] = [];
  for (let index = 0; index < maxFiles && out.length < count; index += 1) {
    const file = index === 0 ? path : `${path}.${index}`;
    // A symlink planted in the log's place is not followed: nothing of its target is returned.
    const text = await openLogFile(file, READ_FLAGS)
      .then(async (handle) => {
        try {
          return await handle.readFile('utf8');
        } finally {
          await handle.close();
        }
      })
      .catch(() => undefined);
    if (text === undefined) break;
    // A torn last line (a crash mid-write) is not a record.
    const lines = text.split('\n').filter((line) => line.startsWith('{') && line.endsWith('}'));
    out.unshift(...lines.slice(-(count - out.length)).map((line) => `${line}\n`));
  }
  return out;
}
