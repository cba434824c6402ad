/**
 * chronyd (Debian's chrony) as data: its config file from `ntp.servers`, and argv. chronyd
 * steps the clock at start when it is far off, then slews, and keeps the RTC in step. No
 * servers configured means no chronyd. Pure.
 */
import { TOOLS } from './tools.ts';
import { PATHS } from '../../../lib/layout.ts';

/** Where init writes chronyd's config (tmpfs: rewritten every boot from the machine config). */
export const CHRONY_CONFIG_PATH = PATHS.chronyConfig;
/** The drift file's directory, on /var; chronyd writes it as its own user. */
export const CHRONY_STATE_DIR = '/var/lib/chrony';
/** chronyd drops root for this user (Debian's build default). */
export const CHRONY_USER = '_chrony';

/** chrony.conf for the configured servers. */
export function renderChronyConfig(servers: readonly string[]): string {
  const lines = ['# Written by berth init from the machine config (ntp.servers).'];
  // iburst: four quick polls at start, so the first step comes within seconds of boot.
  for (const server of servers) lines.push(`server ${server} iburst`);
  lines.push(
    `driftfile ${CHRONY_STATE_DIR}/chrony.drift`,
    // Step (not slew) when more than 1 s off, in the first three updates: a VM's clock at boot can be far off.
    'makestep 1 3',
    // The kernel copies system time to the RTC every 11 minutes.
    'rtcsync',
    // No NTP service to others, no remote command port; chronyc still works over the local socket.
    'cmdport 0',
    '',
  );
  return lines.join('\n');
}

/** `chronyd` argv: foreground with logs on stderr (-d), the generated config. */
export function chronydArgv(): { file: string; args: string[] } {
  return { file: TOOLS.chronyd, args: ['-d', '-f', CHRONY_CONFIG_PATH] };
}

/** uid and gid of `user` in /etc/passwd text, undefined when absent. */
export function lookupUser(passwd: string, user: string): { uid: number; gid: number } | undefined {
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name === user && /^\d+$/.test(uid ?? '') && /^\d+$/.test(gid ?? '')) return { uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}
