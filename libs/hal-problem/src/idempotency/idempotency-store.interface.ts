/** A response kept for replay: only what a replay must repeat. */
export interface StoredResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The serialized body, exactly as first sent. */
  readonly body: string | null;
}

/** What the store holds for one key. */
export interface IdempotencyRecord {
  /** Hash of the request body, to tell a retry from a different request under the same key. */
  readonly fingerprint: string;
  readonly state: 'in-flight' | 'completed';
  readonly response?: StoredResponse;
  /**
   * Of an in-flight lock: which request holds it. A lock can expire while
   * its request still runs (longer than `lockTtlMs`) and be taken by a
   * retry; the first request must then neither release nor overwrite it.
   */
  readonly owner?: string;
}

/** Where keys live: in memory (default) or shared, e.g. in Redis. */
export interface IdempotencyStore {
  /**
   * Atomically takes the key for a new request, or returns what holds it.
   * Resolves `undefined` when the lock was taken.
   */
  acquire(
    key: string,
    fingerprint: string,
    lockTtlMs: number,
    owner?: string,
  ): Promise<IdempotencyRecord | undefined>;
  /**
   * Stores the outcome of the request that holds the lock. With `owner`:
   * only while the key holds that owner's lock or nothing (its lock
   * expired and no retry took it); never over another request's lock or outcome.
   */
  complete(
    key: string,
    record: IdempotencyRecord,
    ttlMs: number,
    owner?: string,
  ): Promise<void>;
  /**
   * Gives the key up, so the client may retry (after a failure). With
   * `owner`: only while the key holds that owner's lock.
   */
  release(key: string, owner?: string): Promise<void>;
}

/** Injection token of the {@link IdempotencyStore}; provide a Redis one to share keys across instances. */
export const IDEMPOTENCY_STORE = Symbol('nestjs-hal-problem:idempotency-store');
