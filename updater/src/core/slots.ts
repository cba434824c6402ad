/**
 * Slot logic of the updater on top of lib/layout and lib/boot-entry: the ordered
 * plan that stages the inactive slot (as data, executed by the shell), the entry
 * renames that bless or condemn a slot, the health gate that decides when to bless,
 * and the detection of what the machine booted after an install. Pure.
 */
import { BerthError } from '../../../lib/errors.ts';
import { parseBootEntry, renderBootEntry, type SlotBootEntry } from '../../../lib/boot-entry.ts';
import {
  BOOT_TRIES,
  ESP_PATHS,
  bootEntryFileName,
  espInitrdPath,
  espKernelPath,
  otherSlot,
  parseBootEntryFileName,
  rootPartitionLabel,
  type Slot,
} from '../../../lib/layout.ts';
import type { BundleManifest } from './bundle-manifest.ts';

/** A file in the ESP's loader/entries directory. */
export interface EspEntryFile {
  /** File name, e.g. `berth-a.conf`. */
  name: string;
  /** Its content; undefined when only the name is known. */
  text?: string;
}

/** ESP-relative path of an entry file. */
export function entryPath(name: string): string {
  return `${ESP_PATHS.entriesDir}/${name}`;
}

/** One step of staging a slot; the shell executes them in order, each to completion. */
export type StageStep =
  | { kind: 'remove-entry'; slot: Slot; path: string }
  | { kind: 'sync-esp' }
  | {
      kind: 'write-root';
      slot: Slot;
      partitionLabel: 'root-a' | 'root-b';
      /** The zstd-compressed erofs image in the bundle, decompressed to offset 0. */
      image: { path: string; compression: 'zstd'; size: number; sha256: string; imageSize: number; imageSha256: string };
      /** The verity hash tree, written at `offset` bytes. */
      hashTree: { path: string; size: number; sha256: string; offset: number };
    }
  | {
      kind: 'verify-root';
      slot: Slot;
      partitionLabel: 'root-a' | 'root-b';
      /** Read back: the first `imageSize` bytes must hash to `imageSha256`. */
      imageSize: number;
      imageSha256: string;
      /** Read back: the hash tree at its offset must hash to `hashTreeSha256`, and verity must agree on the root hash. */
      hashTreeOffset: number;
      hashTreeSize: number;
      hashTreeSha256: string;
      rootHash: string;
      /** Verity parameters to rebuild the tree from the data blocks. */
      dataBlocks: number;
      blockSize: number;
      salt: string;
    }
  | { kind: 'install-file'; source: string; size: number; sha256: string; target: string }
  | { kind: 'write-entry'; slot: Slot; path: string; content: string };

export interface StagePlanInput {
  /** The slot the machine runs from: never written. */
  bootedSlot: Slot;
  manifest: BundleManifest;
  /** Every file in loader/entries, with content for berth's own entries. */
  entries: readonly EspEntryFile[];
  /** Kernel arguments for the new entry (console, panic policy), usually the booted entry's. */
  kernelArgs: readonly string[];
}

export interface StagePlan {
  slot: Slot;
  generation: number;
  entry: SlotBootEntry;
  steps: StageStep[];
}

function parsedEntries(entries: readonly EspEntryFile[]): { file: EspEntryFile; slot: Slot; triesLeft?: number; entry?: SlotBootEntry }[] {
  const out = [];
  for (const file of entries) {
    const name = parseBootEntryFileName(file.name);
    if (!name) continue;
    let entry: SlotBootEntry | undefined;
    if (file.text !== undefined) {
      try {
        entry = parseBootEntry(file.text, entryPath(file.name));
      } catch {
        entry = undefined;
      }
    }
    out.push({ file, slot: name.slot, ...(name.counter ? { triesLeft: name.counter.triesLeft } : {}), ...(entry ? { entry } : {}) });
  }
  return out;
}

/** The generation for a new install: one more than any berth entry on the ESP. */
export function nextGeneration(entries: readonly EspEntryFile[]): number {
  let max = 0;
  for (const e of parsedEntries(entries)) if (e.entry && e.entry.generation > max) max = e.entry.generation;
  return max + 1;
}

/**
 * Plans staging of the inactive slot. The order is the crash-safety argument: the
 * target slot's entry goes first (so a half-written slot is never bootable), then the
 * root is written and read back, then its kernel and initrd, and only then the new
 * entry with a fresh boot counter and the newest generation. At every instant the
 * booted slot's entry stays as a bootable fallback.
 */
export function planStage(input: StagePlanInput): StagePlan {
  const slot = otherSlot(input.bootedSlot);
  const all = parsedEntries(input.entries);
  const fallback = all.filter((e) => e.slot === input.bootedSlot && e.triesLeft !== 0);
  if (fallback.length === 0) {
    throw new BerthError(
      'UPDATER_NO_FALLBACK_ENTRY',
      `Refusing to stage slot ${slot}: the running slot ${input.bootedSlot} has no bootable entry in ${ESP_PATHS.entriesDir}, so a failed update could not fall back`,
    );
  }
  const { manifest } = input;
  const { root, verity, kernel, initrd } = manifest.payload;
  const generation = nextGeneration(input.entries);
  const entry: SlotBootEntry = {
    slot,
    version: manifest.version,
    generation,
    verity: { rootHash: verity.root_hash, dataBlocks: verity.data_blocks, hashStartBlock: verity.hash_start_block, salt: verity.salt },
    kernelArgs: input.kernelArgs,
  };
  const partitionLabel = rootPartitionLabel(slot);
  const hashTreeOffset = verity.hash_start_block * verity.block_size;
  const steps: StageStep[] = [
    ...all.filter((e) => e.slot === slot).map((e): StageStep => ({ kind: 'remove-entry', slot, path: entryPath(e.file.name) })),
    { kind: 'sync-esp' },
    {
      kind: 'write-root',
      slot,
      partitionLabel,
      image: { path: root.path, compression: root.compression, size: root.size, sha256: root.sha256, imageSize: root.image_size, imageSha256: root.image_sha256 },
      hashTree: { path: verity.path, size: verity.size, sha256: verity.sha256, offset: hashTreeOffset },
    },
    {
      kind: 'verify-root',
      slot,
      partitionLabel,
      imageSize: root.image_size,
      imageSha256: root.image_sha256,
      hashTreeOffset,
      hashTreeSize: verity.size,
      hashTreeSha256: verity.sha256,
      rootHash: verity.root_hash,
      dataBlocks: verity.data_blocks,
      blockSize: verity.block_size,
      salt: verity.salt,
    },
    { kind: 'install-file', source: kernel.path, size: kernel.size, sha256: kernel.sha256, target: espKernelPath(slot) },
    { kind: 'install-file', source: initrd.path, size: initrd.size, sha256: initrd.sha256, target: espInitrdPath(slot) },
    { kind: 'sync-esp' },
    { kind: 'write-entry', slot, path: entryPath(bootEntryFileName(slot, { triesLeft: BOOT_TRIES, triesDone: 0 })), content: renderBootEntry(entry) },
    { kind: 'sync-esp' },
  ];
  return { slot, generation, entry, steps };
}

/** Renaming one entry file on the ESP (one rename, as systemd-bless-boot does). */
export interface EntryRename {
  from: string;
  to: string;
}

function entriesOf(names: readonly string[], slot: Slot): { name: string; counter?: { triesLeft: number; triesDone: number } }[] {
  return names.flatMap((name) => {
    const parsed = parseBootEntryFileName(name);
    return parsed?.slot === slot ? [{ name, ...(parsed.counter ? { counter: parsed.counter } : {}) }] : [];
  });
}

function singleEntry(names: readonly string[], slot: Slot, action: string): { name: string; counter?: { triesLeft: number; triesDone: number } } {
  const found = entriesOf(names, slot);
  const first = found[0];
  if (!first || found.length > 1) {
    throw new BerthError(
      'UPDATER_ENTRY_AMBIGUOUS',
      `Cannot ${action} slot ${slot}: expected exactly one entry for it in ${ESP_PATHS.entriesDir}, found ${found.length === 0 ? 'none' : found.map((f) => f.name).join(', ')}`,
    );
  }
  return first;
}

/** Blessing: removes the boot counter (`berth-b+2-1.conf` → `berth-b.conf`); [] when already blessed. */
export function planBless(entryNames: readonly string[], slot: Slot): EntryRename[] {
  const entry = singleEntry(entryNames, slot, 'bless');
  if (!entry.counter) return [];
  return [{ from: entryPath(entry.name), to: entryPath(bootEntryFileName(slot)) }];
}

/**
 * Condemning after a failed health gate: 0 tries left (`berth-b+2-1.conf` →
 * `berth-b+0-1.conf`), so systemd-boot sorts it last and boots the other slot next.
 */
export function planMarkBad(entryNames: readonly string[], slot: Slot): EntryRename[] {
  const entry = singleEntry(entryNames, slot, 'mark bad');
  if (entry.counter?.triesLeft === 0) return [];
  const to = bootEntryFileName(slot, { triesLeft: 0, triesDone: entry.counter?.triesDone ?? 0 });
  return [{ from: entryPath(entry.name), to: entryPath(to) }];
}

/** What the machine runs: from the kernel command line and /proc/sys/kernel/random/boot_id. */
export interface BootIdentity {
  slot: Slot;
  version: string;
  bootId: string;
}

export type BootOutcome = 'same-boot' | 'booted-target' | 'booted-fallback';

/**
 * What happened since `sinceBootId`, the boot in which the agent last acted: nothing
 * (the agent restarted, no reboot), the machine booted the installed slot, or it came
 * up on anything else — the boot counter or the health gate rolled it back.
 */
export function detectBootOutcome(target: { slot: Slot; version: string }, sinceBootId: string, booted: BootIdentity): BootOutcome {
  if (booted.bootId === sinceBootId) return 'same-boot';
  return booted.slot === target.slot && booted.version === target.version ? 'booted-target' : 'booted-fallback';
}

export interface HealthSample {
  /** Milliseconds on a monotonic or wall clock, same as `startedAt`. */
  now: number;
  initUp: boolean;
  /** Names of critical containers (x-berth: { critical: true }) that are not healthy. */
  unhealthyCritical: readonly string[];
  /** Critical containers that ended for good (exited or failed): the gate fails at once. */
  failedCritical?: readonly string[];
}

export interface HealthGateState {
  startedAt: number;
  /** Since when everything has been healthy without interruption. */
  healthySince?: number;
}

export type HealthDecision =
  | { decision: 'wait'; state: HealthGateState }
  | { decision: 'bless' }
  | { decision: 'fail'; reason: string };

/**
 * The health gate of a new boot: bless once init is up and every critical container
 * has been healthy for `soakMs` without interruption; fail when that has not happened
 * within `timeoutMs` of the gate starting.
 */
export function evaluateHealthGate(state: HealthGateState, sample: HealthSample, options: { soakMs: number; timeoutMs: number }): HealthDecision {
  // A critical container that gave up will not come back: waiting out the timeout only delays the rollback.
  if (sample.failedCritical !== undefined && sample.failedCritical.length > 0) return { decision: 'fail', reason: `critical containers failed: ${sample.failedCritical.join(', ')}` };
  const healthy = sample.initUp && sample.unhealthyCritical.length === 0;
  const healthySince = healthy ? (state.healthySince ?? sample.now) : undefined;
  if (healthySince !== undefined && sample.now - healthySince >= options.soakMs) return { decision: 'bless' };
  if (sample.now - state.startedAt >= options.timeoutMs) {
    const reasons = [
      ...(sample.initUp ? [] : ['init not up']),
      ...(sample.unhealthyCritical.length > 0 ? [`critical containers unhealthy: ${sample.unhealthyCritical.join(', ')}`] : []),
    ];
    return { decision: 'fail', reason: reasons.length > 0 ? reasons.join('; ') : 'not healthy for the whole soak period' };
  }
  return { decision: 'wait', state: { startedAt: state.startedAt, ...(healthySince !== undefined ? { healthySince } : {}) } };
}
