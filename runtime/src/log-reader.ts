/**
 * The reading side of a container's json-file log, which berth-monitor writes: the last N
 * records (rotated files too), every record written after them (polling the file, following
 * it across rotations), and the last lines of a run for the console when a container crashes.
 * Effects: reads and stats the log files.
 */
import { constants as fsConstants, promises as fsp } from 'node:fs';
import { lastLogLines } from './core/container-log.ts';

/** How often a follower looks for new records. */
const FOLLOW_POLL_MS = 250;
/** The most a follower reads per look (a flood is sent in slices, never held whole). */
const FOLLOW_READ_BYTES = 1024 * 1024;
/** The last records are read backwards in slices of this size: memory follows what is asked for, not the file's size. */
const TAIL_CHUNK_BYTES = 64 * 1024;
/** Log files are opened without following a symlink: nothing planted in their place is read. */
const OPEN_LOG_READ = fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW;

export class ContainerLogReader {
  constructor(
    readonly path: string,
    private readonly maxFiles: number,
    private readonly pollMs = FOLLOW_POLL_MS,
  ) {}

  /**
   * The last `count` records in the files (rotated ones too when the current one has fewer), and,
   * with `onRecord`, every record written after them until `signal` aborts.
   */
  async read(count: number, onRecord?: (record: string) => void, signal?: AbortSignal): Promise<string[]> {
    const { records, position } = await this.readLast(count);
    if (onRecord !== undefined && signal?.aborted !== true) void this.follow(position, onRecord, signal);
    return records;
  }

  /** The text of the last `count` records written at or after `since` (one run), as `stdout: text`. */
  async lastLines(count: number, since: Date): Promise<string[]> {
    const { records } = await this.readLast(count);
    const sinceIso = since.toISOString();
    const ofRun = records.filter((record) => {
      const time = /"time":"([^"]+)"\}\n$/.exec(record)?.[1];
      return time !== undefined && time >= sinceIso;
    });
    return lastLogLines(ofRun.join(''), count);
  }

  private async readLast(count: number): Promise<{ records: string[]; position: FilePosition }> {
    const current = await readTail(this.path, count);
    const position: FilePosition = current === undefined ? { ino: undefined, offset: 0 } : { ino: current.ino, offset: current.size };
    const out: string[] = [];
    for (let index = 0; index < this.maxFiles && out.length < count; index += 1) {
      const read = index === 0 ? current : await readTail(`${this.path}.${index}`, count - out.length);
      // The current file is briefly missing while the monitor rotates: look at the rotated ones.
      if (read === undefined) {
        if (index === 0) continue;
        break;
      }
      out.unshift(...read.records.slice(-(count - out.length)));
    }
    return { records: out, position };
  }

  /** Sends each complete record after `start`, following the file when it is rotated, until `signal` aborts. */
  private async follow(start: FilePosition, onRecord: (record: string) => void, signal?: AbortSignal): Promise<void> {
    let position = start;
    let partial: Buffer = Buffer.alloc(0);
    const emit = (bytes: Buffer): void => {
      const data = partial.length === 0 ? bytes : Buffer.concat([partial, bytes]);
      const end = data.lastIndexOf(0x0a);
      if (end < 0) {
        partial = data;
        return;
      }
      for (const line of data.subarray(0, end).toString('utf8').split('\n')) if (line !== '') onRecord(`${line}\n`);
      partial = Buffer.from(data.subarray(end + 1));
    };
    while (signal?.aborted !== true) {
      // One open file for the inode check and the read: a rotation between a stat and an open
      // would otherwise read the new file at the old file's offset.
      const handle = await fsp.open(this.path, OPEN_LOG_READ).catch(() => undefined);
      let isMore = false;
      if (handle !== undefined) {
        try {
          const current = await handle.stat();
          position.ino ??= current.ino;
          if (current.ino !== position.ino) {
            // Rotated: finish the old file where it went (web.log.1, or further when rotated again
            // since), the files rotated after it whole, then the new one from 0.
            const old = await this.findRotated(position.ino);
            if (old !== undefined) {
              emit(await readRange(`${this.path}.${old}`, position.offset, Number.MAX_SAFE_INTEGER));
              for (let index = old - 1; index >= 1; index -= 1) emit(await readRange(`${this.path}.${index}`, 0, Number.MAX_SAFE_INTEGER));
            }
            partial = Buffer.alloc(0);
            position = { ino: current.ino, offset: 0 };
          }
          if (current.size < position.offset) position.offset = 0;
          if (current.size > position.offset) {
            const bytes = Buffer.alloc(Math.min(FOLLOW_READ_BYTES, current.size - position.offset));
            const { bytesRead } = await handle.read(bytes, 0, bytes.length, position.offset);
            position.offset += bytesRead;
            emit(bytes.subarray(0, bytesRead));
            isMore = bytesRead === FOLLOW_READ_BYTES;
          }
        } finally {
          await handle.close();
        }
      }
      if (isMore) continue;
      await new Promise<void>((resolve) => {
        const onAbort = (): void => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, this.pollMs);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }

  /** The index of the rotated file that is inode `ino` (1 for web.log.1). */
  private async findRotated(ino: number): Promise<number | undefined> {
    for (let index = 1; index < this.maxFiles; index += 1) {
      const info = await fsp.stat(`${this.path}.${index}`).catch(() => undefined);
      if (info?.ino === ino) return index;
    }
    return undefined;
  }
}

interface FilePosition {
  ino: number | undefined;
  offset: number;
}

/**
 * The last `count` complete records of `path` (a torn last line, written half when we read, is
 * not a record yet), with the file's inode and the size they were read up to. Reads backwards
 * in TAIL_CHUNK_BYTES slices until it has them, so a 10 MiB log costs a `--tail 10` a slice.
 */
async function readTail(path: string, count: number): Promise<{ ino: number; size: number; records: string[] } | undefined> {
  const handle = await fsp.open(path, OPEN_LOG_READ).catch(() => undefined);
  if (handle === undefined) return undefined;
  try {
    const info = await handle.stat();
    if (!info.isFile()) return undefined;
    const chunks: Buffer[] = [];
    let start = info.size;
    let newlines = 0;
    // count + 1 newlines: the one before the first record proves it complete.
    while (count > 0 && start > 0 && newlines <= count) {
      const from = Math.max(0, start - TAIL_CHUNK_BYTES);
      const chunk = Buffer.alloc(start - from);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, from);
      const got = chunk.subarray(0, bytesRead);
      for (const byte of got) if (byte === 0x0a) newlines += 1;
      chunks.unshift(got);
      start = from;
    }
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    lines.pop();
    if (start > 0) lines.shift();
    const records = count === 0 ? [] : lines.filter((line) => line.startsWith('{') && line.endsWith('}')).slice(-count).map((line) => `${line}\n`);
    return { ino: info.ino, size: info.size, records };
  } finally {
    await handle.close();
  }
}

/** Up to `maxBytes` of `path` from `offset` (at most what the file holds: a rotated file is bounded by max-size). */
async function readRange(path: string, offset: number, maxBytes: number): Promise<Buffer> {
  const handle = await fsp.open(path, OPEN_LOG_READ).catch(() => undefined);
  if (handle === undefined) return Buffer.alloc(0);
  try {
    const size = (await handle.stat()).size;
    const bytes = Buffer.alloc(Math.max(0, Math.min(maxBytes, size - offset)));
    const { bytesRead } = await handle.read(bytes, 0, bytes.length, offset);
    return bytes.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
