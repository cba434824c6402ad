/**
 * Machine config section `container_network`: the one bridge network that containers with
 * `network_mode: bridge` join (CNI bridge + host-local IPAM). The host is the gateway at the
 * subnet's first address. Pure schema and IPv4 subnet arithmetic.
 */
import { integer, object, string, type Infer, type Shape } from '../validate.ts';
import { interfaceName } from './network.ts';

/** An IPv4 subnet as numbers: the network address and the prefix length. */
export interface Ipv4Subnet {
  readonly network: number;
  readonly prefix: number;
}

function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^(?:0|[1-9]\d{0,2})$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

/** Dotted-quad text of a 32-bit address. */
export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/**
 * Parses an IPv4 subnet like `10.88.0.0/16` (prefix 8-30, no host bits set); undefined otherwise,
 * so a typo such as 10.88.0.1/16 is reported rather than silently widened.
 */
export function parseIpv4Subnet(text: string): Ipv4Subnet | undefined {
  const match = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  if (match === null) return undefined;
  const network = parseIpv4(match[1] ?? '');
  const prefix = Number(match[2]);
  if (network === undefined || prefix < 8 || prefix > 30) return undefined;
  if (network % 2 ** (32 - prefix) !== 0) return undefined;
  return { network, prefix };
}

/** The host's (gateway) address on the bridge: the subnet's first address, as host-local assumes. */
export function gatewayOf(subnet: Ipv4Subnet): string {
  return formatIpv4(subnet.network + 1);
}

const subnet = string({
  pattern: /^[\d.]+\/\d{1,2}$/,
  expected: 'an IPv4 subnet like "10.88.0.0/16" (prefix 8-30)',
}).refine((text, report) => {
  if (parseIpv4Subnet(text) === undefined) report(`"${text}" is not an IPv4 network address with a prefix of 8-30 (no host bits set), like "10.88.0.0/16"`);
});

const containerNetwork = object({
  /** Addresses for containers; the host takes the first one as the bridge's address and gateway. */
  subnet: subnet.default('10.88.0.0/16'),
  /** The Linux bridge on the host. */
  bridge: interfaceName.default('berth0'),
  /** MTU of the bridge and the containers' interfaces; default: the kernel's (1500). */
  mtu: integer({ min: 576, max: 65_535 }).optional(),
});

/** The `container_network` section after validation. */
export type ContainerNetworkConfig = Infer<typeof containerNetwork>;

/** `container_network: { subnet: 10.88.0.0/16, bridge: berth0, mtu }`; all optional. */
export const containerNetworkSection = {
  container_network: containerNetwork.default(),
} satisfies Shape;
