/**
 * The management API's HTTP shell: turns node:http requests into router calls and router
 * answers into responses, on a Unix socket (root only) and on TCP listeners with mutual TLS.
 * Effects: sockets (node:http, node:https), the socket file's mode.
 */
import { chmod, mkdir, unlink } from 'node:fs/promises';
import type http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { describeError } from '../../../lib/errors.ts';
import type { Logger } from '../../../lib/log.ts';
import { drainedOrClosed } from '../../../lib/sys/drained.ts';
import { httpModule, httpsModule } from '../../../lib/sys/lazy-builtins.ts';
import { ApiError, MAX_BODY_BYTES, errorBody, parseBody, parseQuery, type ApiResponse, type HttpMethod, type Router } from './core/router.ts';

/** A listening server; close() stops accepting and ends open follow streams. */
export interface Listener {
  address: string;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Reads the body up to the cap; more than that is ApiError 413 (the rest is not read). */
async function readBody(req: IncomingMessage): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function tooLarge(): ApiError {
  return new ApiError(413, 'API_BODY_TOO_LARGE', `The request body is larger than ${MAX_BODY_BYTES / 1024 / 1024} MiB`);
}

/** The node:http request handler for a router. Never throws; every failure is a JSON error body. */
export function createRequestHandler(router: Router, logger: Logger, transport: 'unix' | 'tls'): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://api');
    const aborter = new AbortController();
    res.on('close', () => aborter.abort());
    const finish = (status: number): void => {
      logger.info('API request', { method, path: url.pathname, status, transport, ms: Math.round(performance.now() - started) });
    };
    const fail = (error: unknown): void => {
      const { status, body, headers } = errorBody(error);
      if (status >= 500) logger.error('API request failed', { method, path: url.pathname, error: describeError(error) });
      if (res.headersSent) res.destroy();
      else {
        // A refused body is not read; close the connection rather than drain it.
        if (status === 413) res.setHeader('connection', 'close');
        sendJson(res, status, body, headers);
      }
      finish(status);
    };
    const run = async (): Promise<void> => {
      if (transport === 'tls' && !(req.socket as TLSSocket).authorized) {
        // rejectUnauthorized already ends such handshakes; this is the second lock.
        throw new ApiError(401, 'API_UNAUTHENTICATED', 'A client certificate issued by the host\'s api.client_ca is required');
      }
      const { route, params } = router.resolve(method, url.pathname);
      const query = parseQuery(route, url.searchParams);
      const body = parseBody(route, req.headers['content-type'], await readBody(req));
      const response: ApiResponse = await route.handler({ method: method as HttpMethod, path: url.pathname, params, query, body, signal: aborter.signal });
      if ('json' in response) {
        if (response.after) res.once('finish', response.after);
        sendJson(res, response.status, response.json);
        finish(response.status);
      } else if ('text' in response) {
        res.writeHead(response.status, { 'content-type': response.contentType, 'content-length': Buffer.byteLength(response.text) });
        res.end(response.text);
        finish(response.status);
      } else {
        res.writeHead(response.status, { 'content-type': response.contentType, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
        res.flushHeaders();
        finish(response.status);
        const waitForDrain = (): Promise<void> | undefined => (res.writableNeedDrain && !res.destroyed ? drainedOrClosed(res) : undefined);
        await response.stream((chunk) => void res.write(chunk), aborter.signal, waitForDrain);
        res.end();
      }
    };
    run().catch(fail);
  };
}

function closeServer(server: http.Server, sockets: Set<import('node:net').Socket>): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
  });
}

function track(server: http.Server): Set<import('node:net').Socket> {
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (socket: import('node:net').Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return sockets;
}

/** Serves on a Unix socket, mode 0600 (root only); a stale socket file is replaced. */
export async function listenUnix(path: string, handler: http.RequestListener): Promise<Listener> {
  await mkdir(path.slice(0, path.lastIndexOf('/')), { recursive: true, mode: 0o755 });
  await unlink(path).catch(() => undefined);
  const server = httpModule().createServer(handler);
  const sockets = track(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(path, 0o600);
  return { address: `unix://${path}`, close: () => closeServer(server, sockets) };
}

/** PEM material of a TLS listener. */
export interface TlsMaterial {
  certPem: string;
  keyPem: string;
  /** The CA whose client certificates are let in. */
  clientCaPem: string;
}

/** Serves HTTPS on host:port, admitting only clients with a certificate from `clientCaPem`. */
export async function listenTls(host: string, port: number, tls: TlsMaterial, handler: http.RequestListener, logger: Logger): Promise<Listener> {
  const server = httpsModule().createServer(
    { cert: tls.certPem, key: tls.keyPem, ca: tls.clientCaPem, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
    handler,
  );
  server.on('tlsClientError', (error, socket) => {
    logger.warn('API client refused', { peer: socket.remoteAddress, error: error.message });
  });
  const sockets = track(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as import('node:net').AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]:${bound}` : `${host}:${bound}`;
  return { address: `https://${shown}`, close: () => closeServer(server, sockets) };
}
