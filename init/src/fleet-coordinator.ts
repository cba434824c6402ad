/**
 * A fleet coordinator replica on the host (machine config `fleet_coordinator:`), started through
 * the fleet component's front door inside init's process. On an etcd member it also keeps the
 * members' FleetLock group at one reboot slot, so the cluster never loses quorum by updating.
 * Effects: reads the TLS files, a listening socket, HTTP to etcd (through fleet/).
 */
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import { listenHost, listenPort } from '../../lib/config/sections/api.ts';
import { etcdFleetLockGroup } from '../../lib/config/sections/etcd.ts';
import { coordinatorEtcdEndpoints } from '../../lib/config/sections/fleet-coordinator.ts';
import type { MachineConfig } from '../../lib/config/machine-config.ts';
import { startCoordinator, type RunningCoordinator } from '../../fleet/src/index.ts';
import type { Sys } from './sys/types.ts';

/** How often the one-slot rule for the etcd members' group is tried again while etcd has no quorum. */
const GROUP_RETRY_MS = 30_000;

export interface HostCoordinator {
  readonly url: string;
  /** Closes the listener and stops its timers. Never throws. */
  stop(): Promise<void>;
}

async function pemOf(fs: Sys['fs'], value: string): Promise<string> {
  return value.startsWith('/') ? fs.readText(value) : value;
}

/** Starts the coordinator `config.fleet_coordinator` describes (the config is validated: it has etcd endpoints). */
export async function startHostCoordinator(sys: Pick<Sys, 'fs'>, logger: Logger, config: MachineConfig): Promise<HostCoordinator | undefined> {
  const settings = config.fleet_coordinator;
  if (settings === undefined) return undefined;
  const endpoints = coordinatorEtcdEndpoints(settings, config.etcd) ?? [];
  const tls = settings.tls ? { caPem: await pemOf(sys.fs, settings.tls.ca), certPem: await pemOf(sys.fs, settings.tls.cert), keyPem: await pemOf(sys.fs, settings.tls.key) } : undefined;
  const log = logger.child({ component: 'fleet' });
  const running: RunningCoordinator = await startCoordinator({
    host: listenHost(settings.listen),
    port: listenPort(settings.listen),
    ...(tls ? { tls } : {}),
    etcdEndpoints: endpoints,
    defaultSlots: settings.default_slots,
    ...(settings.holder_timeout !== undefined ? { holderTimeoutMs: settings.holder_timeout } : {}),
    ...(settings.report_ttl !== undefined ? { reportTtlMs: settings.report_ttl } : {}),
    ...(settings.prefix !== undefined ? { prefix: settings.prefix } : {}),
    allowAnonymousHosts: settings.allow_anonymous_hosts,
    log,
  });
  log.info('Fleet coordinator listening', { url: running.url, etcd: endpoints.join(','), tls: tls !== undefined });

  let stopped = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const etcd = config.etcd;
  if (etcd) {
    // The quorum rule (lib/config/sections/etcd.ts): the members' group has one slot. etcd may
    // have no quorum yet while the other members boot, so this is tried until it holds.
    const group = etcdFleetLockGroup(etcd.initial_cluster_token);
    const enforce = async (): Promise<void> => {
      try {
        await running.store.setGroupSlots(group, 1);
        log.info('etcd members group set to one slot', { group });
      } catch (error) {
        if (stopped) return;
        log.warn('etcd members group not set yet, retrying', { group, retry_in_ms: GROUP_RETRY_MS, error: describeError(error) });
        retry = setTimeout(() => void enforce(), GROUP_RETRY_MS);
      }
    };
    void enforce();
  }
  return {
    url: running.url,
    async stop() {
      stopped = true;
      if (retry) clearTimeout(retry);
      try {
        await running.close();
        log.info('Fleet coordinator stopped');
      } catch (error) {
        log.warn('Fleet coordinator did not close cleanly', { error: describeError(error) });
      }
    },
  };
}
