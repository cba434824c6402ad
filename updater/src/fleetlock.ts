/**
 * FleetLock client (the reboot-coordination protocol of Zincati, so existing lock
 * servers such as airlock or poseidon/fleetlock work): POST `/v1/pre-reboot` to take a
 * reboot slot before rebooting into a staged update, POST `/v1/steady-state` to give
 * it back once the update has been confirmed or rolled back. Effects: HTTP requests
 * to the configured server only.
 */
import { createHash } from 'node:crypto';
import { BerthError } from '../../lib/errors.ts';
import { isFleetLockGroupName } from './core/fleetlock-names.ts';


/**
 * A stable node id for lock ownership, derived from a per-machine secret (e.g. the
 * machine id) without revealing it, as Zincati does with an app-specific id.
 */
export function fleetLockNodeId(machineSeed: string): string {
  return createHash('sha256').update(`berth-fleetlock:${machineSeed}`).digest('hex').slice(0, 32);
}

export interface FleetLockOptions {
  /** Base URL of the lock server; the endpoints are relative to it. */
  url: string;
  group: string;
  nodeId: string;
  /** Per request (default 30 s). */
  timeoutMs?: number;
  /** Injectable for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

/** The server's answer: 200 means the operation succeeded, anything else did not. */
export type FleetLockResult =
  | { ok: true }
  | { ok: false; status: number; /** The protocol's error `kind`, or `http_<status>`. */ kind: string; value: string };

export interface FleetLockClient {
  /** RecursiveLock: try to take a reboot slot. `ok: false` means wait and retry. */
  preReboot(): Promise<FleetLockResult>;
  /** UnlockIfHeld: give back the slot (also fine when none is held). */
  steadyState(): Promise<FleetLockResult>;
}

/** The request body both endpoints take. */
export function fleetLockBody(nodeId: string, group: string): string {
  return JSON.stringify({ client_params: { id: nodeId, group } });
}

function endpoint(base: string, path: 'v1/pre-reboot' | 'v1/steady-state'): string {
  return new URL(path, base.endsWith('/') ? base : `${base}/`).href;
}

async function errorOf(response: Response): Promise<{ kind: string; value: string }> {
  const fallback = { kind: `http_${response.status}`, value: response.statusText || `HTTP ${response.status}` };
  let text: string;
  try {
    text = await response.text();
  } catch {
    return fallback;
  }
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body === 'object' && body !== null) {
      const { kind, value } = body as { kind?: unknown; value?: unknown };
      if (typeof kind === 'string' && kind !== '') return { kind: kind.slice(0, 100), value: typeof value === 'string' ? value.slice(0, 500) : fallback.value };
    }
  } catch {
    // Not the protocol's JSON error: report the HTTP status.
  }
  return fallback;
}

/** Creates a client. Throws UPDATER_FLEETLOCK_CONFIG for an invalid URL, group or node id. */
export function createFleetLockClient(options: FleetLockOptions): FleetLockClient {
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
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const body = fleetLockBody(options.nodeId, options.group);

  const call = async (path: 'v1/pre-reboot' | 'v1/steady-state'): Promise<FleetLockResult> => {
    const url = endpoint(base.href, path);
    let response: Response;
    try {
      response = await doFetch(url, {
        method: 'POST',
        headers: { 'fleet-lock-protocol': 'true', 'content-type': 'application/json' },
        body,
        // The protocol header exists so a redirected request is never taken as intended:
        // do not follow redirects, a 3xx is a failed operation.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      throw new BerthError(
        timedOut ? 'UPDATER_FLEETLOCK_TIMEOUT' : 'UPDATER_FLEETLOCK_UNREACHABLE',
        timedOut ? `FleetLock server ${url} did not answer within ${timeoutMs} ms` : `Cannot reach FleetLock server ${url}`,
        { cause: error },
      );
    }
    if (response.status === 200) {
      await response.body?.cancel();
      return { ok: true };
    }
    return { ok: false, status: response.status, ...(await errorOf(response)) };
  };

  return {
    preReboot: () => call('v1/pre-reboot'),
    steadyState: () => call('v1/steady-state'),
  };
}
