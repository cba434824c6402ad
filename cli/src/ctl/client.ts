/**
 * The HTTP client of `berth ctl`: requests to a host's management API over its Unix socket or
 * over mutual TLS. The TLS connection is made and the server checked (against a CA, or a pinned
 * SHA-256 fingerprint) before a single byte of the request is sent.
 * Effects: reads the certificate files, opens sockets.
 */
import { readFile } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { BerthError } from '../../../lib/errors.ts';
import type { CtlTarget } from './args.ts';

/** How long connecting (and the TLS handshake) may take. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** A complete answer. */
export interface ApiAnswer {
  status: number;
  contentType: string;
  body: string;
}

export interface RequestOptions {
  body?: string;
  contentType?: string;
  /** Called with each chunk as it arrives (a followed log); `body` is then empty. */
  onChunk?: (text: string) => void;
  /** How long the host may take to begin answering (default CONNECT_TIMEOUT_MS): longer for exec and stop, which answer when done. */
  answerTimeoutMs?: number;
}

export interface ApiClient {
  /** Where requests go, for messages: unix:///run/berth/api.sock or https://addr:port. */
  readonly address: string;
  request(method: string, path: string, options?: RequestOptions): Promise<ApiAnswer>;
}

/** The host could not be reached (exit code 3): no socket, refused, TLS refused, timed out. */
export class ConnectError extends BerthError {
  constructor(message: string, cause?: unknown) {
    super('CTL_CANNOT_CONNECT', message, { cause });
    this.name = 'ConnectError';
  }
}

function connectHint(target: CtlTarget, error: NodeJS.ErrnoException): string {
  const where = target.kind === 'unix' ? `unix://${target.socketPath}` : `https://${target.host}:${target.port}`;
  const code = error.code ?? '';
  if (target.kind === 'unix') {
    if (code === 'ENOENT') return `Cannot connect to ${where}: no such socket (run this on a berth host, or pass --host https://ADDRESS:7443 with --cert, --key and --ca)`;
    if (code === 'EACCES') return `Cannot connect to ${where}: permission denied (the socket is root only: run as root)`;
  }
  if (code === 'ECONNREFUSED') return `Cannot connect to ${where}: connection refused (is api.listen set in the host's machine config?)`;
  if (code === 'ETIMEDOUT' || code === 'CTL_TIMEOUT') return `Cannot connect to ${where}: timed out after ${CONNECT_TIMEOUT_MS / 1000} s (check the address and any firewall)`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ENOTFOUND') return `Cannot connect to ${where}: ${error.message} (check the address)`;
  if (/certificate|alert|handshake|SSL|TLS/i.test(error.message) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code === 'ECONNRESET') {
    return `TLS with ${where} failed: ${error.message} (check that --cert/--key come from the CA in the host's api.client_ca, and --ca or --server-sha256 match the host's certificate)`;
  }
  return `Cannot connect to ${where}: ${error.message}`;
}

async function readPem(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new BerthError('CTL_FILE', `Cannot read ${what} ${path}: ${(error as Error).message}`);
  }
}

/** Opens a TLS connection and checks the server before returning it. */
async function connectTls(target: Extract<CtlTarget, { kind: 'https' }>): Promise<TLSSocket> {
  const [cert, key, ca] = await Promise.all([
    readPem(target.certFile, 'the client certificate'),
    readPem(target.keyFile, 'the client key'),
    target.caFile === undefined ? Promise.resolve(undefined) : readPem(target.caFile, 'the CA certificate'),
  ]);
  return new Promise((resolve, reject) => {
    const pinned = target.serverSha256;
    const socket = tls.connect({
      host: target.host,
      port: target.port,
      cert,
      key,
      ...(ca === undefined ? {} : { ca }),
      // With a pinned fingerprint the chain is not checked here but by the comparison below.
      rejectUnauthorized: pinned === undefined,
      ...(isIP(target.host) === 0 ? { servername: target.host } : {}),
      minVersion: 'TLSv1.2',
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error('timed out'), { code: 'CTL_TIMEOUT' }));
    }, CONNECT_TIMEOUT_MS);
    socket.once('error', (error: Error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      if (pinned !== undefined) {
        const got = socket.getPeerCertificate().fingerprint256.replace(/:/g, '').toLowerCase();
        if (got !== pinned) {
          socket.destroy();
          reject(Object.assign(new Error(`the server's certificate has SHA-256 ${got}, not the pinned ${pinned}`), { code: 'ERR_TLS_PIN' }));
          return;
        }
      }
      resolve(socket);
    });
  });
}

/** A client for `target`. */
export function createApiClient(target: CtlTarget): ApiClient {
  const address = target.kind === 'unix' ? `unix://${target.socketPath}` : `https://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  return {
    address,
    async request(method, path, options = {}) {
      let socket: TLSSocket | undefined;
      if (target.kind === 'https') {
        try {
          socket = await connectTls(target);
        } catch (error) {
          throw new ConnectError(connectHint(target, error as NodeJS.ErrnoException), error);
        }
      }
      return new Promise<ApiAnswer>((resolve, reject) => {
        let responded = false;
        const headers: Record<string, string> = { accept: 'application/json' };
        if (options.body !== undefined) {
          headers['content-type'] = options.contentType ?? 'application/json';
          headers['content-length'] = String(Buffer.byteLength(options.body));
        }
        const tlsSocket = socket;
        const req = http.request({
          method,
          path,
          headers,
          ...(target.kind === 'unix' ? { socketPath: target.socketPath } : { host: target.host, createConnection: () => tlsSocket }),
          timeout: options.answerTimeoutMs ?? CONNECT_TIMEOUT_MS,
        });
        req.on('timeout', () => {
          if (!responded) req.destroy(Object.assign(new Error('timed out'), { code: options.answerTimeoutMs === undefined ? 'CTL_TIMEOUT' : 'CTL_ANSWER_TIMEOUT' }));
        });
        req.on('error', (error: NodeJS.ErrnoException) => {
          if (error.code === 'CTL_ANSWER_TIMEOUT') {
            reject(new BerthError('CTL_TIMEOUT', `${address} did not answer ${method} ${path} within ${Math.round((options.answerTimeoutMs ?? 0) / 1000)} s`));
            return;
          }
          reject(responded ? new BerthError('CTL_STREAM_ENDED', `The connection to ${address} ended: ${error.message}`) : new ConnectError(connectHint(target, error), error));
        });
        req.on('response', (res: IncomingMessage) => {
          responded = true;
          req.setTimeout(0);
          res.setEncoding('utf8');
          let body = '';
          res.on('data', (chunk: string) => {
            if (options.onChunk && res.statusCode === 200) options.onChunk(chunk);
            else body += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? '', body }));
          res.on('error', reject);
        });
        req.end(options.body);
      });
    },
  };
}
