import type { OperationRecord } from './operation';

/**
 * Where operations live: in memory (default) or shared, e.g. in Redis.
 *
 * `renewLease`, `hasLease` and `saveUnlessFinished` are optional and go
 * together: with all three, an operation whose instance was killed is
 * answered `failed` once that instance's lease lapses. A store without
 * all three works as before: such an operation stays `running` until its
 * `ttlMs`, and every write is a plain `save` (or `saveUnlessFinished`,
 * when only that one is there).
 */
export interface OperationStore {
  save(record: OperationRecord, ttlMs: number): Promise<void>;
  get(id: string): Promise<OperationRecord | undefined>;
  /**
   * Holds the lease named `runner` (one per running instance) for `leaseMs`
   * from now, creating it if it lapsed. Called every `leaseMs / 3` while
   * the instance runs work, and by `start()` when the last renewal is older
   * than that; a lease not renewed in `leaseMs` lapses.
   */
  renewLease?(runner: string, leaseMs: number): Promise<void>;
  /** Whether the lease named `runner` is held (renewed within its `leaseMs`). */
  hasLease?(runner: string): Promise<boolean>;
  /**
   * Saves `record` unless the stored operation is finished (`done` or
   * `failed`), atomically: of two calls at once, one finished outcome is
   * kept. Resolves the record stored afterwards: `record`, or the finished
   * one that was kept (a copy will do: members in any order).
   */
  saveUnlessFinished?(
    record: OperationRecord,
    ttlMs: number,
  ): Promise<OperationRecord>;
}

/** Injection token of the {@link OperationStore}; provide your own to share operations across instances. */
export const OPERATION_STORE = Symbol('nestjs-hal-problem:operation-store');
