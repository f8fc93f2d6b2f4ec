import type {
  IdempotencyRecord,
  IdempotencyStore,
} from './idempotency-store.interface';

/**
 * Keys in this process, each expiring on its own. Expired entries are
 * dropped as new ones arrive, so memory stays bounded by one TTL of traffic.
 */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  private readonly records = new Map<
    string,
    { record: IdempotencyRecord; expiresAt: number }
  >();

  acquire(
    key: string,
    fingerprint: string,
    lockTtlMs: number,
  ): Promise<IdempotencyRecord | undefined> {
    const now = Date.now();
    this.sweep(now);
    const current = this.records.get(key);
    if (current && current.expiresAt > now)
      return Promise.resolve(current.record);
    this.set(key, { fingerprint, state: 'in-flight' }, now + lockTtlMs);
    return Promise.resolve(undefined);
  }

  complete(
    key: string,
    record: IdempotencyRecord,
    ttlMs: number,
  ): Promise<void> {
    this.set(key, record, Date.now() + ttlMs);
    return Promise.resolve();
  }

  release(key: string): Promise<void> {
    this.records.delete(key);
    return Promise.resolve();
  }

  private set(key: string, record: IdempotencyRecord, expiresAt: number): void {
    this.records.delete(key); // keep insertion order = expiry order for the sweep
    this.records.set(key, { record, expiresAt });
  }

  private sweep(now: number): void {
    for (const [key, entry] of this.records) {
      if (entry.expiresAt > now) break;
      this.records.delete(key);
    }
  }
}
