/**
 * Machine config sections for time: `ntp.servers` (the NTP servers chrony follows; none means no
 * time sync) and `time_zone` (an IANA name the image's tzdata holds). Pure schema.
 */
import { array, custom, INVALID, object, string, type Shape } from '../validate.ts';
import { TIME_ZONE_NAMES } from './time-zones.ts';

/** Default time zone: the one a host gets when the config names none. */
export const DEFAULT_TIME_ZONE = 'UTC';

// A host name, IPv4 address, or IPv6 address (chrony takes all three as a server).
const NTP_SERVER = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|[0-9A-Fa-f:.]+)$/;

const ntpServer = string({ pattern: NTP_SERVER, maxLength: 253, expected: 'an NTP server host name or address like "pool.ntp.org" or "192.0.2.1"' });

/** An IANA time zone name present in the image's /usr/share/zoneinfo. */
export const timeZone = custom<string>(
  'an IANA time zone name like "Europe/Berlin" or "UTC"',
  (value, report) => {
    if (typeof value !== 'string') return INVALID;
    if (TIME_ZONE_NAMES.has(value)) return value;
    const lower = value.toLowerCase();
    const near = [...TIME_ZONE_NAMES].find((name) => name.toLowerCase() === lower);
    report(`unknown time zone ${JSON.stringify(value)}${near === undefined ? ' (expected an IANA name like "Europe/Berlin" or "UTC")' : ` (did you mean "${near}"?)`}`);
    return INVALID;
  },
  (value) => typeof value === 'string',
);

/** `ntp: { servers: [...] }` (default: none, so no time sync) and `time_zone: <IANA name>` (default UTC). */
export const timeSection = {
  ntp: object({
    servers: array(ntpServer, { maxItems: 16 }).default([]),
  }).default(),
  time_zone: timeZone.default(DEFAULT_TIME_ZONE),
} satisfies Shape;
