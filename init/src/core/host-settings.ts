/**
 * Host settings from the machine config as data: sysctl names to /proc/sys paths, and the
 * time zone's /etc/localtime link. Pure.
 */
import { BerthError } from '../../../lib/errors.ts';

/** /proc/sys path of a dotted sysctl name (net.ipv4.ip_forward -> /proc/sys/net/ipv4/ip_forward). */
export function sysctlPath(key: string): string {
  // lib/config refuses slashes and empty parts; guard the path built here all the same.
  if (!/^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/.test(key)) throw new BerthError('CONFIG_INVALID', `Refusing sysctl name "${key}": expected dotted parts of letters, digits, "_" and "-"`);
  return `/proc/sys/${key.split('.').join('/')}`;
}

/** The sysctl writes, in the config's order. */
export function planSysctls(sysctls: Readonly<Record<string, string>>): { key: string; path: string; value: string }[] {
  return Object.entries(sysctls).map(([key, value]) => ({ key, path: sysctlPath(key), value }));
}

export const LOCALTIME_PATH = '/etc/localtime';
export const TIMEZONE_PATH = '/etc/timezone';
export const ZONEINFO_DIR = '/usr/share/zoneinfo';

/** The /etc/localtime link target and /etc/timezone text for an IANA zone name. */
export function planTimeZone(zone: string): { link: string; target: string; timezoneFile: string; zoneFile: string } {
  if (zone.split('/').some((part) => part === '' || part === '.' || part === '..')) throw new BerthError('CONFIG_INVALID', `Refusing time zone "${zone}": not a zone name`);
  const zoneFile = `${ZONEINFO_DIR}/${zone}`;
  return { link: LOCALTIME_PATH, target: zoneFile, timezoneFile: `${zone}\n`, zoneFile };
}
