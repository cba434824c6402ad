/**
 * A static HTTP file server on 127.0.0.1 for the update tests: what `berth publish`
 * writes is all an update server needs. GET and HEAD with single Range requests
 * (`bytes=N-` / `bytes=N-M`), every request recorded with the bytes it handed to the socket
 * over time (the wire rate as seen from outside the guest); `cutOnce` breaks the next GET of a
 * file that reaches a given offset, so a client must resume. Effects: reads files below `root`, listens on
 * loopback only.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize, sep } from 'node:path';

export interface RequestRecord {
  method: string;
  path: string;
  range?: string;
  status: number;
  /** Body bytes the socket took, as [performance.now() ms, bytes so far] after each write completed. */
  timeline: Array<[number, number]>;
  /** True when this request's connection was broken on purpose (cutOnce). */
  cut: boolean;
}

export interface StaticServer {
  port: number;
  requests: RequestRecord[];
  /**
   * The next GET of `path` whose body reaches file offset `offset` (a whole GET, or a Range that
   * spans it) has its connection destroyed once it has sent the bytes before that offset.
   */
  cutOnce(path: string, offset: number): void;
  close(): Promise<void>;
}

/** A request's wire rate after its first `skipMs` (the socket buffers fill then): bytes/s over the rest of its body. */
export interface ServedRate {
  bytesPerSecond: number;
  bytes: number;
  windowMs: number;
}

/**
 * The rate at which a request's body left the server, counted from the first write that
 * completed at least `skipMs` after its first byte to its last write. Undefined when the body
 * took less than `skipMs` plus one second.
 */
export function servedRate(record: Pick<RequestRecord, 'timeline'>, skipMs = 1000): ServedRate | undefined {
  const first = record.timeline[0];
  const last = record.timeline.at(-1);
  if (first === undefined || last === undefined) return undefined;
  const from = record.timeline.find(([at]) => at >= first[0] + skipMs);
  if (from === undefined || last[0] - from[0] < 1000) return undefined;
  const bytes = last[1] - from[1];
  const windowMs = last[0] - from[0];
  return { bytesPerSecond: (bytes * 1000) / windowMs, bytes, windowMs };
}

/**
 * The timelines of several requests (a download in Range pieces) as one: body bytes of all of
 * them handed to the socket, as [performance.now() ms, bytes so far], in time order.
 */
export function servedTimeline(records: readonly Pick<RequestRecord, 'timeline'>[]): Array<[number, number]> {
  const steps: Array<[number, number]> = [];
  for (const record of records) {
    let before = 0;
    for (const [at, bytes] of record.timeline) {
      steps.push([at, bytes - before]);
      before = bytes;
    }
  }
  steps.sort((a, b) => a[0] - b[0]);
  let total = 0;
  return steps.map(([at, bytes]) => [at, (total += bytes)]);
}

export async function startStaticServer(root: string): Promise<StaticServer> {
  const requests: RequestRecord[] = [];
  const cuts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const record: RequestRecord = { method: req.method ?? '', path: req.url ?? '', status: 0, timeline: [], cut: false, ...(req.headers.range ? { range: req.headers.range } : {}) };
    requests.push(record);
    const reply = (status: number, headers: Record<string, string | number> = {}): void => {
      record.status = status;
      res.writeHead(status, headers);
    };
    void (async () => {
      const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const file = normalize(join(root, urlPath));
      if (!file.startsWith(normalize(root) + sep) || (req.method !== 'GET' && req.method !== 'HEAD')) {
        reply(404);
        res.end();
        return;
      }
      let size: number;
      try {
        const info = await stat(file);
        if (!info.isFile()) throw new Error('not a file');
        size = info.size;
      } catch {
        reply(404);
        res.end();
        return;
      }
      let start = 0;
      let end = size - 1;
      let status = 200;
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      if (range) {
        start = Number(range[1]);
        end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
        if (start >= size) {
          reply(416, { 'content-range': `bytes */${size}` });
          res.end();
          return;
        }
        status = 206;
      }
      reply(status, {
        'content-length': end - start + 1,
        'accept-ranges': 'bytes',
        ...(status === 206 ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
      });
      if (req.method === 'HEAD' || size === 0) {
        res.end();
        return;
      }
      const cutAt = req.method === 'GET' ? cuts.get(record.path) : undefined;
      const cutAfter = cutAt !== undefined && cutAt > start && cutAt <= end ? cutAt - start : undefined;
      if (cutAfter !== undefined) cuts.delete(record.path);
      let sent = 0;
      const stream = createReadStream(file, { start, end, highWaterMark: 64 * 1024 });
      stream.on('data', (chunk) => {
        const bytes = chunk.length;
        const isFlowing = res.write(chunk, (error) => {
          if (error) return;
          sent += bytes;
          record.timeline.push([performance.now(), sent]);
          if (cutAfter !== undefined && sent >= cutAfter && !record.cut) {
            record.cut = true;
            stream.destroy();
            res.socket?.destroy();
          }
        });
        if (!isFlowing) {
          stream.pause();
          res.once('drain', () => stream.resume());
        }
      });
      stream.on('end', () => res.end());
      stream.on('error', () => res.destroy());
      res.on('close', () => stream.destroy());
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    cutOnce: (path, offset) => cuts.set(path, offset),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
