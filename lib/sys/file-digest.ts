/**
 * The sha256 and size of a file, streamed so multi-GiB images never sit in memory.
 * Effects: reads the file.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Size in bytes and lowercase hex sha256 of the file at `path`. */
export async function digestFile(path: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    hash.update(chunk);
  }
  return { size, sha256: hash.digest('hex') };
}
