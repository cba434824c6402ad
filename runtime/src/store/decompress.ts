/**
 * Layer decompression: gzip through node:zlib, zstd through node:zlib when the running
 * Node has it (Node >= 22.15, so the guest's Node 24) and otherwise through a streaming
 * `/usr/bin/zstd -d` child (hosts running Node 20: tests and the image builder). The
 * format is sniffed from the magic bytes, not trusted from a media type. May spawn zstd.
 */
import { spawn } from 'node:child_process';
import { Duplex, PassThrough, type Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { BerthError } from '../../../lib/errors.ts';
import type { Compression } from '../core/manifest.ts';

export type { Compression };

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];
export const ZSTD_PATH = '/usr/bin/zstd';
/**
 * The decoder's output chunk (zlib's default is 16 KiB): every chunk is a trip through the
 * stream machinery, the tar parser and the writer, which under emulation costs more than
 * decoding it; larger ones raise the peak memory (store/blobs.ts READ_CHUNK_BYTES).
 */
const DECOMPRESSED_CHUNK_BYTES = 64 * 1024;

/** The compression the first bytes of a blob announce (anything else is taken as plain tar). */
export function sniffCompression(head: Uint8Array): Compression {
  const starts = (magic: number[]): boolean => magic.every((byte, i) => head[i] === byte);
  if (starts(GZIP_MAGIC)) return 'gzip';
  if (starts(ZSTD_MAGIC)) return 'zstd';
  return 'none';
}

type ZstdFactory = () => Duplex;

/** node:zlib's zstd decoder when this Node has one. */
function nativeZstd(): ZstdFactory | undefined {
  const create = (zlib as unknown as { createZstdDecompress?: (options: { chunkSize: number }) => Duplex }).createZstdDecompress;
  return typeof create === 'function' ? () => create({ chunkSize: DECOMPRESSED_CHUNK_BYTES }) : undefined;
}

/** A Duplex over a `zstd -d` child: bytes in on stdin, plain out on stdout; failures become stream errors. */
export function spawnZstdDecoder(zstdPath = ZSTD_PATH): Duplex {
  const child = spawn(zstdPath, ['-d', '-c', '-q'], { env: {}, stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const output = new PassThrough();
  const duplex = Duplex.from({ writable: child.stdin, readable: output });
  child.stdout.pipe(output, { end: false });
  // Destroying the duplex (a refusal mid-stream) must not leave the child running.
  duplex.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  child.stdin.on('error', () => undefined);
  child.on('error', (error) => duplex.destroy(new BerthError('EXEC_NOT_STARTED', `Could not start ${zstdPath}: ${error.message}`, { cause: error })));
  child.on('close', (code, signal) => {
    if (code === 0) {
      output.end();
    } else {
      const why = signal === null ? `exited with ${code}` : `was killed by ${signal}`;
      output.destroy(new Error(`${zstdPath} -d ${why}: ${Buffer.concat(stderr).toString('utf8').trim()}`));
    }
  });
  return duplex;
}

export interface DecompressOptions {
  /** Override the zstd decoder (tests force the fallback with this). */
  zstd?: ZstdFactory;
}

/** True when this Node decodes zstd itself. */
export function hasNativeZstd(): boolean {
  return nativeZstd() !== undefined;
}

/** A stream turning `compression` into plain bytes (a pass-through for 'none'). */
export function createDecompressor(compression: Compression, options: DecompressOptions = {}): Duplex {
  switch (compression) {
    case 'none':
      return new PassThrough();
    case 'gzip':
      return zlib.createGunzip({ chunkSize: DECOMPRESSED_CHUNK_BYTES });
    case 'zstd':
      return (options.zstd ?? nativeZstd() ?? (() => spawnZstdDecoder()))();
  }
}

/**
 * Reads the first `count` bytes of `stream` without consuming them: they are pushed back
 * with unshift, so the stream can then be piped from its start. A stream that ends within
 * `count` bytes is consumed and returns fewer bytes.
 */
export async function peekBytes(stream: Readable, count: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  while (length < count) {
    const chunk = stream.read() as Buffer | string | null;
    if (chunk !== null) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      chunks.push(buffer);
      length += buffer.length;
      continue;
    }
    if (stream.readableEnded || stream.destroyed) break;
    await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        stream.off('readable', done);
        stream.off('end', done);
        stream.off('close', done);
        stream.off('error', fail);
        resolve();
      };
      const fail = (error: Error): void => {
        stream.off('readable', done);
        stream.off('end', done);
        stream.off('close', done);
        reject(error);
      };
      stream.on('readable', done);
      stream.on('end', done);
      stream.on('close', done);
      stream.on('error', fail);
    });
  }
  const head = Buffer.concat(chunks);
  // After 'end' there is nothing left to pipe; the caller refuses such a short stream.
  if (head.length > 0 && !stream.readableEnded) stream.unshift(head);
  return head.subarray(0, count);
}
