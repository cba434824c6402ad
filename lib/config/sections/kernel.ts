/**
 * Machine config sections for kernel settings applied at boot: `sysctls` (written to
 * /proc/sys) and `kernel_modules` (loaded with modprobe). Pure schema.
 */
import { array, custom, INVALID, record, string, type Shape } from '../validate.ts';

// Dotted sysctl names as sysctl(8) takes them: net.ipv4.ip_forward, net.ipv4.conf.eth0.rp_filter.
const SYSCTL_KEY = /^[a-z][a-z0-9_]*(?:\.[A-Za-z0-9_-]+)+$/;

/** A sysctl name like "net.ipv4.ip_forward" (dotted, no slashes). */
export const sysctlKey = string({ pattern: SYSCTL_KEY, maxLength: 255, expected: 'a dotted sysctl name like "net.ipv4.ip_forward"' });

/** A sysctl value: a string or a number, on one line. */
export const sysctlValue = custom<string>(
  'a string or a number',
  (value, report) => {
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    if (typeof value !== 'string') {
      if (typeof value === 'boolean') report(`expected a string or a number but got ${String(value)} (write 1 or 0)`);
      return INVALID;
    }
    if (/[\n\r]/.test(value)) {
      report('expected a value on one line');
      return INVALID;
    }
    return value;
  },
  (value) => typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean',
);

// modprobe names: letters, digits, "_" and "-" (modprobe treats them alike).
// No leading '-': the name goes on modprobe's command line, where it would be an option.
const moduleName = string({ pattern: /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/, expected: 'a kernel module name like "br_netfilter"' });

/** `sysctls: { <dotted.key>: <string|number> }` and `kernel_modules: [<name>, ...]`. */
export const kernelSection = {
  sysctls: record(sysctlValue, { key: sysctlKey }).default({}),
  kernel_modules: array(moduleName).default([]),
} satisfies Shape;
