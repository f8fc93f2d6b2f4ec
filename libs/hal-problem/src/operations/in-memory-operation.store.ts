import { boundedRecords, type ExpiringMap } from '../idempotency/expiring-map';
import { isFinished, type OperationRecord } from './operation';
import type { OperationStore } from './operation-store.interface';

/** Options of `InMemoryOperationStore`. */
export interface InMemoryOperationStoreOptions {
  /**
   * Operations kept at most (default 10,000). A new operation in a full
   * store drops the oldest finished one first (its monitor then answers
   * 404), and a warning is logged; with only unfinished ones kept it is
   * refused (the request gets a 503 with `Retry-After`). `Infinity`: no limit.
   */
  readonly maxRecords?: number;
}

/**
 * Keeps operations in this process for `ttlMs` after their last update.
 * Expired entries are dropped as new ones are saved, whatever their TTLs
 * (`ExpiringMap`), and at most `maxRecords` are kept, so a flood of
 * requests cannot fill the process's memory within one TTL.
 */
export class InMemoryOperationStore implements OperationStore {
  private readonly records: ExpiringMap<OperationRecord>;
  /** When each runner's lease lapses (ms since the epoch); one per instance. */
  private readonly leases = new Map<string, number>();

  constructor(options: InMemoryOperationStoreOptions = {}) {
    this.records = boundedRecords<OperationRecord>(
      'InMemoryOperationStore',
      options.maxRecords ?? 10_000,
      isFinished,
      (max) =>
        `The in-memory operation store is full (${max} operations): the oldest finished ones are dropped before they expire. Raise maxRecords or use RedisOperationStore.`,
    );
  }

  save(record: OperationRecord, ttlMs: number): Promise<void> {
    const now = Date.now();
    this.records.sweep(now);
    // An update of a kept operation always has room; only a new one can be refused.
    if (!this.records.set(record.id, record, ttlMs, now)) {
      return Promise.reject(
        new Error(
          'The in-memory operation store is full of unfinished operations: none can be dropped for a new one',
        ),
      );
    }
    return Promise.resolve();
  }

  get(id: string): Promise<OperationRecord | undefined> {
    return Promise.resolve(this.records.get(id));
  }

  async saveUnlessFinished(
    record: OperationRecord,
    ttlMs: number,
  ): Promise<OperationRecord> {
    // Read and written in one turn of the event loop: nothing runs between.
    const current = this.records.get(record.id);
    if (current && isFinished(current)) return current;
    await this.save(record, ttlMs);
    return record;
  }

  renewLease(runner: string, leaseMs: number): Promise<void> {
    const now = Date.now();
    // Lapsed leases of stopped services go, so the map stays as small as the instances.
    for (const [name, until] of this.leases)
      if (until <= now) this.leases.delete(name);
    this.leases.set(runner, now + leaseMs);
    return Promise.resolve();
  }

  hasLease(runner: string): Promise<boolean> {
    return Promise.resolve((this.leases.get(runner) ?? 0) > Date.now());
  }
}
