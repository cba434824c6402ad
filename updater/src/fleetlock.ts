/**
 * FleetLock client (the reboot-coordination protocol of Zincati, so existing lock
 * servers such as airlock or poseidon/fleetlock work): POST `/v1/pre-reboot` to take a
 * reboot slot before rebooting into a staged update, POST `/v1/steady-state` to give
 * it back once the update has been confirmed or rolled back; and berth's additions
 * (lib/fleet/protocol.ts): the host report (`POST /v1/report`) and the `version_halted`
 * refusal. With a client certificate (or a private CA) it speaks HTTPS through node:https,
 * since fetch cannot present one. Effects: HTTP requests to the configured server only.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { BerthError } from '../../lib/errors.ts';
import { httpsModule } from '../../lib/sys/lazy-builtins.ts';
import { FLEETLOCK_HEADER, FLEETLOCK_ROUTES, REPORT_ROUTE, hostIdOfCommonName, parseHaltRefusal, type HaltInfo, type HostStatus } from '../../lib/fleet/protocol.ts';
import { isFleetLockGroupName } from './core/fleetlock-names.ts';


/**
 * A stable node id for lock ownership, derived from a per-machine secret (e.g. the
 * machine id) without revealing it, as Zincati does with an app-specific id.
 */
export function fleetLockNodeId(machineSeed: string): string {
  return createHash('sha256').update(`berth-fleetlock:${machineSeed}`).digest('hex').slice(0, 32);
}

/**
 * The FleetLock id of a host certificate (common name `host:<id>`, `berth keys fleet host ID`).
 * Throws UPDATER_FLEETLOCK_CONFIG when the PEM is not a certificate or names no host.
 */
export function fleetLockIdOfCertificate(certPem: string): string {
  let subject: string;
  try {
    subject = new X509Certificate(certPem).subject;
  } catch (error) {
    throw new BerthError('UPDATER_FLEETLOCK_CONFIG', 'update.fleetlock.tls.cert is not a PEM certificate', { cause: error });
  }
  const cn = subject.split('\n').find((line) => line.startsWith('CN='))?.slice(3);
  const id = hostIdOfCommonName(cn);
  if (id === undefined) throw new BerthError('UPDATER_FLEETLOCK_CONFIG', `update.fleetlock.tls.cert has common name '${cn ?? ''}', not a host certificate (host:<id>, from berth keys fleet host ID); set update.fleetlock.id or use a host certificate`);
  return id;
}

/** PEM material for HTTPS towards the server. */
export interface FleetLockTls {
  /** The CA the server's certificate chains to (default: Node's bundled roots). */
  caPem?: string;
  /** This host's client certificate and key (mutual TLS with a berth coordinator). */
  certPem?: string;
  keyPem?: string;
}

export interface FleetLockOptions {
  /** Base URL of the lock server; the endpoints are relative to it. */
  url: string;
  group: string;
  nodeId: string;
  /** Per request (default 30 s). */
  timeoutMs?: number;
  /** HTTPS through node:https with these (an https URL only); without it requests go through fetch. */
  tls?: FleetLockTls;
  /** Injectable for tests; defaults to the global fetch (not used with `tls`). */
  fetch?: typeof fetch;
}

/** The server's answer: 200 means the operation succeeded, anything else did not. */
export type FleetLockResult =
  | { ok: true }
  | {
      ok: false;
      status: number;
      /** The protocol's error `kind`, or `http_<status>`. */
      kind: string;
      value: string;
      /** A berth coordinator's `version_halted` refusal: the halt of the version this host moves to. */
      halt?: HaltInfo;
    };

/** A berth coordinator's answer to a host report; 404 from a server without the route. */
export type ReportResult = { ok: true; released: boolean } | { ok: false; status: number; kind: string; value: string };

export interface FleetLockClient {
  /** RecursiveLock: try to take a reboot slot. `ok: false` means wait and retry. */
  preReboot(): Promise<FleetLockResult>;
  /** UnlockIfHeld: give back the slot (also fine when none is held). */
  steadyState(): Promise<FleetLockResult>;
  /** berth's host report (`POST /v1/report`); absent on clients that only speak Zincati's protocol. */
  report?(status: HostStatus): Promise<ReportResult>;
}

/** The request body both endpoints take. */
export function fleetLockBody(nodeId: string, group: string): string {
  return JSON.stringify({ client_params: { id: nodeId, group } });
}

/** The id and the TLS material of `update.fleetlock` (PEM text or an absolute path each), resolved with `readText`. */
export async function resolveFleetLockIdentity(
  settings: { id?: string; tls?: { ca?: string; cert?: string; key?: string } },
  machineSeed: string,
  readText: (path: string) => Promise<string>,
): Promise<{ nodeId: string; tls?: FleetLockTls }> {
  const pem = async (value: string | undefined, key: string): Promise<string | undefined> => {
    if (value === undefined) return undefined;
    if (value.startsWith('-----BEGIN')) return value;
    try {
      return await readText(value);
    } catch (error) {
      throw new BerthError('UPDATER_FLEETLOCK_CONFIG', `Cannot read update.fleetlock.tls.${key} from ${value}: fix the path in the machine config`, { cause: error });
    }
  };
  const t = settings.tls;
  const caPem = await pem(t?.ca, 'ca');
  const certPem = await pem(t?.cert, 'cert');
  const keyPem = await pem(t?.key, 'key');
  const tls: FleetLockTls | undefined = t ? { ...(caPem ? { caPem } : {}), ...(certPem ? { certPem } : {}), ...(keyPem ? { keyPem } : {}) } : undefined;
  // With a host certificate the coordinator accepts only the id it names.
  const nodeId = settings.id ?? (certPem !== undefined ? fleetLockIdOfCertificate(certPem) : fleetLockNodeId(machineSeed));
  return { nodeId, ...(tls ? { tls } : {}) };
}

function endpoint(base: string, path: string): string {
  return new URL(path.replace(/^\//, ''), base.endsWith('/') ? base : `${base}/`).href;
}

/** A POST's answer as text. */
interface RawAnswer {
  status: number;
  statusText: string;
  text(): Promise<string>;
}

function errorOf(status: number, statusText: string, text: string | undefined): { kind: string; value: string; halt?: HaltInfo } {
  const fallback = { kind: `http_${status}`, value: statusText || `HTTP ${status}` };
  if (text === undefined) return fallback;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    // Not the protocol's JSON error: report the HTTP status.
    return fallback;
  }
  const halt = parseHaltRefusal(body);
  if (halt.ok) return { kind: halt.value.kind, value: halt.value.value.slice(0, 500), halt: halt.value.halt };
  if (typeof body === 'object' && body !== null) {
    const { kind, value } = body as { kind?: unknown; value?: unknown };
    if (typeof kind === 'string' && kind !== '') return { kind: kind.slice(0, 100), value: typeof value === 'string' ? value.slice(0, 500) : fallback.value };
  }
  return fallback;
}

/** Creates a client. Throws UPDATER_FLEETLOCK_CONFIG for an invalid URL, group, node id or TLS setting. */
export function createFleetLockClient(options: FleetLockOptions): Required<FleetLockClient> {
  let base: URL;
  try {
    base = new URL(options.url);
  } catch (error) {
    throw new BerthError('UPDATER_FLEETLOCK_CONFIG', `FleetLock URL '${options.url}' is not a URL; set update.fleetlock.url`, { cause: error });
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new BerthError('UPDATER_FLEETLOCK_CONFIG', `FleetLock URL '${options.url}' must be http or https`);
  }
  if (!isFleetLockGroupName(options.group)) {
    throw new BerthError('UPDATER_FLEETLOCK_CONFIG', `FleetLock group '${String(options.group)}' is not valid: use letters, digits, '.' and '-'`);
  }
  if (options.nodeId === '') throw new BerthError('UPDATER_FLEETLOCK_CONFIG', 'FleetLock node id is empty');
  if (options.tls && base.protocol !== 'https:') throw new BerthError('UPDATER_FLEETLOCK_CONFIG', `FleetLock URL '${options.url}' is plain http: TLS settings need an https URL`);
  if (options.tls && (options.tls.certPem === undefined) !== (options.tls.keyPem === undefined)) {
    throw new BerthError('UPDATER_FLEETLOCK_CONFIG', 'FleetLock client certificate and key go together: give both or neither');
  }
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const params = { id: options.nodeId, group: options.group };
  const body = fleetLockBody(options.nodeId, options.group);
  const tls = options.tls;
  // One keep-alive agent per client: the mTLS handshake is paid once, not per request.
  const agent = tls ? new (httpsModule().Agent)({ keepAlive: true, maxSockets: 2, ...(tls.caPem ? { ca: tls.caPem } : {}), ...(tls.certPem ? { cert: tls.certPem, key: tls.keyPem } : {}) }) : undefined;
  const headers = { [FLEETLOCK_HEADER]: 'true', 'content-type': 'application/json' };

  /** POST through node:https with the client certificate. A 3xx comes back as is: it is never followed. */
  const postHttps = (url: string, text: string): Promise<RawAnswer> =>
    new Promise((resolve, reject) => {
      const req = httpsModule().request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(text)) }, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const answer = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', text: () => Promise.resolve(answer) });
        });
      });
      req.on('timeout', () => {
        const error = new Error(`no answer within ${timeoutMs} ms`);
        error.name = 'TimeoutError';
        req.destroy(error);
      });
      req.on('error', reject);
      req.end(text);
    });

  const post = async (path: string, text: string): Promise<RawAnswer> => {
    const url = endpoint(base.href, path);
    try {
      if (tls) return await postHttps(url, text);
      return await doFetch(url, {
        method: 'POST',
        headers,
        body: text,
        // The protocol header exists so a redirected request is never taken as intended:
        // do not follow redirects, a 3xx is a failed operation.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new BerthError(
        timedOut ? 'UPDATER_FLEETLOCK_TIMEOUT' : 'UPDATER_FLEETLOCK_UNREACHABLE',
        timedOut ? `FleetLock server ${url} did not answer within ${timeoutMs} ms` : `Cannot reach FleetLock server ${url}${error instanceof Error ? `: ${error.message}` : ''}`,
        { cause: error },
      );
    }
  };

  const readText = async (answer: RawAnswer): Promise<string | undefined> => {
    try {
      return await answer.text();
    } catch {
      return undefined;
    }
  };

  const call = async (path: string): Promise<FleetLockResult> => {
    const answer = await post(path, body);
    const text = await readText(answer);
    if (answer.status === 200) return { ok: true };
    return { ok: false, status: answer.status, ...errorOf(answer.status, answer.statusText, text) };
  };

  return {
    preReboot: () => call(FLEETLOCK_ROUTES.preReboot),
    steadyState: () => call(FLEETLOCK_ROUTES.steadyState),
    async report(status: HostStatus): Promise<ReportResult> {
      const answer = await post(REPORT_ROUTE, JSON.stringify({ client_params: params, status }));
      const text = await readText(answer);
      if (answer.status === 200) {
        let released = false;
        try {
          released = (JSON.parse(text ?? '') as { released?: unknown }).released === true;
        } catch {
          // A 200 without the coordinator's JSON still took the report.
        }
        return { ok: true, released };
      }
      const { kind, value } = errorOf(answer.status, answer.statusText, text);
      return { ok: false, status: answer.status, kind, value };
    },
  };
}
