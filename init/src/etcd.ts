/**
 * The host's etcd member (machine config `etcd:`): prepares its data directory on /var and its
 * TLS files, supervises it like init's other daemons (restart with backoff, SIGTERM at shutdown),
 * and asks its loopback /health endpoint whether it is healthy, for the boot health gate.
 * Effects: files under /var/lib/etcd and /run/berth/etcd, the etcd process, HTTP to 127.0.0.1.
 */
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { PATHS } from '../../lib/layout.ts';
import type { EtcdSettings } from '../../lib/config/sections/etcd.ts';
import { lookupUser } from './core/chrony.ts';
import { ETCD_USER, etcdLogLevel, isEtcdHealthy, planEtcd } from './core/etcd.ts';
import { superviseDaemon, type Daemon } from './supervisor.ts';
import type { Sys } from './sys/types.ts';

/** How long one health probe may take: a member without quorum answers slowly or not at all. */
const HEALTH_TIMEOUT_MS = 3_000;

export interface EtcdMember {
  readonly daemon: Daemon;
  /** True when the member answers /health with `"health":"true"` (it has a leader and quorum). */
  isHealthy(): Promise<boolean>;
}

/** Asks etcd's /health (a GET with a timeout); false on any failure. */
export async function probeEtcdHealth(url: string, timeoutMs = HEALTH_TIMEOUT_MS): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return isEtcdHealthy(response.status, await response.text());
  } catch {
    return false;
  }
}

/** Starts the etcd member described by `settings` under supervision. */
export async function startEtcd(sys: Pick<Sys, 'fs' | 'processes' | 'clock'>, logger: Logger, settings: EtcdSettings): Promise<EtcdMember> {
  let user: { uid: number; gid: number } | undefined;
  try {
    user = lookupUser(await sys.fs.readText('/etc/passwd'), ETCD_USER);
  } catch (error) {
    logger.warn('Cannot read /etc/passwd', { error: describeError(error) });
  }
  if (!user) logger.warn('No etcd user in the image, etcd runs as root', { user: ETCD_USER });
  const plan = planEtcd(settings, user);
  // etcd refuses a data directory others can read.
  await sys.fs.makeDir(PATHS.etcdDataDir, 0o700);
  if (plan.files.length > 0) await sys.fs.makeDir(PATHS.etcdRunDir, 0o700);
  for (const file of plan.files) await sys.fs.writeText(file.path, file.content);
  if (user) {
    await sys.fs.chown(PATHS.etcdDataDir, user.uid, user.gid);
    if (plan.files.length > 0) await sys.fs.chown(PATHS.etcdRunDir, user.uid, user.gid);
    for (const file of plan.files) await sys.fs.chown(file.path, user.uid, user.gid);
  }
  logger.info('etcd member starting', {
    name: settings.name,
    peer_urls: settings.peer_urls.join(','),
    client_urls: settings.client_urls.join(','),
    members: Object.keys(settings.initial_cluster).length,
    state: settings.initial_cluster_state,
  });
  // etcd logs a JSON line per event, too many for a serial console: its warnings and errors only.
  const log = logger.child({ daemon: 'etcd' });
  const daemon = superviseDaemon(sys, logger, {
    name: 'etcd',
    file: plan.file,
    args: plan.args,
    output: 'debug',
    onLine: (line) => {
      const level = etcdLogLevel(line);
      if (level === 'warn' || level === 'error' || level === 'fatal' || level === 'panic') log.warn('etcd says', { level, line: line.slice(0, 500) });
    },
  });
  return { daemon, isHealthy: () => probeEtcdHealth(plan.healthUrl) };
}
