/**
 * dhcpcd (Debian's dhcpcd-base, dhcpcd 10) as data: its config file and argv. One manager
 * process in the foreground handles every DHCP interface: DHCPv4, and IPv6 router
 * advertisements with SLAAC. Pure.
 */
import { TOOLS } from './tools.ts';
import { PATHS } from '../../../lib/layout.ts';

/** Where init writes dhcpcd's config (tmpfs: rewritten every boot from the machine config). */
export const DHCPCD_CONFIG_PATH = PATHS.dhcpcdConfig;
/** Directories dhcpcd needs: leases and DUID (persistent), sockets and pid (runtime). */
export const DHCPCD_DIRS = ['/var/lib/dhcpcd', '/run/dhcpcd'] as const;

export interface DhcpcdOptions {
  interfaces: readonly string[];
  /** True when init writes resolv.conf from the config: dhcpcd must leave it alone. */
  isResolvConfStatic: boolean;
}

/** dhcpcd.conf for the DHCP interfaces. */
export function renderDhcpcdConfig(options: DhcpcdOptions): string {
  const lines = [
    '# Written by berth init from the machine config; dhcpcd runs in the foreground under init.',
    `allowinterfaces ${options.interfaces.join(' ')}`,
    // No udev on berth: with its udev plugin dhcpcd would wait forever for udev to "initialise" each interface.
    'nodev',
    // Send the host name init set, so DHCP servers that update DNS know the host.
    'hostname',
    // A DUID kept on /var: the same client identity across reboots and updates.
    'duid',
    // Keep addresses when dhcpcd exits: a restart by init must not drop the host off the network.
    'persistent',
    'option domain_name_servers, domain_name, domain_search',
    'option classless_static_routes',
    'option interface_mtu',
    'require dhcp_server_identifier',
    // Stable SLAAC addresses derived from the MAC: a server's address should not change.
    'slaac hwaddr',
    // No 169.254/16 address when DHCP is slow: a container host has no use for IPv4LL.
    'noipv4ll',
    // No ARP probe of the offered address before binding it: the DHCP server owns its pool, and the
    // probe (RFC 5227) holds the lease back ~5 s, which BERTH-READY would wait for.
    'noarp',
    // No RFC 2131 randomised start delay (dhcpcd waits 1-2 s before its first DHCP and router
    // solicitation): it spreads a whole building's clients powering up at once, while a server or
    // VM boots on its own and BERTH-READY waits for the lease.
    'nodelay',
    // init owns the host name (machine config) and there is no timesyncd.
    'nohook hostname',
    'nohook timesyncd',
  ];
  if (options.isResolvConfStatic) lines.push('nohook resolv.conf');
  return `${lines.join('\n')}\n`;
}

/** `dhcpcd` argv: the config, foreground (init supervises), manager mode for every interface. */
export function dhcpcdArgv(): { file: string; args: string[] } {
  return { file: TOOLS.dhcpcd, args: ['--config', DHCPCD_CONFIG_PATH, '--nobackground', '--manager'] };
}
