/**
 * The admin client `berth fleet` uses: HTTPS with the admin's client certificate (node:https,
 * since fetch cannot present one), or plain HTTP to a loopback coordinator. Effects: requests
 * to the given coordinator only.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BerthError } from '../../lib/errors.ts';
import { ADMIN_ROUTES, type SnapshotView } from './core/admin.ts';

export interface FleetClientOptions {
  url: string;
  /** PEM of the client certificate, its key, and the CA the server's certificate chains to. */
  certPem?: string;
  keyPem?: string;
  caPem?: string;
  timeoutMs?: number;
}

export interface FleetClientResponse {
  status: number;
  body: unknown;
}

/** One JSON request; resolves with any HTTP status, rejects only when the server cannot be reached. */
export function fleetRequest(o: FleetClientOptions, method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<FleetClientResponse> {
  const url = new URL(path, o.url);
  const text = body === undefined ? undefined : JSON.stringify(body);
  const isHttps = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (isHttps ? httpsRequest : httpRequest)(
      url,
      {
        method,
        headers: { ...headers, ...(text !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) } : {}) },
        timeout: o.timeoutMs ?? 30_000,
        ...(isHttps ? { cert: o.certPem, key: o.keyPem, ca: o.caPem, agent: false } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = raw;
          try {
            parsed = raw === '' ? undefined : JSON.parse(raw);
          } catch {
            // Not JSON: keep the text for the error message.
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new BerthError('FLEET_REQUEST_FAILED', `Fleet coordinator ${o.url} did not answer within ${o.timeoutMs ?? 30_000} ms`)));
    req.on('error', (error) => reject(error instanceof BerthError ? error : new BerthError('FLEET_REQUEST_FAILED', `Cannot reach the fleet coordinator at ${o.url}: ${error.message}`, { cause: error })));
    req.end(text);
  });
}

async function admin(o: FleetClientOptions, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const res = await fleetRequest(o, method, path, body);
  if (res.status !== 200) {
    const err = res.body as { kind?: string; value?: string } | undefined;
    throw new BerthError('FLEET_REQUEST_FAILED', `Fleet coordinator refused ${method} ${path}: HTTP ${res.status} ${err?.kind ?? ''} ${err?.value ?? String(res.body)}`.trim());
  }
  return res.body;
}

/** The admin operations `berth fleet` offers. */
export function createFleetAdminClient(o: FleetClientOptions) {
  return {
    snapshot: async () => (await admin(o, 'GET', ADMIN_ROUTES.snapshot)) as SnapshotView,
    unlock: async (id: string, group?: string) => (await admin(o, 'POST', ADMIN_ROUTES.unlock, { id, ...(group !== undefined ? { group } : {}) })) as { released: string[] },
    halt: async (version: string, reason?: string) => admin(o, 'POST', ADMIN_ROUTES.halt, { version, ...(reason !== undefined ? { reason } : {}) }),
    resume: async (version: string) => admin(o, 'POST', ADMIN_ROUTES.resume, { version }),
    setGroup: async (group: string, slots: number) => admin(o, 'POST', ADMIN_ROUTES.groups, { group, slots }),
  };
}
