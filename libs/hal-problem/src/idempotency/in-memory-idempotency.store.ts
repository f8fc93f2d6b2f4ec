import { boundedRecords, type ExpiringMap } from './expiring-map';
import type {
  IdempotencyRecord,
  IdempotencyStore,
} from './idempotency-store.interface';

/** Options of `InMemoryIdempotencyStore`. */
export interface InMemoryIdempotencyStoreOptions {
  /**
   * Keys kept at most (default 10,000). A new key in a full store drops the
   * oldest stored response first, so a retry of it runs again, and a
   * warning is logged; with only locks held it is refused (the request gets
   * a 503 with `Retry-After`). `Infinity`: no limit.
   */
  readonly maxRecords?: number;
}

/**
 * Keys in this process, each expiring on its own. Expired entries are
 * dropped as new ones arrive, whatever their TTLs (`ExpiringMap`), and at
 * most `maxRecords` are kept: without a limit, a client sending a new key
 * with every request could fill the process's memory within one TTL.
 */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  private readonly records: ExpiringMap<IdempotencyRecord>;

  constructor(options: InMemoryIdempotencyStoreOptions = {}) {
    this.records = boundedRecords<IdempotencyRecord>(
      'InMemoryIdempotencyStore',
      options.maxRecords ?? 10_000,
      (record) => record.state === 'completed',
      (max) =>
        `The in-memory idempotency store is full (${max} keys): the oldest stored responses are dropped before they expire, so retries of them run again. Raise maxRecords or use RedisIdempotencyStore.`,
    );
  }

  acquire(
    key: string,
    fingerprint: string,
    lockTtlMs: number,
    owner?: string,
  ): Promise<IdempotencyRecord | undefined> {
    const now = Date.now();
    this.records.sweep(now);
    const current = this.records.get(key, now);
    if (current) return Promise.resolve(current);
    const lock: IdempotencyRecord =
      owner === undefined
        ? { fingerprint, state: 'in-flight' }
        : { fingerprint, state: 'in-flight', owner };
    if (!this.records.set(key, lock, lockTtlMs, now)) {
      return Promise.reject(
        new Error(
          'The in-memory idempotency store is full of keys in flight: no stored response can be dropped for a new key',
        ),
      );
    }
    return Promise.resolve(undefined);
  }

  complete(
    key: string,
    record: IdempotencyRecord,
    ttlMs: number,
    owner?: string,
  ): Promise<void> {
    const now = Date.now();
    const current = this.records.get(key, now);
    if (owner === undefined || !current || current.owner === owner)
      this.records.set(key, record, ttlMs, now);
    return Promise.resolve();
  }

  release(key: string, owner?: string): Promise<void> {
    if (owner === undefined || this.records.get(key)?.owner === owner)
      this.records.delete(key);
    return Promise.resolve();
  }
}
