/**
 * Container networking as the CNI specification (1.0.0) describes it, as data: the network
 * configuration lists berth hands to the Debian CNI plugins (bridge + host-local IPAM, portmap,
 * firewall; loopback for `lo`), the portmap runtime config from Compose `ports`, the exact
 * invocation of each plugin in a chain (environment, stdin with `prevResult`), and the parsing of
 * plugin results and error objects into BerthErrors. Also each container's /etc/hosts text.
 * Pure: the attacher (runtime/src/cni-attacher.ts) runs the plans.
 */
import { BerthError } from '../../../lib/errors.ts';
import { PATHS } from '../../../lib/layout.ts';
import { gatewayOf, parseIpv4Subnet, type ContainerNetworkConfig } from '../../../lib/config/sections/container-network.ts';
import { parsePort } from '../../../lib/config/sections/containers.ts';
import { isRecord } from '../../../lib/record.ts';

/** The spec version berth speaks; Debian's plugins (1.1) support 0.1.0 up to 1.0.0. */
export const CNI_VERSION = '1.0.0';
/** Where Debian's containernetworking-plugins installs the plugin executables (CNI_PATH). */
export const CNI_PLUGIN_DIR = '/usr/lib/cni';
/** Berth's CNI state on tmpfs: IPAM leases, cached ADD results and hosts files start empty each boot. */
export const CNI_STATE_DIR = PATHS.cniStateDir;
/** host-local IPAM's lease directory (one file per allocated address, plus a lock). */
export const CNI_IPAM_DIR = `${CNI_STATE_DIR}/ipam`;
/** One JSON record per attached container: what DEL needs (prevResult, runtime config). */
export const CNI_RECORD_DIR = `${CNI_STATE_DIR}/attachments`;
/** One hosts file per bridge container, kept current in place as peers come and go. */
export const CNI_HOSTS_DIR = `${CNI_STATE_DIR}/hosts`;
/** Where `ip netns add` bind-mounts named network namespaces. */
export const NETNS_DIR = '/run/netns';
/** The network name in CNI terms (also keys host-local's lease directory). */
export const BRIDGE_NETWORK_NAME = 'berth';
export const LOOPBACK_NETWORK_NAME = 'berth-loopback';
/** The container-side interface of the bridge network. */
export const CONTAINER_IFNAME = 'eth0';

/**
 * Kernel modules the bridge chain needs before the first ADD. Most would be autoloaded by the
 * kernel on demand; loading them up front turns a missing module into one clear warning.
 * iptables is the nft backend, so its matches and targets come through nft_compat.
 */
export const CNI_KERNEL_MODULES = [
  'bridge',
  'veth',
  'nf_tables',
  'nft_compat',
  'nft_chain_nat',
  'nf_nat',
  'nf_conntrack',
  'xt_MASQUERADE',
  'xt_conntrack',
  'xt_comment',
  'xt_multiport',
  'xt_addrtype',
  'xt_mark',
  'xt_nat',
] as const;

/** The sysctl the host needs so packets flow between the bridge and the outside. */
export const IP_FORWARD_SYSCTL = '/proc/sys/net/ipv4/ip_forward';

/** One plugin's entry in a network configuration list. */
export interface PluginConf {
  type: string;
  /** Capabilities the plugin accepts through `runtimeConfig` (CONVENTIONS.md). */
  capabilities?: Record<string, boolean>;
  [key: string]: unknown;
}

/** A CNI network configuration list. */
export interface NetworkConfigList {
  cniVersion: string;
  name: string;
  disableCheck?: boolean;
  plugins: PluginConf[];
}

/** A CNI `portMappings` capability entry (portmap plugin). */
export interface PortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIP?: string;
}

/** Capability values the runtime passes; only those a plugin declares reach it. */
export interface RuntimeConfig {
  portMappings?: PortMapping[];
}

/** The interface/ip/route/dns result of an ADD (CNI 1.0.0 Result). */
export interface CniResult {
  cniVersion: string;
  interfaces?: { name: string; mac?: string; sandbox?: string }[];
  ips?: { address: string; gateway?: string; interface?: number }[];
  routes?: { dst: string; gw?: string }[];
  dns?: { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] };
  [key: string]: unknown;
}

export type CniCommand = 'ADD' | 'DEL' | 'CHECK';

/** The attachment-wide parameters, the same for every plugin in a chain. */
export interface AttachmentParams {
  /** CNI_CONTAINERID: berth uses the container's name (unique among running containers). */
  containerId: string;
  /** CNI_NETNS */
  netnsPath: string;
  /** CNI_IFNAME */
  ifname: string;
  /** CNI_PATH (default /usr/lib/cni). */
  pluginDir?: string;
}

/** One plugin execution, ready for lib/sys/exec: file, explicit environment and stdin. */
export interface PluginInvocation {
  /** The plugin's type (its executable's name), for messages. */
  plugin: string;
  file: string;
  env: Record<string, string>;
  stdin: string;
}

/** Network namespace name of a container: `ip netns` shows it, /run/netns/<name> holds it. */
export function netnsName(container: string): string {
  return `berth-${container}`;
}

export function netnsPath(container: string): string {
  return `${NETNS_DIR}/${netnsName(container)}`;
}

/**
 * The bridge network: bridge (host side gateway, masquerade outbound, hairpin so a container
 * can reach itself through a published port) with host-local IPAM, then portmap for published
 * ports, then firewall so the FORWARD policy of the host does not drop container traffic.
 */
export function bridgeNetworkConfigList(network: ContainerNetworkConfig, options: { ipamDataDir?: string; disableCheck?: boolean } = {}): NetworkConfigList {
  const subnet = parseIpv4Subnet(network.subnet);
  if (subnet === undefined) throw new BerthError('CONFIG_INVALID', `Invalid container_network.subnet "${network.subnet}": expected an IPv4 network like 10.88.0.0/16`);
  const mtu = network.mtu === undefined ? {} : { mtu: network.mtu };
  return {
    cniVersion: CNI_VERSION,
    name: BRIDGE_NETWORK_NAME,
    // portmap 1.1 (Debian) fails CHECK on every IPv4-only container: it looks for an IPv6 DNAT
    // chain it never made (containernetworking/plugins#819). The spec's remedy: no CHECK.
    disableCheck: options.disableCheck ?? true,
    plugins: [
      {
        type: 'bridge',
        bridge: network.bridge,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ...mtu,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: network.subnet, gateway: gatewayOf(subnet) }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: options.ipamDataDir ?? CNI_IPAM_DIR,
        },
      },
      // snat: published ports also work from the host itself (127.0.0.1:<port>).
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
      { type: 'firewall', backend: 'iptables' },
    ],
  };
}

/** The loopback network: brings `lo` up inside the namespace (run with CNI_IFNAME=lo). */
export function loopbackNetworkConfigList(): NetworkConfigList {
  return { cniVersion: CNI_VERSION, name: LOOPBACK_NETWORK_NAME, plugins: [{ type: 'loopback' }] };
}

/**
 * Compose `ports` to portmap's `portMappings`. Entries without a host port ("80") are only
 * exposed on the bridge, where every port is reachable anyway, so they map to nothing.
 */
export function portMappings(container: string, ports: readonly string[]): PortMapping[] {
  const mappings: PortMapping[] = [];
  const problems: string[] = [];
  ports.forEach((text, index) => {
    const spec = parsePort(text);
    if (spec === undefined) {
      problems.push(`ports[${index}] "${text}"`);
      return;
    }
    if (spec.hostPort === undefined) return;
    const mapping: PortMapping = { hostPort: spec.hostPort, containerPort: spec.containerPort, protocol: spec.protocol };
    if (spec.hostIp !== undefined) mapping.hostIP = spec.hostIp;
    mappings.push(mapping);
  });
  if (problems.length > 0) {
    throw new BerthError('CNI_PORT_INVALID', `Cannot publish the ports of container ${container}: ${problems.join(', ')} not of the form "HOST:CONTAINER[/tcp|udp]"`);
  }
  return mappings;
}

/** Plugin indexes in execution order: ADD and CHECK in list order, DEL in reverse. */
export function chainOrder(list: NetworkConfigList, command: CniCommand): number[] {
  const order = list.plugins.map((_, index) => index);
  return command === 'DEL' ? order.reverse() : order;
}

const PLUGIN_TYPE = /^[a-z0-9][a-z0-9_.-]*$/;

/**
 * The configuration one plugin receives on stdin (spec section 3, "Deriving execution
 * configuration"): the list's `cniVersion` and `name` replace the plugin's, `runtimeConfig`
 * carries only the capabilities the plugin declares, and `prevResult` is the previous plugin's
 * result (ADD) or the cached result of the last ADD (DEL, CHECK; omitted for DEL when unknown).
 */
export function derivePluginConfig(list: NetworkConfigList, index: number, runtimeConfig: RuntimeConfig, prevResult?: CniResult): Record<string, unknown> {
  const plugin = list.plugins[index];
  if (plugin === undefined) throw new BerthError('CNI_CONFIG_INVALID', `Network ${list.name} has no plugin #${index}`);
  const config: Record<string, unknown> = { ...plugin, cniVersion: list.cniVersion, name: list.name };
  const granted: Record<string, unknown> = {};
  for (const [capability, enabled] of Object.entries(plugin.capabilities ?? {})) {
    const value = (runtimeConfig as Record<string, unknown>)[capability];
    if (enabled && value !== undefined) granted[capability] = value;
  }
  if (Object.keys(granted).length > 0) config.runtimeConfig = granted;
  if (prevResult !== undefined) config.prevResult = prevResult;
  return config;
}

/**
 * The full invocation of plugin `index` of `list` for `command`: the executable from CNI_PATH,
 * the CNI_* environment (plus PATH, since portmap, firewall and bridge run iptables), and stdin.
 */
export function planPluginInvocation(
  list: NetworkConfigList,
  index: number,
  command: CniCommand,
  params: AttachmentParams,
  runtimeConfig: RuntimeConfig,
  prevResult?: CniResult,
): PluginInvocation {
  const config = derivePluginConfig(list, index, runtimeConfig, prevResult);
  const plugin = String(config.type);
  // The type names an executable in CNI_PATH: never a path of its own.
  if (!PLUGIN_TYPE.test(plugin)) throw new BerthError('CNI_CONFIG_INVALID', `Refusing CNI plugin type "${plugin}" in network ${list.name}: expected a plain executable name`);
  const pluginDir = params.pluginDir ?? CNI_PLUGIN_DIR;
  return {
    plugin,
    file: `${pluginDir}/${plugin}`,
    env: {
      CNI_COMMAND: command,
      CNI_CONTAINERID: params.containerId,
      CNI_NETNS: params.netnsPath,
      CNI_IFNAME: params.ifname,
      CNI_PATH: pluginDir,
      PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
    },
    stdin: `${JSON.stringify(config)}\n`,
  };
}

/** Names of the spec's well-known error codes (0-99), for messages. */
const WELL_KNOWN_ERRORS: Readonly<Record<number, string>> = {
  1: 'incompatible CNI version',
  2: 'unsupported field in network configuration',
  3: 'container unknown or does not exist',
  4: 'invalid necessary environment variables',
  5: 'I/O failure',
  6: 'failed to decode content',
  7: 'invalid network config',
  11: 'try again later',
};

/** What came back from running a plugin. */
export interface PluginOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** What a failure is about, for the error message. */
export interface PluginCall {
  plugin: string;
  container: string;
  command: CniCommand;
}


function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  const line = lines[lines.length - 1] ?? '';
  return line.length > 500 ? `${line.slice(0, 500)}…` : line;
}

/** A CNI error object as the spec defines it, or undefined when `value` is not one. */
export function parseCniError(value: unknown): { code: number; msg: string; details?: string } | undefined {
  if (!isRecord(value) || typeof value.code !== 'number' || typeof value.msg !== 'string') return undefined;
  return typeof value.details === 'string' && value.details !== '' ? { code: value.code, msg: value.msg, details: value.details } : { code: value.code, msg: value.msg };
}

/**
 * Turns a plugin's exit into its result or a BerthError. A non-zero exit carries a CNI error
 * object on stdout (code, msg, details): CNI_PLUGIN_FAILED names the plugin, command, container,
 * the message and the code's meaning. Success of ADD must print a Result (CNI_RESULT_INVALID
 * otherwise); DEL and CHECK print nothing that matters.
 */
export function parsePluginOutput(output: PluginOutput, call: PluginCall): CniResult | undefined {
  const what = `CNI plugin ${call.plugin} failed to ${call.command} container ${call.container}`;
  if (output.exitCode !== 0) {
    const error = parseCniError(parseJson(output.stdout));
    if (error === undefined) {
      const said = lastLine(output.stderr) || lastLine(output.stdout) || 'no output';
      throw new BerthError('CNI_PLUGIN_FAILED', `${what}: exit status ${output.exitCode}, ${said}`);
    }
    const meaning = WELL_KNOWN_ERRORS[error.code] ?? (error.code >= 100 ? 'plugin-specific error' : 'reserved error code');
    const details = error.details === undefined ? '' : ` (${error.details})`;
    throw new BerthError('CNI_PLUGIN_FAILED', `${what}: ${error.msg}${details} [CNI error ${error.code}: ${meaning}]`);
  }
  if (call.command !== 'ADD') return undefined;
  const result = parseJson(output.stdout);
  const problem = resultProblem(result);
  if (problem !== undefined) {
    throw new BerthError('CNI_RESULT_INVALID', `CNI plugin ${call.plugin} printed an invalid result for ADD of container ${call.container}: ${problem}`);
  }
  return result as CniResult;
}

function resultProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return 'expected a JSON object';
  if (typeof value.cniVersion !== 'string') return '"cniVersion" is missing';
  if (value.interfaces !== undefined && (!Array.isArray(value.interfaces) || !value.interfaces.every((i) => isRecord(i) && typeof i.name === 'string'))) {
    return '"interfaces" must be a list of objects with a "name"';
  }
  if (value.ips !== undefined) {
    if (!Array.isArray(value.ips)) return '"ips" must be a list';
    for (const [index, ip] of value.ips.entries()) {
      if (!isRecord(ip) || typeof ip.address !== 'string' || !/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(ip.address)) return `ips[${index}].address must be an address with a prefix like "10.88.0.2/16"`;
      if (ip.interface !== undefined && (typeof ip.interface !== 'number' || !Number.isInteger(ip.interface))) return `ips[${index}].interface must be an index into "interfaces"`;
    }
  }
  return undefined;
}

/**
 * The container's IPv4 address (without prefix) on `ifname` from a chain's final result: the
 * first IPv4 entry whose `interface` index names the sandbox interface, else the first IPv4.
 */
export function containerAddress(result: CniResult, ifname: string = CONTAINER_IFNAME): string | undefined {
  const ips = (result.ips ?? []).filter((ip) => /^\d+\.\d+\.\d+\.\d+\//.test(ip.address));
  const index = (result.interfaces ?? []).findIndex((i) => i.name === ifname && i.sandbox !== undefined && i.sandbox !== '');
  const chosen = ips.find((ip) => index >= 0 && ip.interface === index) ?? ips[0];
  return chosen?.address.split('/')[0];
}

/** A container on the bridge, as the hosts files list it. */
export interface BridgePeer {
  name: string;
  /** Compose `hostname`, listed as an alias when it differs from the name. */
  hostname: string;
  ip: string;
}

/** Compose `extra_hosts` ("name:ip", "name=ip", "name:::1") as [name, ip]; undefined when malformed. */
export function parseExtraHost(entry: string): [string, string] | undefined {
  const match = /^([^:=\s]+)[:=](.+)$/.exec(entry);
  if (match === null) return undefined;
  const ip = (match[2] ?? '').replace(/^\[(.*)\]$/, '$1');
  return [match[1] ?? '', ip];
}

/**
 * The /etc/hosts of one bridge container: localhost, the container itself, every other container
 * on the bridge by name (sorted, so rewrites are stable), then its `extra_hosts`.
 */
export function renderHostsFile(self: BridgePeer, peers: readonly BridgePeer[], extraHosts: readonly string[] = []): string {
  const names = (peer: BridgePeer): string => (peer.hostname === peer.name ? peer.name : `${peer.hostname} ${peer.name}`);
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', `${self.ip}\t${names(self)}`];
  const others = peers.filter((peer) => peer.name !== self.name).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (others.length > 0) lines.push('# containers on the bridge (kept current by berth)');
  for (const peer of others) lines.push(`${peer.ip}\t${names(peer)}`);
  const extra = extraHosts.map(parseExtraHost).filter((entry) => entry !== undefined);
  if (extra.length > 0) lines.push('# extra_hosts');
  for (const [name, ip] of extra) lines.push(`${ip}\t${name}`);
  return `${lines.join('\n')}\n`;
}

/** What the attacher keeps per attached container so DEL can run after a restart of berth. */
export interface AttachmentRecord {
  container: string;
  netnsPath: string;
  /** The runtime config the ADD got: DEL must see the same port mappings. */
  runtimeConfig: RuntimeConfig;
  /** The chain's final ADD result; absent while ADD runs (a crash then leaves no prevResult). */
  result?: CniResult;
  hostname?: string;
}

/** Parses a stored record; undefined for anything that is not one (then cleanup falls back to DEL without prevResult). */
export function parseAttachmentRecord(text: string): AttachmentRecord | undefined {
  const value = parseJson(text);
  if (!isRecord(value) || typeof value.container !== 'string' || typeof value.netnsPath !== 'string' || !isRecord(value.runtimeConfig)) return undefined;
  if (value.result !== undefined && resultProblem(value.result) !== undefined) return undefined;
  return value as unknown as AttachmentRecord;
}
