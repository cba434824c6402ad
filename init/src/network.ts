/**
 * Networking at boot: finds the interfaces in /sys/class/net, applies core/network-plan.ts
 * with `ip` (lo up, links up, static addresses and routes), writes resolv.conf for static
 * DNS, runs dhcpcd under supervision for the DHCP interfaces, and follows addresses through
 * `ip monitor` and a slow poll, logging each one acquired or lost. Waits a capped time for DHCP, then lets it
 * go on in the background. Effects: exec (ip), files, processes.
 */
import { describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import type { NetworkConfig } from '../../lib/config/sections/network.ts';
import { DHCPCD_CONFIG_PATH, DHCPCD_DIRS, dhcpcdArgv, renderDhcpcdConfig } from './core/dhcpcd.ts';
import { diffAddresses, hasDhcpAddresses, parseIpAddresses, planNetwork, type DiscoveredInterface, type InterfaceAddress } from './core/network-plan.ts';
import { KERNEL_PATHS, TOOLS } from './core/tools.ts';
import { superviseDaemon, type Daemon } from './supervisor.ts';
import type { Sys } from './sys/types.ts';
import { PATHS } from '../../lib/layout.ts';

export const RESOLV_CONF_PATH = PATHS.resolvConf;
/** How long boot waits for DHCP before announcing readiness anyway. */
export const DHCP_WAIT_MS = 8000;
/**
 * While waiting for DHCP, addresses are read when `ip monitor` reports a change; this poll only
 * covers a missed event. Each reading is a process start (0.1-0.2 s of CPU under TCG), which a
 * 250 ms poll spent four times a second, beside dhcpcd, on the boot's path.
 */
export const DHCP_FALLBACK_POLL_MS = 1000;
/**
 * Addresses are read again this often after boot as well: `ip monitor` missed the SLAAC address
 * dhcpcd adds on QEMU's network (seen with iproute2 6.15), and lifetimes run out without an event.
 */
export const ADDRESS_POLL_MS = 15_000;

export interface Network {
  /** Interfaces init configured. */
  readonly interfaces: readonly string[];
  /** The global addresses right now (reads them again). */
  addresses(): Promise<InterfaceAddress[]>;
  /** The daemons it supervises, for the shutdown. */
  readonly daemons: readonly Daemon[];
  /** Stops following addresses (at shutdown). */
  stop(): void;
  /**
   * Settles once every DHCP interface has its address, or after the wait's cap (with a warning;
   * DHCP goes on in the background). Settled from the start without DHCP interfaces. Never rejects.
   */
  readonly dhcpSettled: Promise<void>;
}

async function discoverInterfaces(fs: Sys['fs']): Promise<DiscoveredInterface[]> {
  const base = KERNEL_PATHS.sysClassNet;
  if (!(await fs.exists(base))) return [];
  const found: DiscoveredInterface[] = [];
  for (const name of await fs.readDir(base)) {
    const dir = `${base}/${name}`;
    try {
      found.push({
        name,
        type: Number((await fs.readText(`${dir}/type`)).trim()),
        hasDevice: await fs.exists(`${dir}/device`),
        isWireless: (await fs.exists(`${dir}/wireless`)) || (await fs.exists(`${dir}/phy80211`)),
      });
    } catch {
      // Gone while we looked (a hot-unplugged NIC): nothing to configure.
    }
  }
  return found;
}

async function runIp(sys: Pick<Sys, 'exec'>, logger: Logger, args: readonly string[]): Promise<boolean> {
  try {
    await sys.exec.run(TOOLS.ip, args, { timeoutMs: 10_000 });
    return true;
  } catch (error) {
    logger.warn('Network setting not applied', { command: `ip ${args.join(' ')}`, error: describeError(error) });
    return false;
  }
}

/** Brings the network up and waits for DHCP (capped); never throws (a host without network still boots and says so). */
export async function startNetwork(sys: Pick<Sys, 'exec' | 'fs' | 'processes' | 'clock'>, logger: Logger, config: NetworkConfig, waitMs = DHCP_WAIT_MS): Promise<Network> {
  const network = await beginNetwork(sys, logger, config, waitMs);
  await network.dhcpSettled;
  return network;
}

/**
 * Brings the network up and starts the DHCP client without waiting for its lease: the caller
 * awaits `dhcpSettled` when it needs the addresses, and does other work meanwhile (under TCG
 * dhcpcd takes about a second of CPU from its start to the lease). Never throws.
 */
export async function beginNetwork(sys: Pick<Sys, 'exec' | 'fs' | 'processes' | 'clock'>, logger: Logger, config: NetworkConfig, waitMs = DHCP_WAIT_MS): Promise<Network> {
  const found = await discoverInterfaces(sys.fs);
  const plan = planNetwork(config, found);
  // lo comes up beside the interfaces (each `ip` is a process start, 0.1-0.2 s under TCG).
  const loopbackUp = runIp(sys, logger, plan.loopback);
  for (const name of plan.missing) logger.warn('Configured interface not found', { interface: name, present: found.map((i) => i.name).join(',') });
  for (const iface of plan.interfaces) {
    for (const command of iface.commands) await runIp(sys, logger, command);
    logger.info('Interface configured', { interface: iface.name, mode: iface.dhcp ? 'dhcp' : 'static' });
  }
  if (plan.interfaces.length === 0) logger.warn('No network interface to configure', { found: found.map((i) => i.name).join(',') });
  await loopbackUp;

  if (plan.resolvConf !== undefined) {
    try {
      await sys.fs.writeAtomic(RESOLV_CONF_PATH, plan.resolvConf);
      logger.info('DNS configured', { servers: config.dns.servers.join(','), search: config.dns.search.join(',') || undefined });
    } catch (error) {
      logger.warn('DNS not configured', { path: RESOLV_CONF_PATH, error: describeError(error) });
    }
  }

  let known: InterfaceAddress[] = [];
  const readAddresses = async (): Promise<InterfaceAddress[]> => {
    const { stdout } = await sys.exec.run(TOOLS.ip, ['-json', 'address', 'show'], { timeoutMs: 10_000 });
    return parseIpAddresses(stdout);
  };
  // One reading at a time; events during a reading ask for one more after it.
  let refreshing: Promise<void> | undefined;
  let again = false;
  /** Resolved after each reading: the DHCP wait wakes up on it. */
  const nextReading = (): { promise: Promise<void>; resolve: () => void } => {
    let resolve = (): void => undefined;
    const promise = new Promise<void>((done) => (resolve = done));
    return { promise, resolve };
  };
  let readingDone = nextReading();
  const refresh = (): Promise<void> => {
    if (refreshing) {
      again = true;
      return refreshing;
    }
    refreshing = (async () => {
      do {
        again = false;
        try {
          const next = await readAddresses();
          const { acquired, lost } = diffAddresses(known, next);
          known = next;
          for (const a of acquired) logger.info('Address acquired', { interface: a.interface, address: a.address });
          for (const a of lost) logger.info('Address lost', { interface: a.interface, address: a.address });
        } catch (error) {
          logger.warn('Cannot read addresses', { error: describeError(error) });
        }
      } while (again);
    })().finally(() => {
      refreshing = undefined;
      const done = readingDone;
      readingDone = nextReading();
      done.resolve();
    });
    return refreshing;
  };

  const daemons: Daemon[] = [];
  if (plan.interfaces.length > 0) {
    // Address changes are events from the kernel; each one triggers a fresh reading.
    daemons.push(
      superviseDaemon(sys, logger, {
        name: 'ip-monitor',
        file: TOOLS.ip,
        args: ['-oneline', 'monitor', 'address'],
        output: false,
        onLine: () => void refresh(),
      }),
    );
  }
  if (plan.dhcpInterfaces.length > 0) {
    try {
      for (const dir of [...DHCPCD_DIRS, PATHS.runDir]) await sys.fs.makeDir(dir, 0o755);
      await sys.fs.writeText(DHCPCD_CONFIG_PATH, renderDhcpcdConfig({ interfaces: plan.dhcpInterfaces, isResolvConfStatic: plan.resolvConf !== undefined }));
      const { file, args } = dhcpcdArgv();
      daemons.push(superviseDaemon(sys, logger, { name: 'dhcpcd', file, args }));
    } catch (error) {
      logger.error('DHCP client not started', { error: describeError(error) });
    }
  }
  await refresh();

  let stopped = false;
  const waitForDhcp = async (): Promise<void> => {
    if (plan.dhcpInterfaces.length === 0) return;
    const deadline = sys.clock.monotonicMs() + waitMs;
    while (!stopped && !hasDhcpAddresses(plan.dhcpInterfaces, known) && sys.clock.monotonicMs() < deadline) {
      const pollMs = Math.max(1, Math.min(DHCP_FALLBACK_POLL_MS, deadline - sys.clock.monotonicMs()));
      const woke = await Promise.race([readingDone.promise.then(() => 'event' as const), sys.clock.sleep(pollMs).then(() => 'poll' as const)]);
      if (woke === 'poll') await refresh();
    }
    const waiting = plan.dhcpInterfaces.filter((name) => !hasDhcpAddresses([name], known));
    if (waiting.length > 0 && !stopped) logger.warn('No DHCP address yet, continuing in the background', { interfaces: waiting.join(','), waited_ms: waitMs });
  };
  const dhcpSettled = waitForDhcp();

  if (plan.interfaces.length > 0) {
    void (async () => {
      await dhcpSettled;
      while (!stopped) {
        await sys.clock.sleep(ADDRESS_POLL_MS);
        if (!stopped) await refresh();
      }
    })();
  }

  return {
    interfaces: plan.interfaces.map((i) => i.name),
    daemons,
    dhcpSettled,
    stop() {
      stopped = true;
    },
    async addresses() {
      await refresh();
      return known;
    },
  };
}

/**
 * Stops a network started earlier in the boot (the one brought up to fetch the machine config)
 * so the config's own can start: stops following addresses, stops its daemons, and removes the
 * global addresses dhcpcd left behind (it runs with `persistent`), so the config's settings start
 * from a clean interface. Never throws.
 */
export async function stopNetwork(sys: Pick<Sys, 'exec'>, logger: Logger, network: Network, graceMs: number): Promise<void> {
  network.stop();
  await Promise.all(network.daemons.map((daemon) => daemon.stop(graceMs)));
  for (const name of network.interfaces) await runIp(sys, logger, ['address', 'flush', 'dev', name, 'scope', 'global']);
  logger.info('Network stopped', { interfaces: network.interfaces.join(',') });
}
