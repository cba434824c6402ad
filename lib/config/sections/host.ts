/**
 * Machine config section for the host's identity: `hostname`. Pure schema.
 */
import { string, type Shape } from '../validate.ts';

/** Default host name when the config names none. */
export const DEFAULT_HOSTNAME = 'berth';

// RFC 1123 labels: letters, digits and inner hyphens, 1-63 characters each, dot-separated.
const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** A host name: RFC 1123 label(s), at most 64 characters (the kernel's HOST_NAME_MAX). */
export const hostname = string({
  pattern: HOSTNAME,
  maxLength: 64,
  expected: 'a host name (RFC 1123: letters, digits and inner hyphens; dot-separated labels of 1-63 characters)',
});

/** `hostname: <name>` (default "berth"). */
export const hostSection = {
  hostname: hostname.default(DEFAULT_HOSTNAME),
} satisfies Shape;
