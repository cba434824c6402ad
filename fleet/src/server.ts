/**
 * The coordinator's HTTP(S) server: FleetLock (`/v1/pre-reboot`, `/v1/steady-state`), berth's
 * report route and the admin routes under `/v1/fleet/`. Mutual TLS names the caller's role;
 * every route checks it before touching etcd. Stateless: all state is in etcd, so replicas
 * may come and go. Effects: listens on a TCP port, etcd through FleetStore, a periodic sweep.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { BerthError, describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { httpModule, httpsModule } from '../../lib/sys/lazy-builtins.ts';
import { FLEETLOCK_GROUP_PATTERN, FLEETLOCK_ROUTES, HALT_REFUSAL_STATUS, REPORT_ROUTE, haltRefusal, hasFleetLockHeader, parseFleetLockRequest, parseHostReport, type FleetLockErrorKind } from '../../lib/fleet/protocol.ts';
import { DEFAULT_HALT_POLICY, checkHaltPolicy, type HaltPolicy } from './core/halt-policy.ts';
import { DEFAULT_PREFIX } from './core/keys.ts';
import { authorize, identityOfCommonName, type Action, type Identity } from './core/roles.ts';
import { ADMIN_ROUTES } from './core/admin.ts';
import { EtcdClient } from './etcd.ts';
import { FleetStore } from './store.ts';

/** PEM material of the server's certificate and the CA that signs client certificates. */
export interface CoordinatorTls {
  certPem: string;
  keyPem: string;
  /** The fleet CA: host and admin certificates must chain to it. */
  caPem: string;
}

export interface CoordinatorOptions {
  host: string;
  port: number;
  /** Without TLS every client is anonymous: only for loopback tests and benchmarks. */
  tls?: CoordinatorTls;
  etcdEndpoints: readonly string[];
  prefix?: string;
  defaultSlots?: number;
  /** Default 15 min: far longer than a reboot, so only a dead host loses its slot. */
  holderTimeoutMs?: number;
  /** Default 1 h. */
  reportTtlMs?: number;
  /** Default 30 s. */
  sweepIntervalMs?: number;
  /** Group commit window for reports (default 100 ms; reports arriving during a commit join the next one). */
  reportBatchMs?: number;
  /** Period of the counters log line (default 60 s). */
  statsIntervalMs?: number;
  /** Refresh period of the replica's read-only view of semaphores and halts (default 250 ms; 0 disables it). */
  cacheRefreshMs?: number;
  haltPolicy?: HaltPolicy;
  /** Let clients without a certificate (Zincati) lock, release and report as any id. Default false. */
  allowAnonymousHosts?: boolean;
  log: Logger;
  now?: () => number;
  fetch?: typeof fetch;
}

/** The documented defaults. */
export const COORDINATOR_DEFAULTS = {
  port: 7480,
  defaultSlots: 1,
  holderTimeoutMs: 15 * 60_000,
  reportTtlMs: 60 * 60_000,
  sweepIntervalMs: 30_000,
  reportBatchMs: 100,
  cacheRefreshMs: 250,
} as const;

export interface RunningCoordinator {
  url: string;
  port: number;
  store: FleetStore;
  etcd: EtcdClient;
  /** Requests served, for the benchmark. */
  requests: number;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly kind: FleetLockErrorKind,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpFailure(413, 'bad_request', `Request body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpFailure(400, 'bad_request', 'Request body is not JSON');
  }
}

function identityOf(req: IncomingMessage): Identity {
  const socket = req.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function' || !socket.authorized) return { role: 'anonymous' };
  const cn = socket.getPeerCertificate().subject?.CN;
  return (
    identityOfCommonName(Array.isArray(cn) ? undefined : cn) ?? {
      role: 'anonymous',
    }
  );
}

/** Checks options; every problem at once. */
export function checkCoordinatorOptions(o: CoordinatorOptions): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) problems.push(`port: expected 0-65535, got ${o.port}`);
  if (o.etcdEndpoints.length === 0) problems.push('etcd: at least one client URL is needed');
  for (const e of o.etcdEndpoints) if (!/^https?:\/\/[^/]+\/?$/.test(e)) problems.push(`etcd: '${e}' is not an http(s)://HOST:PORT URL`);
  if (o.defaultSlots !== undefined && (!Number.isSafeInteger(o.defaultSlots) || o.defaultSlots < 1)) problems.push('default_slots: expected an integer >= 1');
  for (const [name, v] of [
    ['holder_timeout', o.holderTimeoutMs],
    ['report_ttl', o.reportTtlMs],
    ['sweep_interval', o.sweepIntervalMs],
  ] as const) {
    if (v !== undefined && !(v > 0)) problems.push(`${name}: expected a positive duration`);
  }
  for (const [name, v] of [
    ['report_batch', o.reportBatchMs],
    ['cache_refresh', o.cacheRefreshMs],
  ] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) problems.push(`${name}: expected a duration >= 0`);
  }
  if (o.prefix !== undefined && !o.prefix.endsWith('/')) problems.push(`prefix: '${o.prefix}' must end with '/'`);
  if (o.haltPolicy) problems.push(...checkHaltPolicy(o.haltPolicy, 'halt_policy'));
  return problems;
}

/** Starts a coordinator replica. Throws FLEET_CONFIG_INVALID naming every problem. */
export async function startCoordinator(o: CoordinatorOptions): Promise<RunningCoordinator> {
  const problems = checkCoordinatorOptions(o);
  if (problems.length > 0) throw new BerthError('FLEET_CONFIG_INVALID', `Fleet coordinator settings are invalid:\n  ${problems.join('\n  ')}`);
  const now = o.now ?? Date.now;
  const etcd = new EtcdClient({
    endpoints: o.etcdEndpoints,
    ...(o.fetch ? { fetch: o.fetch } : {}),
  });
  const store = new FleetStore(
    etcd,
    {
      prefix: o.prefix ?? DEFAULT_PREFIX,
      defaultSlots: o.defaultSlots ?? COORDINATOR_DEFAULTS.defaultSlots,
      holderTimeoutMs: o.holderTimeoutMs ?? COORDINATOR_DEFAULTS.holderTimeoutMs,
      reportTtlMs: o.reportTtlMs ?? COORDINATOR_DEFAULTS.reportTtlMs,
      haltPolicy: o.haltPolicy ?? DEFAULT_HALT_POLICY,
      maxAttempts: 200,
      reportBatchMs: o.reportBatchMs ?? COORDINATOR_DEFAULTS.reportBatchMs,
      cacheRefreshMs: o.cacheRefreshMs ?? COORDINATOR_DEFAULTS.cacheRefreshMs,
    },
    now,
  );
  store.start();
  const allowAnonymousHosts = o.allowAnonymousHosts ?? false;
  const log = o.log;

  const check = (who: Identity, action: Action): void => {
    const verdict = authorize(who, action, allowAnonymousHosts);
    if (!verdict.allowed) throw new HttpFailure(verdict.status, verdict.kind, verdict.value);
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://coordinator');
    const who = identityOf(req);
    const path = url.pathname;
    if (req.method === 'POST' && (path === FLEETLOCK_ROUTES.preReboot || path === FLEETLOCK_ROUTES.steadyState || path === REPORT_ROUTE)) {
      if (!hasFleetLockHeader(req.headers['fleet-lock-protocol'])) throw new HttpFailure(400, 'missing_protocol_header', "Missing header 'fleet-lock-protocol: true'");
      const body = await readJson(req);
      if (path === REPORT_ROUTE) {
        const parsed = parseHostReport(body);
        if (!parsed.ok) throw new HttpFailure(400, 'bad_request', `Invalid report: ${parsed.problems.join('; ')}`);
        check(who, { kind: 'report', id: parsed.value.client_params.id });
        const result = await store.report(parsed.value);
        for (const h of result.halted)
          log.warn('Version halted', {
            version: h.version,
            by: h.by,
            reason: h.reason,
          });
        if (result.released)
          log.info('Slot released by report', {
            host: parsed.value.client_params.id,
            group: parsed.value.client_params.group,
            phase: parsed.value.status.phase,
          });
        send(res, 200, { released: result.released });
        return;
      }
      const parsed = parseFleetLockRequest(body);
      if (!parsed.ok) throw new HttpFailure(400, 'bad_request', `Invalid FleetLock request: ${parsed.problems.join('; ')}`);
      const { id, group } = parsed.value.client_params;
      if (path === FLEETLOCK_ROUTES.preReboot) {
        check(who, { kind: 'lock', id });
        const gone = new AbortController();
        res.once('close', () => {
          if (!res.writableFinished) gone.abort();
        });
        const result = await store.lock(id, group, gone.signal);
        if (result.outcome === 'halted') {
          send(res, HALT_REFUSAL_STATUS, haltRefusal(result.halt));
          return;
        }
        if (result.outcome === 'full') throw new HttpFailure(409, 'failed_lock_semaphore_full', `Group ${group}: all ${result.slots} slots are held (${result.holders.map((h) => h.id).join(', ')})`);
        if (result.outcome === 'granted') log.info('Slot granted', { host: id, group });
        send(res, 200, {});
        return;
      }
      check(who, { kind: 'release', id });
      if (await store.releaseIfHeld(id, group)) log.info('Slot released', { host: id, group });
      send(res, 200, {});
      return;
    }
    if (req.method === 'GET' && path === ADMIN_ROUTES.snapshot) {
      check(who, { kind: 'read' });
      send(res, 200, await store.snapshot());
      return;
    }
    if (req.method === 'POST' && (path === ADMIN_ROUTES.unlock || path === ADMIN_ROUTES.halt || path === ADMIN_ROUTES.resume || path === ADMIN_ROUTES.groups)) {
      const kind = path === ADMIN_ROUTES.unlock ? 'unlock' : path === ADMIN_ROUTES.halt ? 'halt' : path === ADMIN_ROUTES.resume ? 'resume' : 'set-group';
      check(who, { kind });
      const body = (await readJson(req)) as Record<string, unknown> | null;
      const field = (name: string): string => {
        const v = body?.[name];
        if (typeof v !== 'string' || v === '' || /[\u0000-\u001f/]/.test(v)) throw new HttpFailure(400, 'bad_request', `${name}: expected a non-empty string without '/'`);
        return v;
      };
      const actor = who.role === 'admin' ? who.name : 'anonymous';
      if (kind === 'unlock') {
        const group = body?.group === undefined ? undefined : field('group');
        const released = await store.unlock(field('id'), group);
        log.info('Slot unlocked by admin', {
          host: field('id'),
          groups: released.join(','),
          admin: actor,
        });
        send(res, 200, { released });
      } else if (kind === 'halt') {
        const reason = body?.reason === undefined ? `halted by ${actor}` : field('reason');
        const record = await store.halt(field('version'), reason);
        log.warn('Version halted', {
          version: record.version,
          by: 'admin',
          admin: actor,
        });
        send(res, 200, record);
      } else if (kind === 'resume') {
        const record = await store.resume(field('version'));
        if (!record) throw new HttpFailure(404, 'not_found', `Version ${field('version')} is not halted`);
        log.info('Version resumed', { version: record.version, admin: actor });
        send(res, 200, record);
      } else {
        const group = field('group');
        if (!FLEETLOCK_GROUP_PATTERN.test(group)) throw new HttpFailure(400, 'bad_request', `group: '${group}' must match ^[a-zA-Z0-9.-]+$`);
        const slots = body?.slots;
        if (typeof slots !== 'number' || !Number.isSafeInteger(slots) || slots < 0) throw new HttpFailure(400, 'bad_request', 'slots: expected an integer >= 0');
        await store.setGroupSlots(group, slots);
        log.info('Group slots set', { group, slots, admin: actor });
        send(res, 200, { group, slots });
      }
      return;
    }
    throw new HttpFailure(404, 'not_found', `No route ${req.method ?? ''} ${path}`);
  };

  let requests = 0;
  let abandoned = 0;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    requests += 1;
    running.requests = requests;
    route(req, res).catch((error: unknown) => {
      if (error instanceof BerthError && error.code === 'FLEET_REQUEST_ABANDONED') {
        abandoned += 1;
        return;
      }
      if (error instanceof HttpFailure) {
        send(res, error.status, { kind: error.kind, value: error.message });
        return;
      }
      const unavailable = error instanceof BerthError && (error.code === 'FLEET_ETCD_UNAVAILABLE' || error.code === 'FLEET_CONFLICT_RETRIES');
      log.error('Request failed', {
        path: req.url,
        error: describeError(error),
      });
      if (!res.headersSent)
        send(res, unavailable ? 503 : 500, {
          kind: unavailable ? 'store_unavailable' : 'internal_error',
          value: describeError(error),
        });
    });
  };
  const server: Server = o.tls
    ? httpsModule().createServer(
        {
          cert: o.tls.certPem,
          key: o.tls.keyPem,
          ca: o.tls.caPem,
          requestCert: true,
          rejectUnauthorized: false,
        },
        handler,
      )
    : httpModule().createServer(handler);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const sweepMs = o.sweepIntervalMs ?? COORDINATOR_DEFAULTS.sweepIntervalMs;
  let sweeping = false;
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    store
      .sweep()
      .then((n) => {
        if (n > 0) log.info('Silent holders released', { count: n });
      })
      .catch((error: unknown) => log.warn('Sweep failed', { error: describeError(error) }))
      .finally(() => {
        sweeping = false;
      });
  }, sweepMs);
  timer.unref();
  // One line a minute of what the replica did, so an operator (and bench:fleet) can see how
  // many etcd requests a host request costs and how much the group commit and the view save.
  const statsTimer = setInterval(() => {
    const c = store.counters;
    log.info('Coordinator counters', {
      requests,
      abandoned,
      etcd_calls: etcd.calls,
      etcd_retries: etcd.retries,
      cache_hits: store.cache?.hits ?? 0,
      report_txns: c.reportTxns,
      reports: c.reportsCommitted,
      grants: c.grants,
      expired: c.expired,
      conflicts: c.conflicts,
    });
  }, o.statsIntervalMs ?? 60_000);
  statsTimer.unref();
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  const running: RunningCoordinator = {
    url: `${o.tls ? 'https' : 'http'}://${host}:${port}`,
    port,
    store,
    etcd,
    requests: 0,
    close: async () => {
      clearInterval(timer);
      clearInterval(statsTimer);
      store.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  log.info('Fleet coordinator listening', {
    url: running.url,
    etcd: o.etcdEndpoints.join(','),
    tls: o.tls !== undefined,
    anonymous_hosts: allowAnonymousHosts,
  });
  return running;
}
