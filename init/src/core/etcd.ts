/**
 * etcd (Debian's etcd-server) as data: the files init writes for it (inline PEM) and its argv
 * from the `etcd:` section. etcd listens on the ports of its advertised URLs on every address,
 * and on loopback without TLS for /health and /metrics only (init's health probe). Pure.
 */
import { PATHS } from '../../../lib/layout.ts';
import { ETCD_METRICS_URL, type EtcdSettings } from '../../../lib/config/sections/etcd.ts';
import { TOOLS } from './tools.ts';

/** etcd's own user in Debian's package; init drops to it with setpriv. */
export const ETCD_USER = 'etcd';

/** A PEM file init writes before etcd starts (the config gave the PEM inline). */
export interface EtcdFile {
  path: string;
  content: string;
}

export interface EtcdPlan {
  /** Files to write (mode 0600, owned by etcd's user) before starting. */
  files: EtcdFile[];
  file: string;
  args: string[];
  /** Where init asks whether the member is healthy. */
  healthUrl: string;
}

/** The listen form of an advertised URL: the same scheme and port on every address of its family. */
export function listenUrlOf(advertised: string): string {
  const url = new URL(advertised);
  const any = url.hostname.startsWith('[') ? '[::]' : '0.0.0.0';
  return `${url.protocol}//${any}:${url.port}`;
}

/** Inline PEM goes to a file under the run directory; a path is used as it is. */
function materialPath(value: string, name: string, files: EtcdFile[]): string {
  if (value.startsWith('/')) return value;
  const path = `${PATHS.etcdRunDir}/${name}.pem`;
  files.push({ path, content: value.endsWith('\n') ? value : `${value}\n` });
  return path;
}

/**
 * The etcd command line for this member. With `as` (uid/gid of etcd's user) it runs through
 * setpriv, so the key-value store never runs as root.
 */
export function planEtcd(etcd: EtcdSettings, as?: { uid: number; gid: number }): EtcdPlan {
  const files: EtcdFile[] = [];
  const dedupe = (urls: string[]): string[] => [...new Set(urls)];
  const args = [
    `--name=${etcd.name}`,
    `--data-dir=${PATHS.etcdDataDir}`,
    `--listen-peer-urls=${dedupe(etcd.peer_urls.map(listenUrlOf)).join(',')}`,
    `--initial-advertise-peer-urls=${etcd.peer_urls.join(',')}`,
    `--listen-client-urls=${dedupe(etcd.client_urls.map(listenUrlOf)).join(',')}`,
    `--advertise-client-urls=${etcd.client_urls.join(',')}`,
    `--listen-metrics-urls=${ETCD_METRICS_URL}`,
    `--initial-cluster=${Object.entries(etcd.initial_cluster)
      .map(([name, url]) => `${name}=${url}`)
      .join(',')}`,
    `--initial-cluster-state=${etcd.initial_cluster_state}`,
    `--initial-cluster-token=${etcd.initial_cluster_token}`,
    // One line per event on stderr, which init relays to its log.
    '--logger=zap',
    '--log-outputs=stderr',
  ];
  if (etcd.client_tls) {
    args.push(
      `--trusted-ca-file=${materialPath(etcd.client_tls.ca, 'client-ca', files)}`,
      `--cert-file=${materialPath(etcd.client_tls.cert, 'client-cert', files)}`,
      `--key-file=${materialPath(etcd.client_tls.key, 'client-key', files)}`,
      '--client-cert-auth',
    );
  }
  if (etcd.peer_tls) {
    args.push(
      `--peer-trusted-ca-file=${materialPath(etcd.peer_tls.ca, 'peer-ca', files)}`,
      `--peer-cert-file=${materialPath(etcd.peer_tls.cert, 'peer-cert', files)}`,
      `--peer-key-file=${materialPath(etcd.peer_tls.key, 'peer-key', files)}`,
      '--peer-client-cert-auth',
    );
  }
  const healthUrl = `${ETCD_METRICS_URL}/health`;
  if (as === undefined) return { files, file: TOOLS.etcd, args, healthUrl };
  return { files, file: TOOLS.setpriv, args: [`--reuid=${as.uid}`, `--regid=${as.gid}`, '--clear-groups', '--', TOOLS.etcd, ...args], healthUrl };
}

/** Whether etcd's `/health` answer says the member is healthy (`{"health":"true",...}`). */
export function isEtcdHealthy(status: number, body: string): boolean {
  if (status !== 200) return false;
  try {
    const parsed = JSON.parse(body) as { health?: unknown };
    return parsed.health === 'true' || parsed.health === true;
  } catch {
    return false;
  }
}

/** The `level` of one of etcd's zap JSON log lines; undefined for anything else. */
export function etcdLogLevel(line: string): string | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const level = (JSON.parse(line) as { level?: unknown }).level;
    return typeof level === 'string' ? level : undefined;
  } catch {
    return undefined;
  }
}
