/**
 * The per-group reboot semaphore as pure decisions: who holds a slot, whether a host may take
 * one, which holders have expired and which reports end a hold. The store applies a decision
 * with one etcd transaction that compares revisions and retries on conflict. Pure.
 */
import type { HaltInfo, HostStatus } from '../../../lib/fleet/protocol.ts';

/** One host holding a reboot slot. */
export interface Holder {
  id: string;
  /** The version it is moving to, when its report said so (a Zincati host does not). */
  target_version?: string;
  /** When the slot was granted, ms since the epoch. */
  since_ms: number;
}

/** The value stored at `locks/<group>`. */
export interface SemaphoreValue {
  holders: Holder[];
}

export interface LockInput {
  holders: readonly Holder[];
  slots: number;
  id: string;
  targetVersion: string | undefined;
  /** The halt in force for `targetVersion`, if any. */
  halt: HaltInfo | undefined;
  nowMs: number;
  /** Last report time per holder id (absent: none kept). */
  lastSeenMs: ReadonlyMap<string, number>;
  holderTimeoutMs: number;
}

export type LockDecision =
  /** The host already holds a slot: recursive, nothing to write. */
  | { outcome: 'held' }
  | { outcome: 'granted'; holders: Holder[]; expired: Holder[] }
  /** No free slot; `holders` drops expired ones (write it when `expired` is non-empty). */
  | { outcome: 'full'; holders: Holder[]; expired: Holder[] }
  | { outcome: 'halted'; halt: HaltInfo };

/**
 * A holder has expired when neither its grant nor its last report is more recent than the
 * timeout: a rebooting host reports again within a boot (minutes), a dead one never does.
 */
export function isHolderExpired(holder: Holder, lastSeenMs: number | undefined, nowMs: number, timeoutMs: number): boolean {
  const last = Math.max(holder.since_ms, lastSeenMs ?? 0);
  return nowMs - last > timeoutMs;
}

/** Splits holders into kept and expired. */
export function expireHolders(holders: readonly Holder[], lastSeenMs: ReadonlyMap<string, number>, nowMs: number, timeoutMs: number): { kept: Holder[]; expired: Holder[] } {
  const kept: Holder[] = [];
  const expired: Holder[] = [];
  for (const h of holders) (isHolderExpired(h, lastSeenMs.get(h.id), nowMs, timeoutMs) ? expired : kept).push(h);
  return { kept, expired };
}

/** RecursiveLock: keep a held slot, refuse a halted version, else grant if a slot is free. */
export function decideLock(input: LockInput): LockDecision {
  if (input.holders.some((h) => h.id === input.id)) return { outcome: 'held' };
  if (input.halt) return { outcome: 'halted', halt: input.halt };
  const { kept, expired } = expireHolders(input.holders, input.lastSeenMs, input.nowMs, input.holderTimeoutMs);
  // A lowered slot count never evicts holders; it only stops grants until enough have left.
  if (kept.length >= input.slots) return { outcome: 'full', holders: kept, expired };
  const holder: Holder = { id: input.id, since_ms: input.nowMs, ...(input.targetVersion !== undefined ? { target_version: input.targetVersion } : {}) };
  return { outcome: 'granted', holders: [...kept, holder], expired };
}

/** UnlockIfHeld: the holders without `id`, or undefined when it held nothing (no write). */
export function decideUnlock(holders: readonly Holder[], id: string): Holder[] | undefined {
  return holders.some((h) => h.id === id) ? holders.filter((h) => h.id !== id) : undefined;
}

/**
 * True when a report shows the holder's reboot is over: steady on the version it moved to, or
 * back on the old one after a rollback or failure. Reports of a reboot in progress keep the hold.
 */
export function reportEndsHold(holder: Holder, status: HostStatus): boolean {
  if (status.phase === 'rolled-back' || status.phase === 'failed') return true;
  if (holder.target_version === undefined) return false;
  return (status.phase === 'succeeded' || status.phase === 'idle') && status.version === holder.target_version;
}

/** The version a host is moving to, from its report: only while an update is under way. */
export function targetOfReport(status: HostStatus | undefined): string | undefined {
  if (!status || status.target_version === undefined) return undefined;
  return ['downloading', 'verifying', 'staged', 'rebooting', 'confirming'].includes(status.phase) ? status.target_version : undefined;
}

/** Parses a stored semaphore value; anything unreadable is an empty semaphore only when absent. */
export function parseSemaphore(text: string | undefined): SemaphoreValue {
  if (text === undefined) return { holders: [] };
  const value = JSON.parse(text) as SemaphoreValue;
  if (!Array.isArray(value.holders)) throw new Error('Stored semaphore has no holders list');
  return value;
}
