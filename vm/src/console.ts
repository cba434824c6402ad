/**
 * Reads a guest's serial console log while QEMU appends to it, and waits for lines on it.
 * Effects: reads one file (polling; inotify is unreliable on some filesystems).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError } from '../../lib/errors.ts';
import { tailLines } from './markers.ts';

export interface WaitOptions {
  /** Fail at once when one of these appears (e.g. BERTH-FAILED, a kernel panic). */
  failOn?: readonly RegExp[];
  /** Where in the text to start scanning (default: the start of this reader's text). */
  from?: number;
}

export interface ConsoleMatch {
  match: RegExpExecArray;
  /** Offset in the reader's text just after the match, for a following wait. */
  end: number;
}

const POLL_MS = 100;
const CHUNK_BYTES = 64 * 1024;

/**
 * A reader over a growing log file. Only bytes appended after `startOffset` are its
 * text, so several boots can append to one log and each boot reads its own part.
 */
export class ConsoleReader {
  readonly path: string;
  readonly startOffset: number;
  #offset: number;
  #text = '';
  #decoder = new StringDecoder('utf8');
  #handle: FileHandle | undefined;
  #closed = false;
  #reading: Promise<void> = Promise.resolve();
  /** Set by the owner when the writer has gone away (QEMU exited). */
  #isWriterDone: () => boolean;
  #writerDoneReason: () => string;

  constructor(path: string, options: { startOffset?: number; isWriterDone?: () => boolean; writerDoneReason?: () => string } = {}) {
    this.path = path;
    this.startOffset = options.startOffset ?? 0;
    this.#offset = this.startOffset;
    this.#isWriterDone = options.isWriterDone ?? (() => false);
    this.#writerDoneReason = options.writerDoneReason ?? (() => 'the writer stopped');
  }

  /** Everything read so far. */
  text(): string {
    return this.#text;
  }

  /** The last lines read so far, for messages. */
  tail(lines = 40): string {
    return tailLines(this.#text, lines);
  }

  /** Reads whatever has been appended since the last call. */
  poll(): Promise<void> {
    // One read at a time, and close() waits for it: reads never race the handle's close.
    const next = this.#reading.then(() => this.#readAppended());
    this.#reading = next.catch(() => undefined);
    return next;
  }

  async #readAppended(): Promise<void> {
    if (this.#closed) return;
    if (!this.#handle) {
      try {
        this.#handle = await open(this.path, 'r');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
    }
    const buffer = Buffer.alloc(CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await this.#handle.read(buffer, 0, CHUNK_BYTES, this.#offset);
      if (bytesRead === 0) return;
      this.#offset += bytesRead;
      this.#text += this.#decoder.write(buffer.subarray(0, bytesRead));
    }
  }

  /**
   * Resolves with the first match of `pattern` at or after `options.from`, scanning the
   * log as it grows. Rejects with QEMU_TIMEOUT after `timeoutMs`, with QEMU_CONSOLE_FAILURE
   * when a `failOn` pattern shows up first, and with QEMU_EXITED when the writer is done
   * and the pattern never came.
   */
  async waitFor(pattern: RegExp, timeoutMs: number, options: WaitOptions = {}): Promise<ConsoleMatch> {
    const deadline = performance.now() + timeoutMs;
    const from = options.from ?? 0;
    const scan = new RegExp(pattern.source, pattern.flags.replace('g', '') + 'g');
    const failScans = (options.failOn ?? []).map((re) => new RegExp(re.source, re.flags.replace('g', '') + 'g'));
    for (;;) {
      // Read after checking the writer so a final burst before exit is never missed.
      const writerDone = this.#isWriterDone();
      await this.poll();
      const found = execFrom(scan, this.#text, from);
      const failure = failScans
        .map((re) => execFrom(re, this.#text, from))
        .filter((m): m is RegExpExecArray => m !== undefined)
        .sort((x, y) => x.index - y.index)[0];
      if (found && (!failure || found.index < failure.index)) {
        return { match: found, end: found.index + found[0].length };
      }
      if (failure) {
        throw new BerthError(
          'QEMU_CONSOLE_FAILURE',
          `Console ${this.path} shows "${failure[0]}" while waiting for ${String(pattern)}:\n${this.tail()}`,
        );
      }
      if (writerDone) {
        throw new BerthError(
          'QEMU_EXITED',
          `Console ${this.path} never showed ${String(pattern)}: ${this.#writerDoneReason()}:\n${this.tail()}`,
        );
      }
      if (performance.now() >= deadline) {
        throw new BerthError(
          'QEMU_TIMEOUT',
          `Console ${this.path} did not show ${String(pattern)} within ${timeoutMs} ms:\n${this.tail()}`,
        );
      }
      await sleep(POLL_MS);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#reading;
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }
}

function execFrom(re: RegExp, text: string, from: number): RegExpExecArray | undefined {
  re.lastIndex = from;
  return re.exec(text) ?? undefined;
}
