/**
 * The host's network as data: which interfaces are wired (from /sys/class/net facts), what
 * the `network` config makes of them (links up, static addresses and routes as `ip` argv,
 * the interfaces dhcpcd handles), resolv.conf for static DNS, and the global addresses
 * parsed from `ip -json address show` with the acquired/lost difference between two
 * readings. Pure.
 */
import { ipFamily, parseCidr, type NetworkConfig } from '../../../lib/config/sections/network.ts';

/** What /sys/class/net/<name> says about one interface. */
export interface DiscoveredInterface {
  name: string;
  /** ARPHRD type from `type` (1: Ethernet, 772: loopback). */
  type: number;
  /** A `device` link: backed by hardware (or a virtual NIC such as virtio), not a bridge or veth. */
  hasDevice: boolean;
  /** A `wireless` or `phy80211` entry: Wi-Fi, which berth leaves alone. */
  isWireless: boolean;
}

const ARPHRD_ETHER = 1;

/** Wired Ethernet interfaces with a device behind them, sorted by name. */
export function wiredInterfaces(found: readonly DiscoveredInterface[]): string[] {
  return found
    .filter((i) => i.type === ARPHRD_ETHER && i.hasDevice && !i.isWireless)
    .map((i) => i.name)
    .sort();
}

/** One interface's part of the plan. */
export interface InterfacePlan {
  name: string;
  dhcp: boolean;
  /** `ip` argv, in order: link up (with mtu), addresses, gateway, routes. */
  commands: string[][];
}

export interface NetworkPlan {
  /** `ip` argv bringing up lo, run first. */
  loopback: string[];
  interfaces: InterfacePlan[];
  /** Interfaces dhcpcd handles (DHCPv4 + SLAAC). */
  dhcpInterfaces: string[];
  /** resolv.conf text when the config names DNS servers; otherwise DHCP's (or the image's). */
  resolvConf: string | undefined;
  /** Interfaces in the config that this machine lacks. */
  missing: string[];
}

function familyFlag(family: 4 | 6): string {
  return family === 4 ? '-4' : '-6';
}

function staticCommands(name: string, settings: NonNullable<NetworkConfig['interfaces']>[string]): string[][] {
  const commands: string[][] = [];
  for (const text of settings.addresses) {
    const cidr = parseCidr(text);
    if (cidr === undefined) continue; // refused by lib/config already
    // replace, not add: a restart of init (or a second apply) must not fail on an address already there.
    commands.push([familyFlag(cidr.family), 'address', 'replace', text, 'dev', name]);
  }
  if (settings.gateway !== undefined) {
    const family = ipFamily(settings.gateway) ?? 4;
    commands.push([familyFlag(family), 'route', 'replace', 'default', 'via', settings.gateway, 'dev', name]);
  }
  for (const route of settings.routes) {
    const family = route.to === 'default' ? (route.via === undefined ? 4 : (ipFamily(route.via) ?? 4)) : (parseCidr(route.to)?.family ?? 4);
    const argv = [familyFlag(family), 'route', 'replace', route.to];
    if (route.via !== undefined) argv.push('via', route.via);
    argv.push('dev', name);
    if (route.metric !== undefined) argv.push('metric', String(route.metric));
    commands.push(argv);
  }
  return commands;
}

/**
 * Plans the network from the config and the interfaces found. Without `network.interfaces`,
 * every wired interface is brought up with DHCP; with it, exactly the listed interfaces that
 * exist are configured (DHCP when `dhcp: true`, or when they have no static address).
 */
export function planNetwork(config: NetworkConfig, found: readonly DiscoveredInterface[]): NetworkPlan {
  const present = new Set(found.map((i) => i.name));
  const interfaces: InterfacePlan[] = [];
  const missing: string[] = [];
  if (config.interfaces === undefined) {
    for (const name of wiredInterfaces(found)) {
      interfaces.push({ name, dhcp: true, commands: [['link', 'set', 'dev', name, 'up']] });
    }
  } else {
    for (const [name, settings] of Object.entries(config.interfaces).sort(([a], [b]) => a.localeCompare(b))) {
      if (!present.has(name)) {
        missing.push(name);
        continue;
      }
      const link = ['link', 'set', 'dev', name];
      if (settings.mtu !== undefined) link.push('mtu', String(settings.mtu));
      link.push('up');
      const dhcp = settings.dhcp ?? settings.addresses.length === 0;
      interfaces.push({ name, dhcp, commands: [link, ...staticCommands(name, settings)] });
    }
  }
  return {
    loopback: ['link', 'set', 'dev', 'lo', 'up'],
    interfaces,
    dhcpInterfaces: interfaces.filter((i) => i.dhcp).map((i) => i.name),
    resolvConf: renderResolvConf(config.dns),
    missing,
  };
}

/** resolv.conf for `network.dns`; undefined when it names no servers (DHCP's DNS is used). */
export function renderResolvConf(dns: NetworkConfig['dns']): string | undefined {
  if (dns.servers.length === 0) return undefined;
  const lines = ['# Written by berth init from the machine config (network.dns)'];
  for (const server of dns.servers) lines.push(`nameserver ${server}`);
  if (dns.search.length > 0) lines.push(`search ${dns.search.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/** One global address on an interface. */
export interface InterfaceAddress {
  interface: string;
  family: 4 | 6;
  /** With its prefix: 10.0.2.15/24. */
  address: string;
}

interface IpJsonAddress {
  family?: unknown;
  local?: unknown;
  prefixlen?: unknown;
  scope?: unknown;
  tentative?: unknown;
  dadfailed?: unknown;
}

/**
 * The global (and site) scope, usable addresses in `ip -json address show` output, lo
 * excluded: what an operator can reach the host on. IPv6 addresses still in duplicate address detection
 * (tentative) or that failed it are left out.
 */
export function parseIpAddresses(json: string): InterfaceAddress[] {
  let links: unknown;
  try {
    links = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(links)) return [];
  const out: InterfaceAddress[] = [];
  for (const link of links as Array<{ ifname?: unknown; addr_info?: unknown }>) {
    if (typeof link.ifname !== 'string' || link.ifname === 'lo' || !Array.isArray(link.addr_info)) continue;
    for (const info of link.addr_info as IpJsonAddress[]) {
      // "site" too: QEMU's user network still hands out deprecated site-local fec0::/64 by SLAAC.
      if ((info.scope !== 'global' && info.scope !== 'site') || info.tentative === true || info.dadfailed === true) continue;
      if (typeof info.local !== 'string' || typeof info.prefixlen !== 'number') continue;
      const family = info.family === 'inet' ? 4 : info.family === 'inet6' ? 6 : undefined;
      if (family === undefined) continue;
      out.push({ interface: link.ifname, family, address: `${info.local}/${info.prefixlen}` });
    }
  }
  return out;
}

/** Addresses in `next` not in `previous` (acquired) and the other way round (lost). */
export function diffAddresses(previous: readonly InterfaceAddress[], next: readonly InterfaceAddress[]): { acquired: InterfaceAddress[]; lost: InterfaceAddress[] } {
  const key = (a: InterfaceAddress): string => `${a.interface} ${a.address}`;
  const before = new Set(previous.map(key));
  const after = new Set(next.map(key));
  return { acquired: next.filter((a) => !before.has(key(a))), lost: previous.filter((a) => !after.has(key(a))) };
}

/** True when every DHCP interface has a global IPv4 address (what BERTH-READY waits for, capped). */
export function hasDhcpAddresses(dhcpInterfaces: readonly string[], addresses: readonly InterfaceAddress[]): boolean {
  return dhcpInterfaces.every((name) => addresses.some((a) => a.interface === name && a.family === 4));
}
