/**
 * Blessing a boot entry the systemd way: after a healthy boot the booted slot's entry
 * loses its boot counter (berth-a+2-1.conf -> berth-a.conf) in one rename. Pure: picks
 * the rename from the entry file names.
 */
import { bootEntryFileName, parseBootEntryFileName, type Slot } from '../../../lib/layout.ts';

export type BlessAction =
  | { kind: 'rename'; from: string; to: string }
  | { kind: 'none'; reason: 'already-blessed' | 'no-entry' };

/** Chooses the rename for `slot` among the names in loader/entries. */
export function chooseBlessAction(entryNames: readonly string[], slot: Slot): BlessAction {
  const blessedName = bootEntryFileName(slot);
  const counted = entryNames
    .filter((name) => {
      const parsed = parseBootEntryFileName(name);
      return parsed?.slot === slot && parsed.counter !== undefined;
    })
    .sort();
  const first = counted[0];
  // A counted entry wins over a blessed one: it is the entry systemd-boot just booted
  // (the updater writes fresh entries with a counter), and rename replaces atomically.
  if (first !== undefined) return { kind: 'rename', from: first, to: blessedName };
  if (entryNames.includes(blessedName)) return { kind: 'none', reason: 'already-blessed' };
  return { kind: 'none', reason: 'no-entry' };
}
