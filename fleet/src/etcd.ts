/**
 * A small etcd v3 client over etcd's JSON gateway (`/v3/kv/range`, `/v3/kv/txn`, …) with plain
 * `fetch`: no gRPC stack, no protobuf parsed at load. It fails over between members and retries
 * requests a member could not serve (leader change, member down, timeout); every request it
 * sends is safe to resend (puts are idempotent, transactions compare revisions).
 * Effects: HTTP requests to the configured members only.
 */
import { BerthError } from '../../lib/errors.ts';

export interface KeyValue {
  key: string;
  value: string;
  modRevision: number;
  createRevision: number;
  lease: string | undefined;
}

export interface RangeOptions {
  prefix?: boolean;
  countOnly?: boolean;
  keysOnly?: boolean;
  limit?: number;
}

export interface RangeResult {
  kvs: KeyValue[];
  count: number;
  revision: number;
}

/** A transaction comparison on one key (a missing key has revisions 0). */
export type Compare =
  | { key: string; target: 'mod'; modRevision: number }
  | { key: string; target: 'create'; createRevision: number };

/** A transaction operation. */
export type Op =
  | { put: { key: string; value: string; lease?: string } }
  | { delete: { key: string; prefix?: boolean } }
  | { range: { key: string } & RangeOptions };

export interface TxnResult {
  succeeded: boolean;
  /** Range results of the branch that ran, in op order (undefined for puts and deletes). */
  ranges: (RangeResult | undefined)[];
  revision: number;
}

export interface EtcdClientOptions {
  /** Client URLs of the members, e.g. http://127.0.0.1:2379. */
  endpoints: readonly string[];
  /** Per request (default 5 s). */
  timeoutMs?: number;
  /** Give up after this long trying members (default 20 s, longer than an election). */
  retryForMs?: number;
  fetch?: typeof fetch;
}

/** etcd answered with an error that retrying will not fix (the gRPC code and message). */
export class EtcdRequestError extends BerthError {
  constructor(
    readonly grpcCode: number,
    message: string,
  ) {
    super('FLEET_ETCD_ERROR', message);
  }
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const unb64 = (text: string | undefined): string => (text === undefined ? '' : Buffer.from(text, 'base64').toString('utf8'));

/** The end of a prefix range: the prefix with its last byte incremented, base64. */
function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  for (let i = bytes.length - 1; i >= 0; i -= 1) {
    if ((bytes[i] ?? 0) < 0xff) {
      bytes[i] = (bytes[i] ?? 0) + 1;
      return bytes.subarray(0, i + 1).toString('base64');
    }
  }
  return Buffer.from([0]).toString('base64');
}

interface RawKv {
  key?: string;
  value?: string;
  mod_revision?: string;
  create_revision?: string;
  lease?: string;
}
interface RawRange {
  kvs?: RawKv[];
  count?: string;
  header?: { revision?: string };
}

function rangeBody(key: string, o: RangeOptions): Record<string, unknown> {
  return {
    key: b64(key),
    ...(o.prefix ? { range_end: prefixEnd(key) } : {}),
    ...(o.countOnly ? { count_only: true } : {}),
    ...(o.keysOnly ? { keys_only: true } : {}),
    ...(o.limit !== undefined ? { limit: o.limit } : {}),
  };
}

function toRange(raw: RawRange, revision?: string): RangeResult {
  return {
    kvs: (raw.kvs ?? []).map((kv) => ({
      key: unb64(kv.key),
      value: unb64(kv.value),
      modRevision: Number(kv.mod_revision ?? 0),
      createRevision: Number(kv.create_revision ?? 0),
      lease: kv.lease !== undefined && kv.lease !== '0' ? kv.lease : undefined,
    })),
    count: Number(raw.count ?? 0),
    revision: Number(raw.header?.revision ?? revision ?? 0),
  };
}

function opBody(op: Op): Record<string, unknown> {
  if ('put' in op) return { request_put: { key: b64(op.put.key), value: b64(op.put.value), ...(op.put.lease ? { lease: op.put.lease } : {}) } };
  if ('delete' in op) return { request_delete_range: { key: b64(op.delete.key), ...(op.delete.prefix ? { range_end: prefixEnd(op.delete.key) } : {}) } };
  return { request_range: rangeBody(op.range.key, op.range) };
}

// gRPC codes worth another try on another member: deadline exceeded, aborted, unavailable.
const RETRYABLE_GRPC = new Set([4, 10, 14]);

export class EtcdClient {
  private current = 0;
  private readonly endpoints: string[];
  private readonly timeoutMs: number;
  private readonly retryForMs: number;
  private readonly doFetch: typeof fetch;
  /** Requests that needed another member or another try, for the benchmark and logs. */
  retries = 0;
  /** Requests sent (ranges, transactions, puts, lease grants), for the benchmark and logs. */
  calls = 0;

  constructor(options: EtcdClientOptions) {
    if (options.endpoints.length === 0) throw new BerthError('FLEET_CONFIG_INVALID', 'No etcd endpoints given: pass at least one client URL');
    this.endpoints = options.endpoints.map((e) => e.replace(/\/+$/, ''));
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.retryForMs = options.retryForMs ?? 20_000;
    this.doFetch = options.fetch ?? fetch;
  }

  private async call(path: string, body: unknown): Promise<unknown> {
    const deadline = Date.now() + this.retryForMs;
    this.calls += 1;
    let lastProblem = '';
    for (let attempt = 0; ; attempt += 1) {
      const endpoint = this.endpoints[this.current % this.endpoints.length] as string;
      try {
        const response = await this.doFetch(`${endpoint}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        const text = await response.text();
        const parsed: unknown = text === '' ? {} : JSON.parse(text);
        if (response.ok) {
          const err = parsed as { error?: string; code?: number };
          // The gateway may answer 200 with an error object for some failures.
          if (typeof err.code === 'number' && typeof err.error === 'string' && err.code !== 0 && !RETRYABLE_GRPC.has(err.code)) throw new EtcdRequestError(err.code, `etcd ${path}: ${err.error}`);
          if (typeof err.code !== 'number' || err.code === 0) return parsed;
          lastProblem = `${endpoint}: ${err.error ?? ''}`;
        } else {
          const err = parsed as { error?: string; message?: string; code?: number };
          const code = typeof err.code === 'number' ? err.code : 14;
          const message = err.message ?? err.error ?? `HTTP ${response.status}`;
          if (!RETRYABLE_GRPC.has(code) && response.status < 500) throw new EtcdRequestError(code, `etcd ${path}: ${message}`);
          if (!RETRYABLE_GRPC.has(code) && !/leader|timed out|unavailable|stopped|too many requests/i.test(message)) throw new EtcdRequestError(code, `etcd ${path}: ${message}`);
          lastProblem = `${endpoint}: ${message}`;
        }
      } catch (error) {
        if (error instanceof EtcdRequestError) throw error;
        lastProblem = `${endpoint}: ${error instanceof Error ? `${error.name} ${error.message}` : String(error)}`;
      }
      this.retries += 1;
      this.current += 1;
      if (Date.now() > deadline) {
        throw new BerthError('FLEET_ETCD_UNAVAILABLE', `No etcd member answered ${path} within ${this.retryForMs} ms (last: ${lastProblem}); check the etcd endpoints and quorum`);
      }
      // Go round the members once quickly, then back off (an election takes about a second).
      if (attempt % this.endpoints.length === this.endpoints.length - 1) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** Math.min(attempt, 5))));
    }
  }

  async range(key: string, options: RangeOptions = {}): Promise<RangeResult> {
    return toRange((await this.call('/v3/kv/range', rangeBody(key, options))) as RawRange);
  }

  async get(key: string): Promise<KeyValue | undefined> {
    return (await this.range(key)).kvs[0];
  }

  async put(key: string, value: string, lease?: string): Promise<void> {
    await this.call('/v3/kv/put', { key: b64(key), value: b64(value), ...(lease ? { lease } : {}) });
  }

  async delete(key: string, options: { prefix?: boolean } = {}): Promise<void> {
    await this.call('/v3/kv/deleterange', { key: b64(key), ...(options.prefix ? { range_end: prefixEnd(key) } : {}) });
  }

  async txn(compare: readonly Compare[], success: readonly Op[], failure: readonly Op[] = []): Promise<TxnResult> {
    const body = {
      compare: compare.map((c) =>
        c.target === 'mod'
          ? { key: b64(c.key), target: 'MOD', result: 'EQUAL', mod_revision: String(c.modRevision) }
          : { key: b64(c.key), target: 'CREATE', result: 'EQUAL', create_revision: String(c.createRevision) },
      ),
      success: success.map(opBody),
      failure: failure.map(opBody),
    };
    const raw = (await this.call('/v3/kv/txn', body)) as { succeeded?: boolean; responses?: { response_range?: RawRange }[]; header?: { revision?: string } };
    return {
      succeeded: raw.succeeded === true,
      ranges: (raw.responses ?? []).map((r) => (r.response_range ? toRange(r.response_range, raw.header?.revision) : undefined)),
      revision: Number(raw.header?.revision ?? 0),
    };
  }

  /** Grants a lease of `ttlSeconds`; returns its id. */
  async grantLease(ttlSeconds: number): Promise<string> {
    const raw = (await this.call('/v3/lease/grant', { TTL: String(Math.max(1, Math.ceil(ttlSeconds))) })) as { ID?: string };
    if (raw.ID === undefined) throw new EtcdRequestError(2, 'etcd lease grant answered without an ID');
    return raw.ID;
  }
}
