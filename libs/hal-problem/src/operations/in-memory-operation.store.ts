import type { OperationRecord } from './operation';
import type { OperationStore } from './operation-store.interface';

/**
 * Keeps operations in this process for `ttlMs` after their last update.
 * Expired entries are dropped as new ones are saved, so the map stays bounded
 * by the number of operations started within one TTL.
 */
export class InMemoryOperationStore implements OperationStore {
  private readonly records = new Map<
    string,
    { record: OperationRecord; expiresAt: number }
  >();

  save(record: OperationRecord, ttlMs: number): Promise<void> {
    const now = Date.now();
    // Map iteration follows insertion order: re-inserting keeps the oldest first.
    this.records.delete(record.id);
    this.records.set(record.id, { record, expiresAt: now + ttlMs });
    for (const [id, entry] of this.records) {
      if (entry.expiresAt > now) break;
      this.records.delete(id);
    }
    return Promise.resolve();
  }

  get(id: string): Promise<OperationRecord | undefined> {
    const entry = this.records.get(id);
    if (!entry || entry.expiresAt <= Date.now())
      return Promise.resolve(undefined);
    return Promise.resolve(entry.record);
  }
}
