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
    owner?: string,
  ): Promise<IdempotencyRecord | undefined> {
    const now = Date.now();
    this.sweep(now);
    const current = this.records.get(key);
    if (current && current.expiresAt > now)
      return Promise.resolve(current.record);
    const lock: IdempotencyRecord =
      owner === undefined
        ? { fingerprint, state: 'in-flight' }
        : { fingerprint, state: 'in-flight', owner };
    this.set(key, lock, now + lockTtlMs);
    return Promise.resolve(undefined);
  }

  complete(
    key: string,
    record: IdempotencyRecord,
    ttlMs: number,
    owner?: string,
  ): Promise<void> {
    const now = Date.now();
    const current = this.live(key, now);
    if (owner === undefined || !current || current.owner === owner)
      this.set(key, record, now + ttlMs);
    return Promise.resolve();
  }

  release(key: string, owner?: string): Promise<void> {
    if (owner === undefined || this.live(key, Date.now())?.owner === owner)
      this.records.delete(key);
    return Promise.resolve();
  }

  /** The key's record unless it has expired. */
  private live(key: string, now: number): IdempotencyRecord | undefined {
    const current = this.records.get(key);
    return current && current.expiresAt > now ? current.record : undefined;
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
