/**
 * Which slot and version this boot is, from the kernel command line the boot entry
 * wrote (berth.slot, berth.version). Pure.
 */
import { parseKernelCommandLine } from '../../../lib/boot-entry.ts';
import { BerthError } from '../../../lib/errors.ts';
import { CMDLINE_KEYS, isSlot, type Slot } from '../../../lib/layout.ts';

export interface BootIdentity {
  slot: Slot;
  version: string;
}

/** Reads slot and version; throws INIT_CMDLINE_INVALID naming what is missing. */
export function bootIdentity(cmdline: string): BootIdentity {
  const args = parseKernelCommandLine(cmdline);
  const slot = args.get(CMDLINE_KEYS.slot);
  const version = args.get(CMDLINE_KEYS.version);
  if (!isSlot(slot) || version === undefined || version === '') {
    const problems: string[] = [];
    if (!isSlot(slot)) problems.push(`${CMDLINE_KEYS.slot}=a|b`);
    if (version === undefined || version === '') problems.push(`${CMDLINE_KEYS.version}=<version>`);
    throw new BerthError(
      'INIT_CMDLINE_INVALID',
      `Kernel command line lacks ${problems.join(' and ')}: the boot entry must name the slot and version`,
    );
  }
  return { slot, version };
}
