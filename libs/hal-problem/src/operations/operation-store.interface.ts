import type { OperationRecord } from './operation';

/** Where operations live: in memory (default) or shared, e.g. in Redis. */
export interface OperationStore {
  save(record: OperationRecord, ttlMs: number): Promise<void>;
  get(id: string): Promise<OperationRecord | undefined>;
}

/** Injection token of the {@link OperationStore}; provide your own to share operations across instances. */
export const OPERATION_STORE = Symbol('nestjs-hal-problem:operation-store');
