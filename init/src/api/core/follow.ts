/**
 * Limits of the API's follow streams: how many followers may be open (per container and in
 * total), and a queue that writes to one follower only as fast as it reads, dropping it when it
 * falls too far behind. Pure: the response's write and drain come in as functions.
 */
import { ApiError } from './router.ts';

/** Open follow streams allowed per container, and in total. */
export const FOLLOWERS_PER_CONTAINER_MAX = 8;
export const FOLLOWERS_TOTAL_MAX = 32;

/** Bytes a follower may fall behind before it is dropped. */
export const FOLLOWER_PENDING_MAX_BYTES = 1024 * 1024;

/** Writes a chunk to the response (never blocks: it may wait in the response's buffer). */
export type StreamWrite = (chunk: string) => void;

/**
 * After a write: a promise that resolves once the response's buffer drained (or the client
 * went away), or undefined when the buffer is not full.
 */
export type WaitForDrain = () => Promise<void> | undefined;

/**
 * The limits shared by every follow endpoint of the API (host log and container logs), so the
 * total counts them all. Tests pass their own.
 */
export function sharedFollowerLimits(): FollowerLimits {
  shared ??= new FollowerLimits();
  return shared;
}
let shared: FollowerLimits | undefined;

/** Counts open followers and refuses one past the limits with a 429. */
export class FollowerLimits {
  private readonly open = new Map<string, number>();
  private total = 0;

  constructor(
    readonly perKey: number = FOLLOWERS_PER_CONTAINER_MAX,
    readonly totalMax: number = FOLLOWERS_TOTAL_MAX,
  ) {}

  /** Takes a place for a follower of `key` (a container's name); the returned function gives it back (once). */
  acquire(key: string, what: string): () => void {
    const count = this.open.get(key) ?? 0;
    if (count >= this.perKey) {
      throw new ApiError(429, 'API_TOO_MANY_FOLLOWERS', `${what} already has ${count} followers (at most ${this.perKey}); close one (berth ctl logs -f) or read without follow`);
    }
    if (this.total >= this.totalMax) {
      throw new ApiError(429, 'API_TOO_MANY_FOLLOWERS', `The host already serves ${this.total} follow streams (at most ${this.totalMax}); close one or read without follow`);
    }
    this.open.set(key, count + 1);
    this.total += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= 1;
      const left = (this.open.get(key) ?? 1) - 1;
      if (left === 0) this.open.delete(key);
      else this.open.set(key, left);
    };
  }

  /** Open followers of `key`, and in total. */
  count(key?: string): number {
    return key === undefined ? this.total : (this.open.get(key) ?? 0);
  }
}

/**
 * Runs one follow stream: queues what `follow` emits through a FollowQueue and ends when `follow`
 * resolves; the signal `follow` gets aborts when the client goes away or is dropped (then `follow`
 * must stop emitting and resolve). Gives back the follower's place (`release`) at the end.
 */
export async function runFollower(
  options: { write: StreamWrite; waitForDrain: WaitForDrain | undefined; signal: AbortSignal; finalLine: string; release: () => void; maxPendingBytes?: number },
  follow: (emit: (chunk: string) => void, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const listening = new AbortController();
  const stop = (): void => listening.abort();
  try {
    const queue = new FollowQueue(options.write, options.waitForDrain, options.finalLine, options.maxPendingBytes);
    options.signal.addEventListener('abort', stop, { once: true });
    if (options.signal.aborted) stop();
    void queue.dropped.then(stop);
    await follow((chunk) => queue.push(chunk), listening.signal);
  } finally {
    stop();
    options.signal.removeEventListener('abort', stop);
    options.release();
  }
}

/**
 * Sends chunks to one follower at its pace: while the response's buffer is full, chunks wait
 * here; past `maxPendingBytes` waiting, the follower is dropped: the pending chunks are
 * forgotten, `finalLine` is written and `dropped` resolves (the route then ends the response).
 */
export class FollowQueue {
  private pending: string[] = [];
  private pendingBytes = 0;
  private waiting = false;
  private isDropped = false;
  private resolveDropped: () => void = () => undefined;
  /** Resolves when the follower was dropped for being too slow. */
  readonly dropped: Promise<void>;

  constructor(
    private readonly write: StreamWrite,
    private readonly waitForDrain: WaitForDrain | undefined,
    private readonly finalLine: string,
    private readonly maxPendingBytes: number = FOLLOWER_PENDING_MAX_BYTES,
  ) {
    this.dropped = new Promise((resolve) => (this.resolveDropped = resolve));
  }

  /** Queues a chunk; never blocks the producer. */
  push(chunk: string): void {
    if (this.isDropped || chunk === '') return;
    this.pending.push(chunk);
    this.pendingBytes += Buffer.byteLength(chunk);
    if (this.waiting && this.pendingBytes > this.maxPendingBytes) {
      this.drop();
      return;
    }
    this.pump();
  }

  /** Whether the follower was dropped. */
  get wasDropped(): boolean {
    return this.isDropped;
  }

  /** Bytes waiting for the follower. */
  get backlog(): number {
    return this.pendingBytes;
  }

  private drop(): void {
    this.isDropped = true;
    this.pending = [];
    this.pendingBytes = 0;
    this.write(this.finalLine);
    this.resolveDropped();
  }

  private pump(): void {
    while (!this.waiting && !this.isDropped && this.pending.length > 0) {
      const chunk = this.pending.shift() as string;
      this.pendingBytes -= Buffer.byteLength(chunk);
      this.write(chunk);
      const drain = this.waitForDrain?.();
      if (drain !== undefined) {
        this.waiting = true;
        void drain.then(() => {
          this.waiting = false;
          this.pump();
        });
      }
    }
  }
}

/** Resolves once `signal` aborted. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
