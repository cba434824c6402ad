/**
 * Boot Loader Specification Type #1 entries for berth's slots, rendered and parsed as
 * pure data. Ordering contract with systemd-boot: every entry has `sort-key berth`
 * and `version <generation>`, where the generation grows with every install, so
 * systemd-boot's newest-first order tries the most recent install, and an entry whose
 * boot counter reached 0 sorts after the other slot: that is the automatic rollback.
 */
import { BerthError } from './errors.ts';
import { CMDLINE_KEYS, espInitrdPath, espKernelPath, isSlot, type Slot } from './layout.ts';

export interface VerityParams {
  rootHash: string;
  dataBlocks: number;
  hashStartBlock: number;
  salt: string;
}

export interface SlotBootEntry {
  slot: Slot;
  /** berth version of the root in this slot. */
  version: string;
  /** Install generation: larger is newer and preferred. */
  generation: number;
  verity: VerityParams;
  /** Extra kernel arguments (console, panic policy, ...). */
  kernelArgs: readonly string[];
}

/** The kernel command line of a slot's entry. */
export function slotKernelCommandLine(entry: SlotBootEntry): string {
  const v = entry.verity;
  return [
    ...entry.kernelArgs,
    `${CMDLINE_KEYS.slot}=${entry.slot}`,
    `${CMDLINE_KEYS.version}=${entry.version}`,
    `${CMDLINE_KEYS.rootHash}=${v.rootHash}`,
    `${CMDLINE_KEYS.verity}=${v.dataBlocks}:${v.hashStartBlock}:${v.salt}`,
  ].join(' ');
}

/** Renders the `.conf` text of a slot's Type #1 entry. */
export function renderBootEntry(entry: SlotBootEntry): string {
  return [
    `title berth ${entry.version} (slot ${entry.slot})`,
    `sort-key berth`,
    `version ${entry.generation}`,
    `linux /${espKernelPath(entry.slot)}`,
    `initrd /${espInitrdPath(entry.slot)}`,
    `options ${slotKernelCommandLine(entry)}`,
    '',
  ].join('\n');
}

/** Parses an entry written by renderBootEntry, for the updater and status reports. */
export function parseBootEntry(text: string, source = 'boot entry'): SlotBootEntry {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const space = trimmed.indexOf(' ');
    if (space < 0) continue;
    fields.set(trimmed.slice(0, space), trimmed.slice(space + 1).trim());
  }
  const options = parseKernelCommandLine(fields.get('options') ?? '');
  const slot = options.get(CMDLINE_KEYS.slot);
  const version = options.get(CMDLINE_KEYS.version);
  const rootHash = options.get(CMDLINE_KEYS.rootHash);
  const verity = options.get(CMDLINE_KEYS.verity)?.split(':');
  const generation = Number(fields.get('version'));
  if (!isSlot(slot) || !version || !rootHash || verity?.length !== 3 || !Number.isInteger(generation)) {
    throw new BerthError('BOOT_ENTRY_INVALID', `Cannot read ${source}: it lacks the slot, version, generation or verity parameters berth writes`);
  }
  const ownKeys = new Set<string>(Object.values(CMDLINE_KEYS));
  const kernelArgs = (fields.get('options') ?? '')
    .split(/\s+/)
    .filter((arg) => arg !== '' && !ownKeys.has(arg.split('=')[0] ?? ''));
  return {
    slot,
    version,
    generation,
    verity: {
      rootHash,
      dataBlocks: Number(verity[0]),
      hashStartBlock: Number(verity[1]),
      salt: verity[2] ?? '',
    },
    kernelArgs,
  };
}

/** Splits a kernel command line into key → value (flags map to ''). Later keys win. */
export function parseKernelCommandLine(cmdline: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const token of cmdline.trim().split(/\s+/)) {
    if (token === '') continue;
    const eq = token.indexOf('=');
    if (eq < 0) out.set(token, '');
    else out.set(token.slice(0, eq), token.slice(eq + 1).replace(/^"(.*)"$/, '$1'));
  }
  return out;
}

/** loader.conf: no menu delay, only berth's entries are candidates for default, and no kernel command-line editing at the console (it would bypass the pinned verity root hash). */
export function renderLoaderConf(): string {
  return ['timeout 0', 'default berth-*', 'editor no', 'auto-firmware no', ''].join('\n');
}
