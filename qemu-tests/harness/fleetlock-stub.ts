/**
 * A FleetLock server for the VM tests: one reboot slot per group on 127.0.0.1, the protocol
 * of lib/fleet/protocol.ts (pre-reboot takes or keeps the slot, steady-state gives it back),
 * every request recorded with the time it arrived. Effects: listens on loopback only.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FLEETLOCK_ROUTES, hasFleetLockHeader, parseFleetLockRequest } from '../../lib/fleet/protocol.ts';

export interface FleetLockCall {
  /** performance.now() when the request arrived. */
  at: number;
  route: 'pre-reboot' | 'steady-state' | 'other';
  id?: string;
  group?: string;
  status: number;
}

export interface FleetLockStub {
  port: number;
  calls: FleetLockCall[];
  /** Who holds each group's slot now. */
  holders: Map<string, string>;
  close(): Promise<void>;
}

export async function startFleetLockStub(): Promise<FleetLockStub> {
  const calls: FleetLockCall[] = [];
  const holders = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const call: FleetLockCall = { at: performance.now(), route: req.url === FLEETLOCK_ROUTES.preReboot ? 'pre-reboot' : req.url === FLEETLOCK_ROUTES.steadyState ? 'steady-state' : 'other', status: 0 };
    calls.push(call);
    const answer = (status: number, error?: { kind: string; value: string }): void => {
      call.status = status;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(error ? JSON.stringify(error) : '');
    };
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || call.route === 'other') return answer(404, { kind: 'not_found', value: `No route ${req.method ?? ''} ${req.url ?? ''}` });
      if (!hasFleetLockHeader(req.headers['fleet-lock-protocol'])) return answer(400, { kind: 'missing_protocol_header', value: 'fleet-lock-protocol: true is required' });
      let parsed;
      try {
        parsed = parseFleetLockRequest(JSON.parse(body));
      } catch {
        return answer(400, { kind: 'bad_request', value: 'The body is not JSON' });
      }
      if (!parsed.ok) return answer(400, { kind: 'bad_request', value: parsed.problems.join('; ') });
      const { id, group } = parsed.value.client_params;
      call.id = id;
      call.group = group;
      const holder = holders.get(group);
      if (call.route === 'pre-reboot') {
        if (holder !== undefined && holder !== id) return answer(409, { kind: 'failed_lock_semaphore_full', value: `Group ${group} is held by ${holder}` });
        holders.set(group, id);
      } else if (holder === id) {
        holders.delete(group);
      }
      return answer(200);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    calls,
    holders,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
