/**
 * The host log as the API serves it: the last lines of /var/log/berth/init.log, and lines
 * appended to it later (polled, since inotify is no help on a file written by this very
 * process and rotated by rename). Effects: reads the log file.
 */
import { open, stat } from 'node:fs/promises';
import type { HostLogs } from './core/host-routes.ts';

const CHUNK_BYTES = 64 * 1024;
/** How often a follower looks for new lines. */
export const FOLLOW_POLL_MS = 250;

/** Splits bytes into complete lines; the unterminated rest is returned separately. */
export function splitLines(text: string): { lines: string[]; rest: string } {
  const parts = text.split('\n');
  const rest = parts.pop() ?? '';
  return { lines: parts, rest };
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function readRange(path: string, start: number, end: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(end - start);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** HostLogs over a log file that may not exist yet (then it has no lines). */
export function createFileLogs(path: string, pollMs = FOLLOW_POLL_MS): HostLogs {
  return {
    async tail(count) {
      const size = await sizeOf(path);
      let start = size;
      let text = '';
      // Read backwards until the chunk holds count complete lines (or the file is read whole).
      while (start > 0) {
        const from = Math.max(0, start - CHUNK_BYTES);
        text = (await readRange(path, from, start)).toString('utf8') + text;
        start = from;
        if (text.split('\n').length > count + 1) break;
      }
      const lines = text.split('\n');
      if (lines.at(-1) === '') lines.pop();
      // A line cut by the chunk boundary is dropped unless the file was read from its start.
      if (start > 0) lines.shift();
      return lines.slice(-count);
    },
    async follow(onLine, signal) {
      let offset = await sizeOf(path);
      let rest = '';
      while (!signal.aborted) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pollMs);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          }, { once: true });
        });
        if (signal.aborted) break;
        const size = await sizeOf(path);
        // Rotated (renamed away and started anew): read the new file from its start.
        if (size < offset) {
          offset = 0;
          rest = '';
        }
        if (size === offset) continue;
        const chunk = await readRange(path, offset, size);
        offset += chunk.length;
        const split = splitLines(rest + chunk.toString('utf8'));
        rest = split.rest;
        for (const line of split.lines) onLine(line);
      }
    },
  };
}
