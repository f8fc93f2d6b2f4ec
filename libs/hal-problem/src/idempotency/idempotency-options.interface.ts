import type { IdempotencyStore } from './idempotency-store.interface';

/** Module-level options of idempotent requests (draft-ietf-httpapi-idempotency-key-header). */
export interface IdempotencyOptions {
  /**
   * Where keys live. Default: a global `IDEMPOTENCY_STORE` provider if there
   * is one, else in memory. Use `RedisIdempotencyStore` to share keys between instances.
   */
  readonly store?: IdempotencyStore;
  /** How long a completed response is kept for replay. Default 24 hours. */
  readonly ttlMs?: number;
  /** How long an in-flight lock lives if its request never finishes (e.g. a crash). Default 60 s. */
  readonly lockTtlMs?: number;
  /** Treat every POST and PATCH as `@Idempotent()`. Default false. */
  readonly allUnsafeMethods?: boolean;
  /**
   * Store and replay 5xx outcomes too, instead of releasing the key; not one
   * with `Retry-After` (a 503 asking to retry). Default false.
   */
  readonly storeServerErrors?: boolean;
  /** The longest accepted key. Default 255. */
  readonly maxKeyLength?: number;
}

/** Per-handler options of `@Idempotent()`. */
export interface IdempotentOptions {
  /** Answer 400 when the request has no `Idempotency-Key`. Default false. */
  readonly required?: boolean;
  /** Overrides the module's `ttlMs` for this handler. */
  readonly ttlMs?: number;
}
