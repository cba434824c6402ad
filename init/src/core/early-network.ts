/**
 * The network brought up before the machine config is known (to fetch it from a URL): with the
 * default settings, DHCP on every wired interface. Whether the boot's 'network' stage keeps it or
 * starts over is decided here. Pure.
 */
import type { NetworkConfig } from '../../../lib/config/sections/network.ts';

/** JSON with object keys sorted, so equal settings compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

/**
 * True when the config's network is the one already running: the early network (and its one
 * dhcpcd) is kept. Otherwise it is stopped and the network started again from the config.
 */
export function isSameNetwork(running: NetworkConfig, wanted: NetworkConfig): boolean {
  return canonical(running) === canonical(wanted);
}
