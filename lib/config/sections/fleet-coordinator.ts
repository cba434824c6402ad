/**
 * Machine config section `fleet_coordinator`: runs a replica of the fleet coordinator (FleetLock,
 * host reports, automatic halts; state in etcd) on the host, so a fleet needs no machine outside
 * itself. Its etcd endpoints default to this host's own member (`etcd:`). Pure schema.
 */
import { array, boolean, duration, integer, object, string, type Schema, type Shape } from '../validate.ts';
import { listenAddress, pemOrPath } from './api.ts';
import { etcdUrl } from './etcd.ts';

/** The coordinator's default listen address (fleet/ COORDINATOR_DEFAULTS.port). */
export const FLEET_COORDINATOR_DEFAULT_LISTEN = '0.0.0.0:7480';

/** `fleet_coordinator: { listen, etcd_endpoints, tls, insecure_http, allow_anonymous_hosts, default_slots, holder_timeout, report_ttl, prefix }`. */
export const fleetCoordinatorSchema = object({
  listen: listenAddress.default(FLEET_COORDINATOR_DEFAULT_LISTEN),
  /** etcd client URLs; default: this host's etcd member (etcd.client_urls). */
  etcd_endpoints: array(etcdUrl, { minItems: 1, maxItems: 16 }).optional(),
  /** The coordinator's server certificate and key, and the fleet CA host and admin certificates chain to (berth keys fleet). */
  tls: object({ ca: pemOrPath, cert: pemOrPath, key: pemOrPath }).optional(),
  /** Plain HTTP, every client anonymous: only for closed test networks. */
  insecure_http: boolean().default(false),
  /** Let clients without a certificate (Zincati) lock, release and report as any id. */
  allow_anonymous_hosts: boolean().default(false),
  default_slots: integer({ min: 1, max: 10_000 }).default(1),
  holder_timeout: duration({ min: 60_000 }).optional(),
  report_ttl: duration({ min: 60_000 }).optional(),
  prefix: string({ pattern: /^\/[A-Za-z0-9._/-]*\/$/, expected: 'an etcd key prefix like "/berth/fleet/" (starts and ends with "/")' }).optional(),
}).refine((c, report) => {
  if (c.tls === undefined && !c.insecure_http) {
    report('the coordinator needs tls: { ca, cert, key } (berth keys fleet ca / server), or insecure_http: true on a closed test network', { path: ['tls'] });
  }
  if (c.tls !== undefined && c.insecure_http) report('tls and insecure_http: true contradict each other: remove one', { path: ['insecure_http'] });
  // fleet/src/etcd.ts speaks to etcd's JSON gateway with plain fetch, without client certificates.
  (c.etcd_endpoints ?? []).forEach((url, i) => {
    if (url.startsWith('https:')) report(`${url}: the coordinator's etcd client speaks plain http only; give an http client URL`, { path: ['etcd_endpoints', i] });
  });
});

/** A validated `fleet_coordinator:` section. */
export type FleetCoordinatorSettings = typeof fleetCoordinatorSchema extends Schema<infer T> ? T : never;

/** The machine-config section: `fleet_coordinator:` is optional. */
export const fleetCoordinatorSection = {
  fleet_coordinator: fleetCoordinatorSchema.optional(),
} satisfies Shape;

/**
 * The etcd endpoints the coordinator uses: its own setting, else this host's etcd member's
 * client URLs. Undefined (a config error) when there are neither, or the member's are https.
 */
export function coordinatorEtcdEndpoints(coordinator: FleetCoordinatorSettings, etcd: { client_urls: readonly string[] } | undefined): string[] | undefined {
  if (coordinator.etcd_endpoints !== undefined) return [...coordinator.etcd_endpoints];
  if (etcd === undefined || etcd.client_urls.some((url) => url.startsWith('https:'))) return undefined;
  return [...etcd.client_urls];
}
