/**
 * Builders for test layers: `packTar` through tar-stream's packer, and raw 512-byte
 * headers for what tar-stream will not emit (unknown type flags, GNU long names, bad
 * checksums, NUL bytes in pax paths, truncation). Test-only.
 */
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { pack, type Header } from 'tar-stream';

export type PackEntry = Partial<Header> & { name: string; body?: string | Buffer; pax?: Record<string, string> };

/** A tar archive from entries, written by tar-stream. */
export async function packTar(entries: readonly PackEntry[]): Promise<Buffer> {
  const packer = pack();
  const chunks: Buffer[] = [];
  const collected = (async () => {
    for await (const chunk of packer as unknown as AsyncIterable<Buffer>) chunks.push(chunk);
  })();
  for (const { body, ...header } of entries) {
    const isData = header.type === undefined || header.type === 'file' || header.type === 'contiguous-file';
    await new Promise<void>((resolve, reject) => {
      const callback = (error?: Error | null): void => (error ? reject(error) : resolve());
      if (isData) packer.entry({ mtime: new Date(1_600_000_000_000), ...header }, body ?? '', callback);
      else packer.entry({ mtime: new Date(1_600_000_000_000), ...header }, callback);
    });
  }
  packer.finalize();
  await collected;
  return Buffer.concat(chunks);
}

export interface RawHeader {
  name: string | Buffer;
  typeflag: string;
  size?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Write a wrong checksum. */
  badChecksum?: boolean;
}

function octal(buffer: Buffer, offset: number, length: number, value: number): void {
  if (value >= 8 ** (length - 1)) {
    // GNU base-256 for numbers the octal field cannot hold (sizes over 8 GiB).
    buffer[offset] = 0x80;
    let rest = BigInt(value);
    for (let i = offset + length - 1; i > offset; i -= 1) {
      buffer[i] = Number(rest & 0xffn);
      rest >>= 8n;
    }
    return;
  }
  buffer.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, length, 'ascii');
}

/** One ustar header block. */
export function rawHeader(header: RawHeader): Buffer {
  const block = Buffer.alloc(512);
  const name = typeof header.name === 'string' ? Buffer.from(header.name) : header.name;
  name.copy(block, 0, 0, Math.min(name.length, 100));
  octal(block, 100, 8, header.mode ?? 0o644);
  octal(block, 108, 8, header.uid ?? 0);
  octal(block, 116, 8, header.gid ?? 0);
  octal(block, 124, 12, header.size ?? 0);
  octal(block, 136, 12, header.mtime ?? 1_600_000_000);
  block.write(header.typeflag, 156, 1, 'latin1');
  if (header.linkname !== undefined) block.write(header.linkname, 157, 100);
  block.write('ustar\0', 257, 'ascii');
  block.write('00', 263, 'ascii');
  octal(block, 329, 8, header.devmajor ?? 0);
  octal(block, 337, 8, header.devminor ?? 0);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  if (header.badChecksum === true) sum += 1;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return block;
}

/** Data padded to whole blocks. */
export function rawBody(data: string | Buffer): Buffer {
  const buffer = typeof data === 'string' ? Buffer.from(data) : data;
  const padding = (512 - (buffer.length % 512)) % 512;
  return Buffer.concat([buffer, Buffer.alloc(padding)]);
}

/** A regular file entry (header and body). */
export function rawFile(name: string | Buffer, data: string | Buffer = '', extra: Partial<RawHeader> = {}): Buffer {
  const buffer = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([rawHeader({ name, typeflag: '0', size: buffer.length, ...extra }), rawBody(buffer)]);
}

/** A pax extended header (typeflag x) applying `records` to the next entry. */
export function rawPax(records: Record<string, string | Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of Object.entries(records)) {
    const payload = Buffer.concat([Buffer.from(` ${key}=`), typeof value === 'string' ? Buffer.from(value) : value, Buffer.from('\n')]);
    let length = payload.length + 1;
    while (String(length).length + payload.length !== length) length = String(length).length + payload.length;
    parts.push(Buffer.concat([Buffer.from(String(length)), payload]));
  }
  const data = Buffer.concat(parts);
  return Buffer.concat([rawHeader({ name: 'PaxHeader', typeflag: 'x', size: data.length }), rawBody(data)]);
}

/** A GNU long-name block (typeflag L) naming the next entry. */
export function rawGnuLongName(name: string): Buffer {
  const data = Buffer.from(`${name}\0`);
  return Buffer.concat([rawHeader({ name: '././@LongLink', typeflag: 'L', size: data.length }), rawBody(data)]);
}

export const END_OF_ARCHIVE = Buffer.alloc(1024);

/** Concatenates raw pieces and the end-of-archive marker. */
export function rawTar(...pieces: Buffer[]): Buffer {
  return Buffer.concat([...pieces, END_OF_ARCHIVE]);
}

export function gzip(data: Buffer): Buffer {
  return execFileSync('/usr/bin/gzip', ['-c', '-n'], { input: data, maxBuffer: 1 << 30 });
}

export function zstd(data: Buffer): Buffer {
  return execFileSync('/usr/bin/zstd', ['-c', '-q', '-19'], { input: data, maxBuffer: 1 << 30 });
}

/** A stream over `data` in modest chunks, as a blob file or socket would deliver it. */
export function streamOf(data: Buffer, chunkSize = 64 * 1024): Readable {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += chunkSize) chunks.push(data.subarray(offset, offset + chunkSize));
  return Readable.from(chunks, { objectMode: false });
}
