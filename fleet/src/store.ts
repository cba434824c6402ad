/**
 * The coordinator's operations on its etcd state: lock and release with compare-and-swap
 * transactions retried on conflict, reports kept under a lease, the halt policy, the admin
 * operations and the fleet view. Holds no state of its own beyond a lease cache, so any number
 * of replicas may run. Effects: etcd requests through EtcdClient.
 */
import { BerthError } from '../../lib/errors.ts';
import type { HaltInfo, HostReport, HostStatus } from '../../lib/fleet/protocol.ts';
import { evaluateHalt, type HaltPolicy } from './core/halt-policy.ts';
import { fleetKeys, type FleetKeys } from './core/keys.ts';
import { decideLock, decideUnlock, expireHolders, parseSemaphore, reportEndsHold, targetOfReport, type Holder } from './core/semaphore.ts';
import { holdersEndedByReports, isFullFromCache, planReportBatch } from './core/report-batch.ts';
import { EtcdRequestError, type EtcdClient, type Compare, type Op, type KeyValue } from './etcd.ts';
import { StateCache } from './state-cache.ts';

export interface StoreSettings {
  prefix: string;
  /** Slots of a group without its own setting. */
  defaultSlots: number;
  /** A holder silent this long (no report, no grant) is released. */
  holderTimeoutMs: number;
  /** A report lives this long without a newer one (its lease). */
  reportTtlMs: number;
  haltPolicy: HaltPolicy;
  /** Compare-and-swap attempts before a request fails (each conflict means another replica wrote). */
  maxAttempts: number;
  /**
   * Reports wait up to this long to be committed together in one transaction (group commit);
   * each is answered after its transaction commits. Reports arriving while a commit is under
   * way join the next one. Default 0: committed at the next turn of the event loop.
   */
  reportBatchMs?: number;
  /** Refresh period of the replica's read-only view of semaphores and halts; 0 or absent: no view, every request reads etcd. */
  cacheRefreshMs?: number;
}

/** What a committed report did. */
export interface ReportOutcome {
  released: boolean;
  halted: HaltInfo[];
}

interface PendingReport {
  report: HostReport;
  /** When the replica received it: the host's last-seen time, whatever etcd's latency. */
  receivedMs: number;
  resolve: (outcome: ReportOutcome) => void;
  reject: (error: unknown) => void;
}

/** A stored report. */
export interface StoredReport {
  group: string;
  status: HostStatus;
  received_ms: number;
}

/** A stored halt record; `resumed` keeps the failure count at resume as the new baseline. */
export interface HaltRecord extends HaltInfo {
  state: 'halted' | 'resumed';
  baseline: number;
}

export type LockOutcome = { outcome: 'granted' | 'held' } | { outcome: 'full'; slots: number; holders: Holder[] } | { outcome: 'halted'; halt: HaltInfo };

export interface GroupView {
  group: string;
  slots: number;
  /** True when the group has its own slot setting. */
  configured: boolean;
  holders: Holder[];
}

export interface HostView {
  id: string;
  group: string;
  /** Undefined when the report expired (the host is gone). */
  status: HostStatus | undefined;
  last_seen_ms: number;
}

export interface FleetSnapshot {
  now_ms: number;
  groups: GroupView[];
  hosts: HostView[];
  halts: HaltRecord[];
}

/** Counters a replica keeps for logs and the benchmark. */
export interface StoreCounters {
  conflicts: number;
  grants: number;
  expired: number;
  reportReleases: number;
  halts: number;
  /** Report transactions committed and the reports they carried (group commit). */
  reportTxns: number;
  reportsCommitted: number;
}

function parseJson<T>(kv: KeyValue | undefined, what: string): T | undefined {
  if (!kv) return undefined;
  try {
    return JSON.parse(kv.value) as T;
  } catch (error) {
    throw new BerthError('FLEET_STORE_CORRUPT', `etcd key ${kv.key} (${what}) is not JSON; delete or fix it`, { cause: error });
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class FleetStore {
  readonly keys: FleetKeys;
  readonly counters: StoreCounters = {
    conflicts: 0,
    grants: 0,
    expired: 0,
    reportReleases: 0,
    halts: 0,
    reportTxns: 0,
    reportsCommitted: 0,
  };
  /** The replica's read-only view (undefined when disabled). */
  readonly cache: StateCache | undefined;
  private lease: { id: string; untilMs: number } | undefined;
  private queue: PendingReport[] = [];
  private readonly groupQueues = new Map<string, Promise<void>>();
  private flushing = false;
  private flushTimer: NodeJS.Timeout | undefined;
  /** Failures (version, host) known to be recorded in etcd; they are never deleted, so a repeat needs no transaction. */
  private readonly recordedFailures = new Set<string>();

  constructor(
    private readonly etcd: EtcdClient,
    private readonly settings: StoreSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.keys = fleetKeys(settings.prefix);
    this.cache = settings.cacheRefreshMs !== undefined && settings.cacheRefreshMs > 0 ? new StateCache(etcd, this.keys, settings.cacheRefreshMs) : undefined;
  }

  /** Starts the cache's refresh timer. */
  start(): void {
    this.cache?.start();
  }

  /** Stops the cache's refresh timer; queued reports are still committed. */
  stop(): void {
    this.cache?.stop();
  }

  /** Runs one compare-and-swap round until it settles; `round` returns undefined on a lost race. */
  private async retrying<T>(what: string, round: () => Promise<T | undefined>): Promise<T> {
    for (let attempt = 1; attempt <= this.settings.maxAttempts; attempt += 1) {
      const result = await round();
      if (result !== undefined) return result;
      this.counters.conflicts += 1;
      // Jittered backoff so replicas racing for one key spread out.
      await sleep(Math.random() * Math.min(200, 5 * attempt));
    }
    throw new BerthError('FLEET_CONFLICT_RETRIES', `${what}: still conflicting after ${this.settings.maxAttempts} attempts; another replica writes the same key too often`);
  }

  private slotsOf(kv: KeyValue | undefined): number {
    return parseJson<{ slots: number }>(kv, 'group')?.slots ?? this.settings.defaultSlots;
  }

  private async lastSeen(ids: readonly string[]): Promise<Map<string, number>> {
    const seen = new Map<string, number>();
    if (ids.length === 0) return seen;
    const read = await this.etcd.txn(
      [],
      ids.map((id) => ({ range: { key: this.keys.report(id) } })),
    );
    read.ranges.forEach((r, i) => {
      const report = parseJson<StoredReport>(r?.kvs[0], 'report');
      if (report) seen.set(ids[i] as string, report.received_ms);
    });
    return seen;
  }

  /** Holders granted longer ago than the timeout: only their reports can matter (a newer grant alone keeps a holder). */
  private possiblyExpired(holders: readonly Holder[]): string[] {
    const nowMs = this.now();
    return holders.filter((h) => nowMs - h.since_ms > this.settings.holderTimeoutMs).map((h) => h.id);
  }

  private activeHalt(kv: KeyValue | undefined): HaltInfo | undefined {
    const record = parseJson<HaltRecord>(kv, 'halt');
    return record?.state === 'halted'
      ? {
          version: record.version,
          reason: record.reason,
          by: record.by,
          since: record.since,
        }
      : undefined;
  }

  /**
   * A refusal from the replica's view when the group is visibly full of live holders (see
   * isFullFromCache); undefined when the request must go to etcd. While a halt is in force the
   * host's target is read from its report, and a host moving to a halted version goes to etcd
   * so its refusal carries the halt as stored.
   */
  private async lockFromCache(id: string, group: string): Promise<LockOutcome | undefined> {
    const cache = this.cache;
    const view = cache?.group(group, this.settings.defaultSlots);
    if (!cache || !view || !isFullFromCache(view, id, this.now(), this.settings.holderTimeoutMs)) return undefined;
    if (cache.hasActiveHalt()) {
      const target = targetOfReport(parseJson<StoredReport>(await this.etcd.get(this.keys.report(id)), 'report')?.status);
      if (target !== undefined && cache.isHalted(target)) return undefined;
    }
    cache.hits += 1;
    return { outcome: 'full', slots: view.slots, holders: [...view.holders] };
  }

  /**
   * Runs `work` after every earlier lock request of this replica for `group` has finished. Lock
   * requests for one group all compare-and-swap the same key: run concurrently, all but one
   * lose and retry, so queueing them costs less etcd work than racing. Replicas still race.
   */
  private serialized<T>(group: string, work: () => Promise<T>): Promise<T> {
    const before = this.groupQueues.get(group) ?? Promise.resolve();
    const run = before.then(work, work);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.groupQueues.set(group, tail);
    void tail.then(() => {
      if (this.groupQueues.get(group) === tail) this.groupQueues.delete(group);
    });
    return run;
  }

  /**
   * FleetLock RecursiveLock for `id` in `group`. `signal` aborts when the client has gone: a
   * request still queued then does nothing (under saturation a client that timed out has
   * already sent its retry, and serving both would double the work etcd cannot keep up with).
   */
  async lock(id: string, group: string, signal?: AbortSignal): Promise<LockOutcome> {
    const cached = await this.lockFromCache(id, group);
    if (cached) return cached;
    // Queued behind this replica's other requests for the group; the view may show it full by then.
    return this.serialized(group, async () => {
      if (signal?.aborted) throw new BerthError('FLEET_REQUEST_ABANDONED', `Lock request of ${id} in group ${group} dropped: the client closed the connection while it waited`);
      return (await this.lockFromCache(id, group)) ?? this.lockInEtcd(id, group);
    });
  }

  private lockInEtcd(id: string, group: string): Promise<LockOutcome> {
    return this.retrying(`Locking ${id} in group ${group}`, async () => {
      const k = this.keys;
      // One read for everything the decision needs; the halts are few, so all of them are read
      // here rather than a second range once the host's target is known.
      const read = await this.etcd.txn([], [{ range: { key: k.lock(group) } }, { range: { key: k.group(group) } }, { range: { key: k.report(id) } }, { range: { key: k.halts, prefix: true } }]);
      const lockKv = read.ranges[0]?.kvs[0];
      const groupKv = read.ranges[1]?.kvs[0];
      const report = parseJson<StoredReport>(read.ranges[2]?.kvs[0], 'report');
      const holders = parseSemaphore(lockKv?.value).holders;
      this.cache?.noteLock(group, holders, lockKv?.modRevision ?? 0);
      const slots = this.slotsOf(groupKv);
      const target = targetOfReport(report?.status);
      const haltKv = target !== undefined ? read.ranges[3]?.kvs.find((kv) => kv.key === k.halt(target)) : undefined;
      const full = holders.length >= slots;
      const decision = decideLock({
        holders,
        slots,
        id,
        targetVersion: target,
        halt: this.activeHalt(haltKv),
        nowMs: this.now(),
        lastSeenMs: full ? await this.lastSeen(this.possiblyExpired(holders)) : new Map(),
        holderTimeoutMs: this.settings.holderTimeoutMs,
      });
      if (decision.outcome === 'held' || decision.outcome === 'halted') return decision;
      const compare: Compare[] = [
        {
          key: k.lock(group),
          target: 'mod',
          modRevision: lockKv?.modRevision ?? 0,
        },
        // A slot-count change or a halt landing meanwhile makes this round retry with it.
        {
          key: k.group(group),
          target: 'mod',
          modRevision: groupKv?.modRevision ?? 0,
        },
        ...(target !== undefined
          ? [
              {
                key: k.halt(target),
                target: 'mod' as const,
                modRevision: haltKv?.modRevision ?? 0,
              },
            ]
          : []),
      ];
      if (decision.outcome === 'full') {
        if (decision.expired.length === 0) return { outcome: 'full', slots, holders: decision.holders };
        const wrote = await this.etcd.txn(compare, [
          {
            put: {
              key: k.lock(group),
              value: JSON.stringify({ holders: decision.holders }),
            },
          },
        ]);
        if (!wrote.succeeded) return undefined;
        this.cache?.noteLock(group, decision.holders, wrote.revision);
        this.counters.expired += decision.expired.length;
        return { outcome: 'full', slots, holders: decision.holders };
      }
      const ops: Op[] = [
        {
          put: {
            key: k.lock(group),
            value: JSON.stringify({ holders: decision.holders }),
          },
        },
      ];
      if (target !== undefined)
        ops.push({
          put: { key: k.took(target, id), value: String(this.now()) },
        });
      const wrote = await this.etcd.txn(compare, ops);
      if (!wrote.succeeded) return undefined;
      this.cache?.noteLock(group, decision.holders, wrote.revision);
      this.counters.grants += 1;
      this.counters.expired += decision.expired.length;
      return { outcome: 'granted' };
    });
  }

  /** FleetLock UnlockIfHeld; true when a slot was released. */
  async release(id: string, group: string, onlyIf?: (holder: Holder) => boolean): Promise<boolean> {
    return this.retrying(`Releasing ${id} in group ${group}`, async () => {
      const kv = await this.etcd.get(this.keys.lock(group));
      const holders = parseSemaphore(kv?.value).holders;
      this.cache?.noteLock(group, holders, kv?.modRevision ?? 0);
      const holder = holders.find((h) => h.id === id);
      if (!holder || (onlyIf && !onlyIf(holder))) return false;
      const next = decideUnlock(holders, id) ?? holders;
      const wrote = await this.etcd.txn(
        [
          {
            key: this.keys.lock(group),
            target: 'mod',
            modRevision: kv?.modRevision ?? 0,
          },
        ],
        [
          {
            put: {
              key: this.keys.lock(group),
              value: JSON.stringify({ holders: next }),
            },
          },
        ],
      );
      if (!wrote.succeeded) return undefined;
      this.cache?.noteLock(group, next, wrote.revision);
      return true;
    });
  }

  /**
   * FleetLock UnlockIfHeld from the host itself: answered from the replica's view when it shows
   * the host holding nothing (the common case: its report already released it), else in etcd.
   * The view used is one read after the request arrived, so a grant the host received before
   * asking, from either replica, is in it: the answer is never "released" while the slot is
   * held. Waiting for the next refresh costs up to one refresh period and no etcd request.
   */
  async releaseIfHeld(id: string, group: string): Promise<boolean> {
    const view = this.cache && (await this.cache.viewReadAfter()) ? this.cache.group(group, this.settings.defaultSlots) : undefined;
    if (this.cache && view && !view.holders.some((h) => h.id === id)) {
      this.cache.hits += 1;
      return false;
    }
    return this.release(id, group);
  }

  private async currentLease(): Promise<string> {
    const nowMs = this.now();
    // Reports share a lease per tenth of the TTL: one grant per window, not one per report,
    // and a report still expires between TTL and 1.1 TTL after it was written.
    if (!this.lease || nowMs >= this.lease.untilMs) {
      const window = this.settings.reportTtlMs / 10;
      this.lease = {
        id: await this.etcd.grantLease((this.settings.reportTtlMs + window) / 1000),
        untilMs: nowMs + window,
      };
    }
    return this.lease.id;
  }

  /**
   * Keeps a host's report, releases its slot when the report ends its reboot, and runs the halt
   * policy on new failures. Reports are group-committed: many hosts' puts go into one etcd
   * transaction, and each host is answered once that transaction has committed.
   */
  report(report: HostReport): Promise<ReportOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ report, receivedMs: this.now(), resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushing || this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, this.settings.reportBatchMs ?? 0);
  }

  /** Commits everything queued; one flush at a time, so a host's later report never lands before its earlier one. */
  private async flush(): Promise<void> {
    this.flushing = true;
    const batch = this.queue;
    this.queue = [];
    try {
      const plan = planReportBatch(batch.map((e) => e.report.client_params.id));
      await Promise.all(plan.map((chunk) => this.commitReports(batch, chunk)));
    } finally {
      this.flushing = false;
      // Reports that arrived during the commit have waited long enough: commit them now.
      if (this.queue.length > 0) void this.flush();
    }
  }

  private async commitReports(batch: readonly PendingReport[], chunk: { commit: number[]; waiting: Map<string, number[]> }): Promise<void> {
    const settle = (each: (entry: PendingReport, id: string) => void): void => {
      for (const [id, indexes] of chunk.waiting) for (const i of indexes) each(batch[i] as PendingReport, id);
    };
    try {
      const entries = chunk.commit.map((i) => batch[i] as PendingReport);
      const released = await this.commitReportTxn(entries);
      const halted = new Map<string, HaltInfo[]>();
      await Promise.all(entries.map(async (e) => halted.set(e.report.client_params.id, await this.recordFailures(e.report.client_params.id, e.report.status, e.receivedMs))));
      settle((entry, id) =>
        entry.resolve({
          released: released.has(id),
          halted: halted.get(id) ?? [],
        }),
      );
    } catch (error) {
      settle((entry) => entry.reject(error));
    }
  }

  /** One transaction puts the reports and reads their groups' semaphores; then one compare-and-swap per group releases the holders the reports end. */
  private async commitReportTxn(entries: readonly PendingReport[]): Promise<Set<string>> {
    const k = this.keys;
    const groups = [...new Set(entries.map((e) => e.report.client_params.group))];
    let committed: Awaited<ReturnType<EtcdClient['txn']>> | undefined;
    for (let attempt = 0; committed === undefined; attempt += 1) {
      const lease = await this.currentLease();
      const puts: Op[] = entries.flatMap((e) => {
        const { id, group } = e.report.client_params;
        const stored: StoredReport = {
          group,
          status: e.report.status,
          received_ms: e.receivedMs,
        };
        return [
          { put: { key: k.report(id), value: JSON.stringify(stored), lease } },
          {
            put: {
              key: k.known(id),
              value: JSON.stringify({
                group,
                version: e.report.status.version,
                last_seen_ms: e.receivedMs,
              }),
            },
          },
        ];
      });
      try {
        committed = await this.etcd.txn([], [...puts, ...groups.map((g) => ({ range: { key: k.lock(g) } }))]);
      } catch (error) {
        // Code 5 (NotFound): the cached lease expired or etcd was restored; take a new one.
        if (!(error instanceof EtcdRequestError) || error.grpcCode !== 5 || attempt > 0) throw error;
        this.lease = undefined;
      }
    }
    this.counters.reportTxns += 1;
    this.counters.reportsCommitted += entries.length;
    const ranges = committed.ranges.slice(entries.length * 2);
    const released = new Set<string>();
    await Promise.all(
      groups.map(async (group, gi) => {
        const kv = ranges[gi]?.kvs[0];
        const holders = parseSemaphore(kv?.value).holders;
        this.cache?.noteLock(group, holders, kv?.modRevision ?? 0);
        const statuses = new Map(entries.filter((e) => e.report.client_params.group === group).map((e) => [e.report.client_params.id, e.report.status] as const));
        const ended = holdersEndedByReports(holders, statuses);
        if (ended.length === 0) return;
        const next = holders.filter((h) => !ended.includes(h.id));
        const wrote = await this.etcd.txn(
          [
            {
              key: k.lock(group),
              target: 'mod',
              modRevision: kv?.modRevision ?? 0,
            },
          ],
          [
            {
              put: {
                key: k.lock(group),
                value: JSON.stringify({ holders: next }),
              },
            },
          ],
        );
        if (wrote.succeeded) {
          this.cache?.noteLock(group, next, wrote.revision);
          for (const id of ended) released.add(id);
          return;
        }
        // Another replica wrote the semaphore meanwhile: release host by host with the usual retries.
        this.counters.conflicts += 1;
        for (const id of ended) {
          const status = statuses.get(id) as HostStatus;
          if (await this.release(id, group, (holder) => reportEndsHold(holder, status))) released.add(id);
        }
      }),
    );
    this.counters.reportReleases += released.size;
    return released;
  }

  /** Records versions the report shows failed on the host (once each) and runs the halt policy on a new one. */
  private async recordFailures(id: string, status: HostStatus, nowMs: number): Promise<HaltInfo[]> {
    const failedVersions = new Set(status.bad_versions);
    if (status.phase === 'rolled-back' && status.target_version !== undefined) failedVersions.add(status.target_version);
    const halted: HaltInfo[] = [];
    for (const version of failedVersions) {
      const memo = `${version}\u0000${id}`;
      if (this.recordedFailures.has(memo)) continue;
      const added = await this.etcd.txn(
        [
          {
            key: this.keys.failed(version, id),
            target: 'create',
            createRevision: 0,
          },
        ],
        [{ put: { key: this.keys.failed(version, id), value: String(nowMs) } }],
      );
      this.recordedFailures.add(memo);
      if (added.succeeded) {
        const halt = await this.applyHaltPolicy(version);
        if (halt) halted.push(halt);
      }
    }
    return halted;
  }

  /** Counts takers and failures of `version` and halts it when the policy says so. */
  async applyHaltPolicy(version: string): Promise<HaltInfo | undefined> {
    return (
      await this.retrying(`Evaluating the halt policy for ${version}`, async () => {
        const k = this.keys;
        const read = await this.etcd.txn(
          [],
          [
            { range: { key: k.halt(version) } },
            {
              range: {
                key: k.tookAll(version),
                prefix: true,
                countOnly: true,
              },
            },
            {
              range: {
                key: k.failedAll(version),
                prefix: true,
                countOnly: true,
              },
            },
          ],
        );
        const haltKv = read.ranges[0]?.kvs[0];
        const record = parseJson<HaltRecord>(haltKv, 'halt');
        if (record?.state === 'halted') return { halt: undefined };
        const reason = evaluateHalt(
          {
            takers: read.ranges[1]?.count ?? 0,
            failures: read.ranges[2]?.count ?? 0,
            baseline: record?.baseline ?? 0,
          },
          this.settings.haltPolicy,
        );
        if (reason === undefined) return { halt: undefined };
        const next: HaltRecord = {
          version,
          state: 'halted',
          reason,
          by: 'policy',
          since: new Date(this.now()).toISOString(),
          baseline: record?.baseline ?? 0,
        };
        const wrote = await this.etcd.txn(
          [
            {
              key: k.halt(version),
              target: 'mod',
              modRevision: haltKv?.modRevision ?? 0,
            },
          ],
          [{ put: { key: k.halt(version), value: JSON.stringify(next) } }],
        );
        if (!wrote.succeeded) return undefined;
        this.counters.halts += 1;
        return { halt: next };
      })
    ).halt;
  }

  /** Admin: halts a version by hand. */
  async halt(version: string, reason: string): Promise<HaltRecord> {
    return this.retrying(`Halting ${version}`, async () => {
      const kv = await this.etcd.get(this.keys.halt(version));
      const old = parseJson<HaltRecord>(kv, 'halt');
      const next: HaltRecord = {
        version,
        state: 'halted',
        reason,
        by: 'admin',
        since: new Date(this.now()).toISOString(),
        baseline: old?.baseline ?? 0,
      };
      const wrote = await this.etcd.txn(
        [
          {
            key: this.keys.halt(version),
            target: 'mod',
            modRevision: kv?.modRevision ?? 0,
          },
        ],
        [
          {
            put: { key: this.keys.halt(version), value: JSON.stringify(next) },
          },
        ],
      );
      return wrote.succeeded ? next : undefined;
    });
  }

  /** Admin: lifts a halt; failures so far become the baseline, so only new ones count again. */
  async resume(version: string): Promise<HaltRecord | undefined> {
    return this.retrying(`Resuming ${version}`, async () => {
      const read = await this.etcd.txn(
        [],
        [
          { range: { key: this.keys.halt(version) } },
          {
            range: {
              key: this.keys.failedAll(version),
              prefix: true,
              countOnly: true,
            },
          },
        ],
      );
      const kv = read.ranges[0]?.kvs[0];
      const old = parseJson<HaltRecord>(kv, 'halt');
      if (!old || old.state !== 'halted') return { found: false as const };
      const next: HaltRecord = {
        ...old,
        state: 'resumed',
        baseline: read.ranges[1]?.count ?? 0,
        since: new Date(this.now()).toISOString(),
      };
      const wrote = await this.etcd.txn(
        [
          {
            key: this.keys.halt(version),
            target: 'mod',
            modRevision: kv?.modRevision ?? 0,
          },
        ],
        [
          {
            put: { key: this.keys.halt(version), value: JSON.stringify(next) },
          },
        ],
      );
      return wrote.succeeded ? { found: true as const, record: next } : undefined;
    }).then((r) => (r.found ? r.record : undefined));
  }

  /** Admin: releases a host's slot in every group (or one). Returns the groups it was released from. */
  async unlock(id: string, group?: string): Promise<string[]> {
    const groups = group !== undefined ? [group] : (await this.etcd.range(this.keys.locks, { prefix: true })).kvs.map((kv) => kv.key.slice(this.keys.locks.length));
    const released: string[] = [];
    for (const g of groups) if (await this.release(id, g)) released.push(g);
    return released;
  }

  /** Admin: sets a group's slot count; it applies to the next lock request. */
  async setGroupSlots(group: string, slots: number): Promise<void> {
    await this.etcd.put(this.keys.group(group), JSON.stringify({ slots }));
  }

  /** Releases expired holders in every group; returns how many. Any replica may run it at any time. */
  async sweep(): Promise<number> {
    const locks = await this.etcd.range(this.keys.locks, { prefix: true });
    let released = 0;
    for (const kv of locks.kvs) {
      const group = kv.key.slice(this.keys.locks.length);
      // Only a holder granted longer ago than the timeout can have expired: skip the group's reads otherwise.
      if (this.possiblyExpired(parseSemaphore(kv.value).holders).length === 0) continue;
      released += await this.retrying(`Sweeping group ${group}`, async () => {
        const current = await this.etcd.get(kv.key);
        const holders = parseSemaphore(current?.value).holders;
        const { kept, expired } = expireHolders(holders, await this.lastSeen(this.possiblyExpired(holders)), this.now(), this.settings.holderTimeoutMs);
        if (expired.length === 0) return 0;
        const wrote = await this.etcd.txn(
          [
            {
              key: kv.key,
              target: 'mod',
              modRevision: current?.modRevision ?? 0,
            },
          ],
          [{ put: { key: kv.key, value: JSON.stringify({ holders: kept }) } }],
        );
        if (!wrote.succeeded) return undefined;
        this.cache?.noteLock(group, kept, wrote.revision);
        return expired.length;
      });
    }
    this.counters.expired += released;
    return released;
  }

  /** The whole fleet view in one linearizable read. */
  async snapshot(): Promise<FleetSnapshot> {
    const k = this.keys;
    const read = await this.etcd.txn(
      [],
      [k.groups, k.locks, k.reports, k.knowns, k.halts].map((key) => ({
        range: { key, prefix: true },
      })),
    );
    const [groupsR, locksR, reportsR, knownR, haltsR] = read.ranges;
    const groups = new Map<string, GroupView>();
    for (const kv of groupsR?.kvs ?? []) {
      const name = kv.key.slice(k.groups.length);
      groups.set(name, {
        group: name,
        slots: this.slotsOf(kv),
        configured: true,
        holders: [],
      });
    }
    for (const kv of locksR?.kvs ?? []) {
      const name = kv.key.slice(k.locks.length);
      const view = groups.get(name) ?? {
        group: name,
        slots: this.settings.defaultSlots,
        configured: false,
        holders: [],
      };
      view.holders = parseSemaphore(kv.value).holders;
      groups.set(name, view);
    }
    const reports = new Map<string, StoredReport>();
    for (const kv of reportsR?.kvs ?? []) reports.set(kv.key.slice(k.reports.length), parseJson<StoredReport>(kv, 'report') as StoredReport);
    const hosts: HostView[] = [];
    for (const kv of knownR?.kvs ?? []) {
      const id = kv.key.slice(k.knowns.length);
      const known = parseJson<{ group: string; last_seen_ms: number }>(kv, 'known') as { group: string; last_seen_ms: number };
      const report = reports.get(id);
      hosts.push({
        id,
        group: report?.group ?? known.group,
        status: report?.status,
        last_seen_ms: report?.received_ms ?? known.last_seen_ms,
      });
      if (!groups.has(known.group))
        groups.set(known.group, {
          group: known.group,
          slots: this.settings.defaultSlots,
          configured: false,
          holders: [],
        });
    }
    const halts = (haltsR?.kvs ?? []).map((kv) => parseJson<HaltRecord>(kv, 'halt') as HaltRecord);
    return {
      now_ms: this.now(),
      groups: [...groups.values()].sort((a, b) => a.group.localeCompare(b.group)),
      hosts,
      halts,
    };
  }
}
