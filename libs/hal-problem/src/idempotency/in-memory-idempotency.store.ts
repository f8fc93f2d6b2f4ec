import { ExpiringMap } from './expiring-map';
import type {
  IdempotencyRecord,
  IdempotencyStore,
} from './idempotency-store.interface';

/**
 * Keys in this process, each expiring on its own. Expired entries are
 * dropped as new ones arrive, whatever their TTLs (`ExpiringMap`), so
 * memory stays bounded by what one TTL of traffic stores.
 */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  private readonly records = new ExpiringMap<IdempotencyRecord>();

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
    this.records.set(key, lock, lockTtlMs, now);
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
