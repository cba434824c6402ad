/**
 * Machine config section `network`: how the host gets on the network. Without `interfaces`,
 * every wired interface gets DHCPv4 and IPv6 SLAAC; listed interfaces get static addresses,
 * a gateway and routes (or DHCP when they ask for it), unlisted ones stay unconfigured.
 * `dns` sets resolv.conf's servers and search domains. Pure schema and address parsing.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { array, boolean, custom, integer, INVALID, object, record, string, type Infer, type Shape } from '../validate.ts';

/** An address with its prefix length, as `ip address add` takes it. */
export interface Cidr {
  readonly family: 4 | 6;
  /** The address as written, without the prefix. */
  readonly address: string;
  readonly prefix: number;
}

/** Parses `10.0.2.15/24` or `fd00::5/64`; undefined for anything else. */
export function parseCidr(text: string): Cidr | undefined {
  const match = /^([^/\s]+)\/(\d{1,3})$/.exec(text);
  if (match === null) return undefined;
  const [, address = '', prefixText = ''] = match;
  const family = ipFamily(address);
  const prefix = Number(prefixText);
  if (family === undefined || prefix > (family === 4 ? 32 : 128) || String(prefix) !== prefixText) return undefined;
  return { family, address, prefix };
}

/** 4 or 6 for an IP address without a prefix (IPv6 zone indexes refused), else undefined. */
export function ipFamily(text: string): 4 | 6 | undefined {
  if (isIPv4(text)) return 4;
  if (isIPv6(text) && !text.includes('%')) return 6;
  return undefined;
}

const ipAddress = custom<string>(
  'an IPv4 or IPv6 address like "10.0.2.2" or "fd00::1"',
  (value) => (typeof value === 'string' && ipFamily(value) !== undefined ? value : INVALID),
  (value) => typeof value === 'string',
);

const cidr = custom<string>(
  'an address with a prefix length like "10.0.2.15/24" or "fd00::5/64"',
  (value) => (typeof value === 'string' && parseCidr(value) !== undefined ? value : INVALID),
  (value) => typeof value === 'string',
);

const destination = custom<string>(
  'a destination like "192.168.0.0/16", "fd00:1::/48" or "default"',
  (value) => (value === 'default' || (typeof value === 'string' && parseCidr(value) !== undefined) ? value : INVALID),
  (value) => typeof value === 'string',
);

// Kernel interface names: at most 15 bytes (IFNAMSIZ - 1), no slash, colon or space; not "." or "..".
const INTERFACE_NAME = /^(?!\.{1,2}$)[A-Za-z0-9_.@-]{1,15}$/;

/** A network interface name as the kernel knows it (eth0, enp0s3, ens4). */
export const interfaceName = string({ pattern: INTERFACE_NAME, expected: 'an interface name like "eth0" (1-15 letters, digits, "_", "-", ".")' });

// RFC 1123 host names, used as DNS search domains.
const DOMAIN = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

const route = object({
  to: destination,
  via: ipAddress.optional(),
  metric: integer({ min: 0, max: 4_294_967_295 }).optional(),
}).refine((value, report) => {
  const to = value.to === 'default' ? undefined : parseCidr(value.to);
  if (value.via !== undefined && to !== undefined && ipFamily(value.via) !== to.family) {
    report(`"via" ${value.via} is not of the same address family as "to" ${value.to}`, { path: ['via'] });
  }
});

const interfaceConfig = object({
  /** DHCPv4 + SLAAC on this interface; default: on when no static address is given. */
  dhcp: boolean().optional(),
  addresses: array(cidr).default([]),
  gateway: ipAddress.optional(),
  routes: array(route).default([]),
  mtu: integer({ min: 68, max: 65_535 }).optional(),
}).refine((value, report) => {
  if (value.gateway !== undefined) {
    const family = ipFamily(value.gateway);
    // An IPv6 gateway is usually link-local (fe80::1), reachable without an address of its own.
    if (family === 4 && !value.addresses.some((a) => parseCidr(a)?.family === 4) && value.dhcp !== true) {
      report('an IPv4 gateway needs an IPv4 address on the interface (add one to "addresses", or set dhcp: true)', { path: ['gateway'] });
    }
  }
  if (value.dhcp === false && value.addresses.length === 0 && value.routes.length === 0 && value.gateway === undefined) {
    report('the interface has neither DHCP nor addresses: it is brought up without any address', { warning: true });
  }
});

/** One interface's settings under `network.interfaces.<name>`. */
export type InterfaceConfig = Infer<typeof interfaceConfig>;

const dns = object({
  servers: array(ipAddress, { maxItems: 3 }).default([]),
  search: array(string({ pattern: DOMAIN, expected: 'a domain name like "example.com"' }), { maxItems: 6 }).default([]),
}).refine((value, report) => {
  // resolv.conf is written whole, by berth (servers given) or by the DHCP client (not given).
  if (value.search.length > 0 && value.servers.length === 0) report('"search" needs "servers" too (without servers, DNS settings come from DHCP)', { path: ['search'] });
});

const network = object({
  /** Absent: DHCP on every wired interface. Present: only these interfaces are configured. */
  interfaces: record(interfaceConfig, { key: interfaceName }).optional(),
  dns: dns.default(),
});

/** The `network` section after validation. */
export type NetworkConfig = Infer<typeof network>;

/**
 * `network: { interfaces: { <name>: { dhcp, addresses, gateway, routes, mtu } }, dns: { servers, search } }`;
 * by default DHCPv4 and SLAAC on every wired interface and DNS from DHCP.
 */
export const networkSection = {
  network: network.default(),
} satisfies Shape;
