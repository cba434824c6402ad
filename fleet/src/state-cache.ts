/**
 * A replica's read-only view of the semaphores, slot settings and halts, refreshed with one
 * etcd range transaction every `refreshMs` and updated at once by the replica's own writes.
 * It lets requests that change nothing answer without a transaction (a steady-state from a host
 * that holds nothing, a lock refused because the group is full); it never grants. Effects: etcd
 * ranges on a timer.
 */
import type { Holder } from './core/semaphore.ts';
import type { FleetKeys } from './core/keys.ts';
import type { EtcdClient } from './etcd.ts';

interface CachedLock {
  holders: Holder[];
  modRevision: number;
}

export interface CachedHalt {
  version: string;
  reason: string;
  by: 'policy' | 'admin';
  since: string;
  state: 'halted' | 'resumed';
}

export class StateCache {
  private locks = new Map<string, CachedLock>();
  private slots = new Map<string, number>();
  private halts = new Map<string, CachedHalt>();
  /** Monotonic time of the last successful refresh; undefined before the first. */
  private fetchedAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private refreshing = false;
  /** Callers waiting for a view read after a given moment (see viewReadAfter). */
  private waiters: { after: number; resolve: (ok: boolean) => void }[] = [];
  /** Answers given from the cache, for the benchmark. */
  hits = 0;

  constructor(
    private readonly etcd: EtcdClient,
    private readonly keys: FleetKeys,
    private readonly refreshMs: number,
    private readonly monotonic: () => number = () => performance.now(),
  ) {}

  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const w of this.waiters) w.resolve(false);
    this.waiters = [];
  }

  /** True while the view is at most three refresh periods old (a replica cut off from etcd stops trusting it). */
  isFresh(): boolean {
    return this.fetchedAt !== undefined && this.monotonic() - this.fetchedAt <= 3 * this.refreshMs;
  }

  private async refresh(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    const started = this.monotonic();
    try {
      const k = this.keys;
      const read = await this.etcd.txn(
        [],
        [k.locks, k.groups, k.halts].map((key) => ({
          range: { key, prefix: true },
        })),
      );
      const [locksR, groupsR, haltsR] = read.ranges;
      for (const kv of locksR?.kvs ?? []) {
        const group = kv.key.slice(k.locks.length);
        const value = JSON.parse(kv.value) as { holders?: Holder[] };
        this.noteLock(group, Array.isArray(value.holders) ? value.holders : [], kv.modRevision);
      }
      const slots = new Map<string, number>();
      for (const kv of groupsR?.kvs ?? []) {
        const value = JSON.parse(kv.value) as { slots?: number };
        if (typeof value.slots === 'number') slots.set(kv.key.slice(k.groups.length), value.slots);
      }
      this.slots = slots;
      const halts = new Map<string, CachedHalt>();
      for (const kv of haltsR?.kvs ?? []) halts.set(kv.key.slice(k.halts.length), JSON.parse(kv.value) as CachedHalt);
      this.halts = halts;
      // Fresh as of when the read was sent, not when it came back.
      this.fetchedAt = started;
      const ready = this.waiters.filter((w) => w.after <= started);
      this.waiters = this.waiters.filter((w) => w.after > started);
      for (const w of ready) w.resolve(true);
    } catch {
      // Unreadable or unreachable: the view ages out and requests go to etcd, which reports the problem.
    } finally {
      this.refreshing = false;
    }
  }

  /** Records a semaphore value read or written at `modRevision`; an older one never replaces a newer one. */
  noteLock(group: string, holders: Holder[], modRevision: number): void {
    const old = this.locks.get(group);
    if (!old || old.modRevision <= modRevision) this.locks.set(group, { holders, modRevision });
  }

  /**
   * Resolves true once the view holds a read sent after now (the next refresh; no extra etcd
   * request), false when none succeeds within three refresh periods. Everything a client
   * learned before it sent its request (a grant by another replica) is then in the view.
   */
  viewReadAfter(): Promise<boolean> {
    if (!this.timer) return Promise.resolve(false);
    const after = this.monotonic();
    return new Promise((resolve) => {
      const waiter = { after, resolve };
      this.waiters.push(waiter);
      setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, 3 * this.refreshMs).unref();
    });
  }

  /** The cached holders of a group and its slots, or undefined when the view is stale. */
  group(group: string, defaultSlots: number): { holders: readonly Holder[]; slots: number } | undefined {
    if (!this.isFresh()) return undefined;
    return {
      holders: this.locks.get(group)?.holders ?? [],
      slots: this.slots.get(group) ?? defaultSlots,
    };
  }

  /** True when any version is halted in the view (then a lock refusal needs the host's target). */
  hasActiveHalt(): boolean {
    for (const h of this.halts.values()) if (h.state === 'halted') return true;
    return false;
  }

  /** True when the view shows `version` halted. */
  isHalted(version: string): boolean {
    return this.halts.get(version)?.state === 'halted';
  }
}
