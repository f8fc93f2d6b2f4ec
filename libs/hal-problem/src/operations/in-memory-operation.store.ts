import { ExpiringMap } from '../idempotency/expiring-map';
import type { OperationRecord } from './operation';
import type { OperationStore } from './operation-store.interface';

/**
 * Keeps operations in this process for `ttlMs` after their last update.
 * Expired entries are dropped as new ones are saved, whatever their TTLs
 * (`ExpiringMap`), so the map stays bounded by the operations of one TTL.
 */
export class InMemoryOperationStore implements OperationStore {
  private readonly records = new ExpiringMap<OperationRecord>();

  save(record: OperationRecord, ttlMs: number): Promise<void> {
    const now = Date.now();
    this.records.set(record.id, record, ttlMs, now);
    this.records.sweep(now);
    return Promise.resolve();
  }

  get(id: string): Promise<OperationRecord | undefined> {
    return Promise.resolve(this.records.get(id));
  }
}
