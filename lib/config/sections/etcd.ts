/**
 * Machine config section `etcd`: makes the host a member of an etcd cluster (Debian's etcd-server,
 * supervised by init, data under /var/lib/etcd). Its name, the URLs it advertises to peers and
 * clients, the initial cluster, and peer and client TLS (PEM inline or a path). Also the derived
 * FleetLock group its members share for updates (one reboot slot, so the cluster never loses
 * quorum by updating). Pure schema.
 */
import { custom, INVALID, object, oneOf, record, string, array, type Schema, type Shape } from '../validate.ts';
import { pemOrPath } from './api.ts';

/** A member name: etcd allows more, but the name also goes into the FleetLock id and logs. */
const MEMBER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$/;

const memberName = string({ pattern: MEMBER_NAME, expected: 'a member name (letters, digits, ".", "_", "-"; at most 63 characters)' });

/** The default `initial_cluster_token`, which also names the members' FleetLock group. */
export const ETCD_DEFAULT_CLUSTER_TOKEN = 'berth-etcd';

/** The loopback address etcd serves `/health` and `/metrics` on without TLS (init's health probe). */
export const ETCD_METRICS_URL = 'http://127.0.0.1:2381';

/** The FleetLock group every member of the cluster with this token must use (one reboot slot). */
export function etcdFleetLockGroup(clusterToken: string): string {
  return `etcd-${clusterToken}`;
}

/**
 * An etcd URL: `http(s)://HOST:PORT` with an explicit port and nothing after it. Normalised to
 * `scheme://host:port` (no trailing slash), the form etcd compares in `--initial-cluster`.
 */
export const etcdUrl: Schema<string> = custom<string>(
  'a URL like "https://192.0.2.10:2380" (http or https, a host and a port, no path)',
  (value, report) => {
    if (typeof value !== 'string') return INVALID;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      report(`"${value}" is not a URL (expected e.g. "https://192.0.2.10:2380")`);
      return INVALID;
    }
    const problems: string[] = [];
    if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push(`scheme "${url.protocol.slice(0, -1)}" is not http or https`);
    if (url.hostname === '') problems.push('it has no host');
    // URL drops a scheme's default port, so look at the text for an explicit one.
    if (!/^[a-z]+:\/\/(?:\[[^\]]*\]|[^/:]*):\d+\/?$/i.test(value)) problems.push('it needs an explicit port and nothing after it (no path, query or user)');
    if (problems.length > 0) {
      report(`"${value}": ${problems.join('; ')}`);
      return INVALID;
    }
    const port = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port;
    return `${url.protocol}//${url.hostname}:${port}`;
  },
  (value) => typeof value === 'string',
);

/** A TLS identity: the CA that signs the other side's certificates, and this member's certificate and key. */
const tlsSchema = object({
  ca: pemOrPath,
  cert: pemOrPath,
  key: pemOrPath,
});

/** The scheme of a normalised etcd URL. */
function schemeOf(url: string): 'http' | 'https' {
  return url.startsWith('https:') ? 'https' : 'http';
}

/**
 * `etcd: { name, peer_urls, client_urls, initial_cluster, initial_cluster_state,
 * initial_cluster_token, peer_tls, client_tls }`. Absent: the host is no etcd member.
 */
export const etcdSchema = object({
  name: memberName,
  /** URLs peers reach this member on (advertised; etcd listens on their ports on every address). */
  peer_urls: array(etcdUrl, { minItems: 1, maxItems: 4 }),
  /** URLs clients reach this member on (advertised; listened on likewise). */
  client_urls: array(etcdUrl, { minItems: 1, maxItems: 4 }),
  /** Every member of the cluster at bootstrap, by name: its peer URL. */
  initial_cluster: record(etcdUrl, { key: memberName }),
  initial_cluster_state: oneOf(['new', 'existing']).default('new'),
  initial_cluster_token: string({ pattern: /^[a-zA-Z0-9][a-zA-Z0-9.-]{0,62}$/, expected: 'a cluster token (letters, digits, ".", "-")' }).default(ETCD_DEFAULT_CLUSTER_TOKEN),
  peer_tls: tlsSchema.optional(),
  client_tls: tlsSchema.optional(),
}).refine((etcd, report) => {
  const members = Object.keys(etcd.initial_cluster);
  const own = etcd.initial_cluster[etcd.name];
  if (own === undefined) {
    report(`member "${etcd.name}" is missing from initial_cluster (${members.length > 0 ? `it names ${members.join(', ')}` : 'it is empty'}): add ${etcd.name}: ${etcd.peer_urls[0] ?? ''}`, { path: ['initial_cluster'] });
  } else if (!etcd.peer_urls.includes(own)) {
    report(`initial_cluster.${etcd.name} is ${own}, which is none of this member's peer_urls (${etcd.peer_urls.join(', ')}): they must agree`, { path: ['initial_cluster', etcd.name] });
  }
  const seen = new Map<string, string>();
  for (const [member, url] of Object.entries(etcd.initial_cluster)) {
    const other = seen.get(url);
    if (other !== undefined) report(`members "${other}" and "${member}" share the peer URL ${url}`, { path: ['initial_cluster', member] });
    seen.set(url, member);
  }
  if (members.length % 2 === 0) {
    report(`an etcd cluster of ${members.length} members tolerates no more failures than one of ${members.length - 1}: use an odd number of members`, { path: ['initial_cluster'], warning: true });
  }
  const checkTls = (urls: readonly string[], tls: unknown, key: 'peer_urls' | 'client_urls', tlsKey: 'peer_tls' | 'client_tls'): void => {
    urls.forEach((url, i) => {
      if (schemeOf(url) === 'https' && tls === undefined) report(`${url} is https but ${tlsKey} is not set: give ${tlsKey}: { ca, cert, key } or use http`, { path: [key, i] });
      if (schemeOf(url) === 'http' && tls !== undefined) report(`${url} is plain http although ${tlsKey} is set, so it would be ignored there: use https`, { path: [key, i] });
    });
  };
  checkTls(etcd.peer_urls, etcd.peer_tls, 'peer_urls', 'peer_tls');
  checkTls(etcd.client_urls, etcd.client_tls, 'client_urls', 'client_tls');
  Object.entries(etcd.initial_cluster).forEach(([member, url]) => {
    if (schemeOf(url) === 'https' && etcd.peer_tls === undefined) report(`${url} is https but peer_tls is not set`, { path: ['initial_cluster', member] });
  });
});

/** A validated `etcd:` section. */
export type EtcdSettings = typeof etcdSchema extends Schema<infer T> ? T : never;

/** The machine-config section: `etcd:` is optional. */
export const etcdSection = {
  etcd: etcdSchema.optional(),
} satisfies Shape;

/** What the update section offers the quorum check (lib/config/machine-config.ts crossChecks). */
export interface UpdateGatesView {
  gates: readonly string[];
  fleetlock?: { group: string };
}

/**
 * The quorum rule: an etcd member that updates itself must take a FleetLock reboot slot in the
 * group its cluster's members share, `etcd-<initial_cluster_token>`, which the coordinator
 * serves with one slot (fleet_coordinator section). A member without `update:` never updates
 * itself and needs nothing. Returns the problem, or undefined.
 */
export function etcdUpdateProblem(etcd: EtcdSettings, update: UpdateGatesView | undefined): { message: string; path: string[] } | undefined {
  if (update === undefined) return undefined;
  const group = etcdFleetLockGroup(etcd.initial_cluster_token);
  if (!update.gates.includes('fleetlock')) {
    return {
      message: `this host is etcd member "${etcd.name}", so an update must never take down more than one member at a time: add fleetlock to update.strategy and set update.fleetlock: { url, group: ${group} } (the group the cluster's members share, with one slot)`,
      path: ['update', 'strategy'],
    };
  }
  if (update.fleetlock !== undefined && update.fleetlock.group !== group) {
    return {
      message: `this host is etcd member "${etcd.name}": its FleetLock group must be "${group}" (etcd- and the initial_cluster_token), the one-slot group every member shares, not "${update.fleetlock.group}"`,
      path: ['update', 'fleetlock', 'group'],
    };
  }
  return undefined;
}
