/**
 * Group commit of host reports and the read-only answers a replica may give from its cached
 * view of the semaphores, as pure decisions: which reports go into which etcd transaction,
 * which holders a committed batch releases, and when a cached view may refuse a lock without
 * a transaction (never grant: grants always go through compare-and-swap). Pure.
 */
import type { HostStatus } from '../../../lib/fleet/protocol.ts';
import { reportEndsHold, type Holder } from './semaphore.ts';

/**
 * etcd refuses a transaction with more than 128 operations (`--max-txn-ops`); a report is two
 * puts (the report under its lease and the host's `known` record) and each group of the batch
 * one range; a batch can hold as many groups as hosts, so 3 operations per host: 42 hosts (126).
 * (60 hosts failed in bench:fleet with 'too many operations in txn request' once ten groups met.)
 */
export const MAX_REPORTS_PER_TXN = 42;

/**
 * Splits queued reports into transactions: one entry per host (the last report of a host wins,
 * because etcd refuses a transaction that puts the same key twice), at most `perTxn` hosts each.
 * Returns, per transaction, the queue indexes of the reports it commits and, per host, every
 * queue index that waits for that commit.
 */
export function planReportBatch(ids: readonly string[], perTxn: number = MAX_REPORTS_PER_TXN): { commit: number[]; waiting: Map<string, number[]> }[] {
  const last = new Map<string, number>();
  const waiting = new Map<string, number[]>();
  ids.forEach((id, i) => {
    last.set(id, i);
    waiting.set(id, [...(waiting.get(id) ?? []), i]);
  });
  const chunks: { commit: number[]; waiting: Map<string, number[]> }[] = [];
  for (const [id, index] of last) {
    let chunk = chunks[chunks.length - 1];
    if (!chunk || chunk.commit.length >= perTxn) {
      chunk = { commit: [], waiting: new Map() };
      chunks.push(chunk);
    }
    chunk.commit.push(index);
    chunk.waiting.set(id, waiting.get(id) ?? []);
  }
  return chunks;
}

/** The holders of a group whose host's report (committed in this batch) ends its reboot. */
export function holdersEndedByReports(holders: readonly Holder[], reports: ReadonlyMap<string, HostStatus>): string[] {
  return holders
    .filter((h) => {
      const status = reports.get(h.id);
      return status !== undefined && reportEndsHold(h, status);
    })
    .map((h) => h.id);
}

export interface CachedGroup {
  holders: readonly Holder[];
  slots: number;
}

/**
 * Whether a cached view lets a replica refuse `id` as `full` without a transaction: the group is
 * full, `id` holds nothing (a held slot is confirmed in etcd, because "held" lets a host reboot),
 * and no holder could have expired (every grant is newer than the timeout, so no report can
 * free a slot). A stale view can only refuse a host that would have been granted a moment later;
 * it can never let two hosts hold one slot.
 */
export function isFullFromCache(group: CachedGroup, id: string, nowMs: number, holderTimeoutMs: number): boolean {
  if (group.holders.some((h) => h.id === id)) return false;
  if (group.holders.length < group.slots) return false;
  return group.holders.every((h) => nowMs - h.since_ms <= holderTimeoutMs);
}
