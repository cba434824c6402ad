/**
 * A second reader of a blob while the blob store fetches it: a pull for a container unpacks each
 * layer from the bytes as they arrive, instead of reading the stored blob back once the download
 * is over. The tee only copies bytes; whether they may be used is the reader's business (the
 * unpacker awaits the store's digest check before its layer gets a name). Effects: none beyond
 * the stream it feeds.
 */
import { PassThrough, type Readable } from 'node:stream';
import { drainedOrClosed } from '../../../lib/sys/drained.ts';

export interface BlobTee {
  /** The blob's bytes, once each and in order; ends after the last byte, or fails (close). */
  readonly readable: Readable;
  /**
   * Passes `chunks` (the blob from byte `offset` on, as the store asks for it) through unchanged,
   * copying to `readable` the bytes it has not had yet. A resumed fetch repeats bytes (skipped)
   * or starts past what `readable` had (it fails: those bytes never came through here). Waits
   * while `readable` is full, so the reader sets the pace and nothing piles up in memory.
   */
  relay(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, offset: number): AsyncIterable<Uint8Array>;
  /** The fetch is over: fails `readable` with `reason` unless it had the whole blob. */
  close(reason: string): void;
}

/** A tee for a blob of `size` bytes; `highWaterMark`: what `readable` buffers before the fetch waits. */
export function createBlobTee(size: number, highWaterMark = 256 * 1024): BlobTee {
  const readable = new PassThrough({ highWaterMark });
  // A reader that stopped (a refused layer) destroys the stream: the fetch goes on without it.
  readable.on('error', () => undefined);
  let fed = 0;
  const stopped = (): boolean => readable.destroyed || readable.writableEnded;
  const fail = (reason: string): void => {
    if (!stopped()) readable.destroy(new Error(reason));
  };

  async function feed(chunk: Uint8Array, at: number): Promise<void> {
    if (stopped()) return;
    if (at > fed) return fail(`the fetch resumed at byte ${at}, past the ${fed} bytes this reader had`);
    const skip = fed - at;
    if (skip >= chunk.length) return;
    const part = skip === 0 ? chunk : chunk.subarray(skip);
    if (fed + part.length > size) return fail(`the source sent more than the blob's ${size} bytes`);
    fed += part.length;
    const hasRoom = readable.write(part);
    if (fed === size) readable.end();
    else if (!hasRoom) await drainedOrClosed(readable);
  }

  return {
    readable,
    async *relay(chunks, offset) {
      let at = offset;
      for await (const chunk of chunks) {
        await feed(chunk, at);
        at += chunk.length;
        yield chunk;
      }
    },
    close(reason) {
      if (fed < size) fail(`${reason} after ${fed} of ${size} bytes`);
      else if (!stopped()) readable.end();
    },
  };
}
