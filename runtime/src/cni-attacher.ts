/**
 * Bridge networking for containers through the Debian CNI plugins: a named network namespace
 * per container (`ip netns add`), the loopback and bridge chains run as the CNI spec describes
 * (ADD in order with prevResult, DEL in reverse with the cached result), records under
 * /run/berth/cni so DEL works after a restart of berth, and a hosts file per container listing
 * every container on the bridge, rewritten in place as containers come and go.
 * Effects: runs ip, modprobe and the plugins through lib/sys/exec; files under /run; one sysctl.
 */
import { existsSync, promises as fsp } from 'node:fs';
import * as nodePath from 'node:path';
import { BerthError, describeError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/log.ts';
import type { MachineConfig } from '../../lib/config/machine-config.ts';
import type { ContainerNetworkConfig } from '../../lib/config/sections/container-network.ts';
import type { Exec } from '../../lib/sys/exec.ts';
import {
  bridgeNetworkConfigList,
  chainOrder,
  CNI_HOSTS_DIR,
  CNI_IPAM_DIR,
  CNI_KERNEL_MODULES,
  CNI_PLUGIN_DIR,
  CNI_RECORD_DIR,
  CONTAINER_IFNAME,
  containerAddress,
  IP_FORWARD_SYSCTL,
  loopbackNetworkConfigList,
  NETNS_DIR,
  netnsName,
  parseAttachmentRecord,
  parsePluginOutput,
  planPluginInvocation,
  portMappings,
  renderHostsFile,
  type AttachmentRecord,
  type BridgePeer,
  type CniCommand,
  type CniResult,
  type NetworkConfigList,
  type RuntimeConfig,
} from './core/cni.ts';
import type { NetworkAttacher, NetworkAttachment, NetworkContainer } from './network.ts';

const IP_PATH = '/usr/bin/ip';
const MODPROBE_PATH = '/usr/sbin/modprobe';
// Any exit status comes back as a result: a failing plugin explains itself in a JSON error on stdout.
const ANY_EXIT = Array.from({ length: 256 }, (_, code) => code);
const DEFAULT_NETWORK: ContainerNetworkConfig = {
  subnet: '10.88.0.0/16',
  bridge: 'berth0',
};

export interface CniAttacherOptions {
  exec: Exec;
  logger: Logger;
  /** The bridge network; default: what `start(config)` reads from `container_network`. */
  network?: ContainerNetworkConfig;
  /** CNI_PATH (default /usr/lib/cni). */
  pluginDir?: string;
  /** Records, IPAM leases and hosts files (default /run/berth/cni/...). */
  recordDir?: string;
  ipamDir?: string;
  hostsDir?: string;
  /** Where `ip netns add` puts namespaces (default /run/netns); tests point it elsewhere. */
  netnsDir?: string;
  /** /proc/sys/net/ipv4/ip_forward; `null` skips it (tests). */
  ipForwardPath?: string | null;
  /** Kernel modules loaded before the first ADD (default CNI_KERNEL_MODULES); [] skips modprobe. */
  kernelModules?: readonly string[];
  /** Runs CHECK even though the list disables it (default false: see bridgeNetworkConfigList). */
  forceCheck?: boolean;
  /** Per plugin execution (default 30 s; under TCG a first iptables run is slow). */
  pluginTimeoutMs?: number;
}

/** The attacher, plus what the engine needs around it. */
export interface CniAttacher extends NetworkAttacher {
  /** Reads `container_network` (unless `network` was given) and runs cleanupStale, sparing `keep`. */
  start(config: MachineConfig, options?: { keep?: readonly string[] }): Promise<void>;
  /**
   * Tears down what a previous run of berth left attached (records and namespaces of containers
   * this attacher does not hold, except `keep`: running containers to adopt): DEL with the
   * cached result, namespace removed. Idempotent.
   */
  cleanupStale(keep?: readonly string[]): Promise<void>;
  adopt(container: NetworkContainer): Promise<NetworkAttachment | undefined>;
  /**
   * CNI CHECK of an attached container: each plugin of the bridge chain, in order, with the
   * cached ADD result as prevResult (the spec forbids CHECK before ADD or after DEL). Throws
   * CNI_PLUGIN_FAILED naming the plugin that finds the network broken; CNI_NOT_ATTACHED if unknown.
   */
  check(container: string): Promise<void>;
  /** The namespace path of an attached container, for `network_mode: container:<name>`. */
  netnsPathOf(container: string): string | undefined;
  /** Containers currently on the bridge with their addresses. */
  peers(): BridgePeer[];
}

interface Attached {
  peer: BridgePeer;
  extraHosts: readonly string[];
  hostsFile: string;
  /** The file is the attacher's own (under hostsDir), removed at detach. */
  isOwnHostsFile: boolean;
  netnsPath: string;
}

/** Creates the CNI attacher for `network_mode: bridge` containers. */
export function createCniAttacher(options: CniAttacherOptions): CniAttacher {
  const { exec, logger } = options;
  const pluginDir = options.pluginDir ?? CNI_PLUGIN_DIR;
  const recordDir = options.recordDir ?? CNI_RECORD_DIR;
  const hostsDir = options.hostsDir ?? CNI_HOSTS_DIR;
  const netnsDir = options.netnsDir ?? NETNS_DIR;
  const timeoutMs = options.pluginTimeoutMs ?? 30_000;
  const ipamDataDir = options.ipamDir ?? CNI_IPAM_DIR;
  const disableCheck = options.forceCheck !== true;
  let bridgeList = bridgeNetworkConfigList(options.network ?? DEFAULT_NETWORK, { ipamDataDir, disableCheck });
  const loopbackList = loopbackNetworkConfigList();
  const attached = new Map<string, Attached>();
  let prepared: Promise<void> | undefined;
  // One attach or detach at a time: the plugins share the bridge, iptables chains and IPAM's lock.
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };

  const recordPath = (container: string): string => nodePath.join(recordDir, `${container}.json`);
  const pathOfNetns = (container: string): string => nodePath.join(netnsDir, netnsName(container));

  async function prepareHost(): Promise<void> {
    const modules = options.kernelModules ?? CNI_KERNEL_MODULES;
    if (modules.length > 0) {
      try {
        await exec.run(MODPROBE_PATH, ['-a', ...modules], {
          timeoutMs: 60_000,
        });
      } catch (error) {
        // Built into the kernel or autoloaded later: the plugins' own errors name what is really missing.
        logger.warn('Kernel modules for container networking did not all load', { modules: modules.join(','), error: describeError(error) });
      }
    }
    if (options.ipForwardPath !== null) await fsp.writeFile(options.ipForwardPath ?? IP_FORWARD_SYSCTL, '1\n');
    await Promise.all([recordDir, hostsDir].map((dir) => fsp.mkdir(dir, { recursive: true, mode: 0o700 })));
  }

  async function runPlugin(
    list: NetworkConfigList,
    index: number,
    command: CniCommand,
    container: string,
    netns: string,
    ifname: string,
    runtimeConfig: RuntimeConfig,
    prevResult?: CniResult,
  ): Promise<CniResult | undefined> {
    const invocation = planPluginInvocation(list, index, command, { containerId: container, netnsPath: netns, ifname, pluginDir }, runtimeConfig, prevResult);
    const started = performance.now();
    let output;
    try {
      output = await exec.run(invocation.file, [], {
        env: invocation.env,
        input: invocation.stdin,
        timeoutMs,
        okExitCodes: ANY_EXIT,
      });
    } catch (error) {
      throw new BerthError('CNI_PLUGIN_FAILED', `CNI plugin ${invocation.plugin} failed to ${command} container ${container}: ${describeError(error)}`, { cause: error });
    }
    const result = parsePluginOutput(output, {
      plugin: invocation.plugin,
      container,
      command,
    });
    logger.debug('CNI plugin done', {
      container,
      plugin: invocation.plugin,
      command,
      network: list.name,
      ms: Math.round(performance.now() - started),
    });
    return result;
  }

  /** ADD through a whole list, each plugin getting the previous one's result; DEL of the whole list on failure. */
  async function addChain(list: NetworkConfigList, container: string, netns: string, ifname: string, runtimeConfig: RuntimeConfig): Promise<CniResult | undefined> {
    let result: CniResult | undefined;
    try {
      for (const index of chainOrder(list, 'ADD')) result = await runPlugin(list, index, 'ADD', container, netns, ifname, runtimeConfig, result);
      return result;
    } catch (error) {
      // The spec: after a failed ADD, DEL every plugin of the list (in reverse), even those not yet called.
      await delChain(list, container, netns, ifname, runtimeConfig, result);
      throw error;
    }
  }

  /** DEL through a list in reverse; keeps going past failures (so one broken plugin does not leak the rest) and logs them. */
  async function delChain(list: NetworkConfigList, container: string, netns: string, ifname: string, runtimeConfig: RuntimeConfig, prevResult?: CniResult): Promise<boolean> {
    let isClean = true;
    for (const index of chainOrder(list, 'DEL')) {
      try {
        await runPlugin(list, index, 'DEL', container, netns, ifname, runtimeConfig, prevResult);
      } catch (error) {
        isClean = false;
        logger.warn('CNI DEL failed', {
          container,
          network: list.name,
          error: describeError(error),
        });
      }
    }
    return isClean;
  }

  async function deleteNetns(container: string): Promise<void> {
    if (!existsSync(pathOfNetns(container))) return;
    await exec.run(IP_PATH, ['netns', 'delete', netnsName(container)], {
      timeoutMs: 10_000,
    });
  }

  /** DEL + namespace removal for whatever a record (or a bare namespace) says is attached. */
  async function teardown(container: string, record: AttachmentRecord | undefined): Promise<void> {
    const netns = record?.netnsPath ?? pathOfNetns(container);
    const runtimeConfig = record?.runtimeConfig ?? {};
    await delChain(bridgeList, container, netns, CONTAINER_IFNAME, runtimeConfig, record?.result);
    // loopback DEL does nothing, but the spec pairs every ADD with a DEL.
    await delChain(loopbackList, container, netns, 'lo', {});
    await deleteNetns(container);
    await fsp.rm(recordPath(container), { force: true });
  }

  async function readRecord(container: string): Promise<AttachmentRecord | undefined> {
    try {
      return parseAttachmentRecord(await fsp.readFile(recordPath(container), 'utf8'));
    } catch {
      return undefined;
    }
  }

  async function writeRecord(record: AttachmentRecord): Promise<void> {
    const path = recordPath(record.container);
    await fsp.writeFile(`${path}.tmp`, JSON.stringify(record));
    await fsp.rename(`${path}.tmp`, path);
  }

  /** Rewrites every bridge container's hosts file in place: bind mounts pin the inode, so no rename. */
  async function refreshHostsFiles(): Promise<void> {
    const peers = [...attached.values()].map((a) => a.peer);
    await Promise.all(
      [...attached.values()].map(async (a) => {
        try {
          await fsp.writeFile(a.hostsFile, renderHostsFile(a.peer, peers, a.extraHosts));
        } catch (error) {
          logger.warn('Could not update a container hosts file', {
            container: a.peer.name,
            path: a.hostsFile,
            error: describeError(error),
          });
        }
      }),
    );
  }

  async function attachNow(container: NetworkContainer): Promise<NetworkAttachment> {
    const name = container.name;
    const started = performance.now();
    prepared ??= prepareHost();
    await prepared;
    const runtimeConfig: RuntimeConfig = {
      portMappings: portMappings(name, container.ports),
    };
    // A previous run of this container that was never detached (berth restarted, or detach failed).
    const stale = await readRecord(name);
    if (stale !== undefined || existsSync(pathOfNetns(name))) {
      logger.info('Removing stale container network', { container: name });
      attached.delete(name);
      await teardown(name, stale);
    }
    const netns = pathOfNetns(name);
    await exec.run(IP_PATH, ['netns', 'add', netnsName(name)], {
      timeoutMs: 10_000,
    });
    // Recorded before ADD: a crash mid-ADD still leaves what cleanup needs to DEL it.
    await writeRecord({
      container: name,
      netnsPath: netns,
      runtimeConfig,
      hostname: container.hostname,
    });
    let result: CniResult | undefined;
    try {
      await addChain(loopbackList, name, netns, 'lo', {});
      result = await addChain(bridgeList, name, netns, CONTAINER_IFNAME, runtimeConfig);
    } catch (error) {
      await deleteNetns(name).catch(() => undefined);
      await fsp.rm(recordPath(name), { force: true });
      throw error;
    }
    await writeRecord({
      container: name,
      netnsPath: netns,
      runtimeConfig,
      hostname: container.hostname,
      ...(result === undefined ? {} : { result }),
    });
    const ip = result === undefined ? undefined : containerAddress(result, CONTAINER_IFNAME);
    if (ip === undefined) {
      await teardown(name, await readRecord(name));
      throw new BerthError('CNI_RESULT_INVALID', `The bridge network gave container ${name} no IPv4 address; check container_network.subnet`);
    }
    const attachment = await hold(container, netns, ip, result);
    logger.info('Container attached to the bridge', {
      container: name,
      ip,
      netns,
      ports: container.ports.join(','),
      ms: Math.round(performance.now() - started),
    });
    return attachment;
  }

  /** Holds an attached container: its name on the bridge, the peers' hosts files, and the detach that undoes the attachment. */
  async function hold(container: NetworkContainer, netns: string, ip: string, result: CniResult | undefined): Promise<NetworkAttachment> {
    const name = container.name;
    const hostsFile = container.hostsFile ?? nodePath.join(hostsDir, name);
    const entry: Attached = {
      peer: { name, hostname: container.hostname, ip },
      extraHosts: container.extraHosts,
      hostsFile,
      isOwnHostsFile: container.hostsFile === undefined,
      netnsPath: netns,
    };
    attached.set(name, entry);
    await refreshHostsFiles();
    const peers = [...attached.values()].filter((a) => a.peer.name !== name).map((a) => `${a.peer.ip}\t${a.peer.name}`);
    const gateway = (result?.ips ?? []).find((i) => i.address.startsWith(`${ip}/`))?.gateway;
    let detached = false;
    return {
      netnsPath: netns,
      ip,
      hosts: peers,
      hostsFile,
      ...(gateway === undefined ? {} : { gateway }),
      detach: () =>
        serially(async () => {
          if (detached) return;
          detached = true;
          if (attached.get(name) === entry) attached.delete(name);
          await teardown(name, await readRecord(name));
          if (entry.isOwnHostsFile) await fsp.rm(hostsFile, { force: true });
          await refreshHostsFiles();
          logger.info('Container detached from the bridge', {
            container: name,
          });
        }),
    };
  }

  /**
   * Takes back a container an earlier init attached and that still runs (its monitor outlived
   * init): the record gives the namespace, the CNI result (kept for DEL) and the address; no ADD.
   */
  async function adoptNow(container: NetworkContainer): Promise<NetworkAttachment | undefined> {
    const record = await readRecord(container.name);
    const ip = record?.result === undefined ? undefined : containerAddress(record.result, CONTAINER_IFNAME);
    if (record === undefined || ip === undefined || !existsSync(record.netnsPath)) return undefined;
    prepared ??= prepareHost();
    await prepared;
    const attachment = await hold(container, record.netnsPath, ip, record.result);
    logger.info('Container network adopted', { container: container.name, ip, netns: record.netnsPath });
    return attachment;
  }

  const cleanupStale = (keep: readonly string[] = []): Promise<void> =>
    serially(async () => {
      const names = new Set<string>();
      for (const file of await fsp.readdir(recordDir).catch(() => [] as string[])) {
        if (file.endsWith('.json')) names.add(file.slice(0, -'.json'.length));
      }
      for (const file of await fsp.readdir(netnsDir).catch(() => [] as string[])) {
        if (file.startsWith('berth-')) names.add(file.slice('berth-'.length));
      }
      for (const name of names) {
        if (attached.has(name) || keep.includes(name)) continue;
        logger.info('Removing stale container network', { container: name });
        try {
          await teardown(name, await readRecord(name));
        } catch (error) {
          logger.warn('Could not remove a stale container network', {
            container: name,
            error: describeError(error),
          });
        }
      }
    });

  return {
    async start(config: MachineConfig, startOptions = {}): Promise<void> {
      if (options.network === undefined)
        bridgeList = bridgeNetworkConfigList(config.container_network, { ipamDataDir, disableCheck });
      await cleanupStale(startOptions.keep);
    },
    attach: (container) => serially(() => attachNow(container)),
    adopt: (container) => serially(() => adoptNow(container)),
    check: (container) =>
      serially(async () => {
        const record = attached.has(container) ? await readRecord(container) : undefined;
        if (record?.result === undefined) throw new BerthError('CNI_NOT_ATTACHED', `Cannot check the network of container ${container}: it is not attached to the bridge`);
        if (bridgeList.disableCheck === true) return;
        for (const index of chainOrder(bridgeList, 'CHECK')) await runPlugin(bridgeList, index, 'CHECK', container, record.netnsPath, CONTAINER_IFNAME, record.runtimeConfig, record.result);
      }),
    cleanupStale,
    netnsPathOf: (container) => attached.get(container)?.netnsPath,
    peers: () => [...attached.values()].map((a) => ({ ...a.peer })),
  };
}
