/**
 * A static HTTP file server on 127.0.0.1 for the update tests: what `berth publish`
 * writes is all an update server needs. GET and HEAD with single Range requests
 * (`bytes=N-` / `bytes=N-M`), every request recorded. Effects: reads files below `root`,
 * listens on loopback only.
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
}

export interface StaticServer {
  port: number;
  requests: RequestRecord[];
  close(): Promise<void>;
}

export async function startStaticServer(root: string): Promise<StaticServer> {
  const requests: RequestRecord[] = [];
  const server: Server = createServer((req, res) => {
    const record: RequestRecord = { method: req.method ?? '', path: req.url ?? '', status: 0, ...(req.headers.range ? { range: req.headers.range } : {}) };
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
      createReadStream(file, { start, end }).pipe(res);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
