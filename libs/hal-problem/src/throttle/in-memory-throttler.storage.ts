import type { ThrottlerStorage } from '@nestjs/throttler';
import { boundedRecords, type ExpiringMap } from '../idempotency/expiring-map';
import {
  throttlerRecord,
  type ThrottlerStorageRecord,
} from './redis-throttler.storage';

/** One bucket: hits of the current window, and when the window and any block end (ms). */
interface Bucket {
  hits: number;
  windowEndsAt: number;
  blockedUntil: number;
}

/** Options of `InMemoryThrottlerStorage`. */
export interface InMemoryThrottlerStorageOptions {
  /**
   * Most buckets (one per throttler, tracker and, unless the module's
   * `scope` is `'client'`, route) kept at once; default 100,000, `Infinity`
   * for no limit. A new bucket in a full storage drops the unblocked one of
   * the longest window that started first, so that client's next request
   * starts a new window; a blocked bucket is never dropped before its block
   * ends, and when only blocked ones are kept, a new client's hits are not
   * counted. A full storage limits less; it never refuses a request.
   */
  readonly maxBuckets?: number;
}

/**
 * A `ThrottlerStorage` in this process with the semantics of
 * `RedisThrottlerStorage`: a fixed window with millisecond precision,
 * started by its first hit; once the count passes the limit the bucket is
 * blocked for `blockDuration`, hits are not counted while it is, and the
 * window ends with the block.
 *
 * Written because `@nestjs/throttler`'s own in-memory store is a sliding
 * log: it keeps one timestamp per hit of the window and filters them on every
 * request, so a request's cost grows with the limit (328 to 937 µs per
 * request at a limit of 10⁹ in `npm run bench:cpu`). Here a hit is one map
 * lookup, whatever the limit. Buckets are kept in expiry order per window
 * length, so ended ones are dropped as hits arrive at the cost of the ended
 * ones only (no scan of every client, no timer keeping the process alive),
 * and at most `maxBuckets` are kept: without a cap, clients with many
 * addresses (an IPv6 prefix holds millions of /64s) could grow the map by
 * one bucket per request for a whole window.
 */
export class InMemoryThrottlerStorage implements ThrottlerStorage {
  private readonly buckets: ExpiringMap<Bucket>;

  constructor(options: InMemoryThrottlerStorageOptions = {}) {
    this.buckets = boundedRecords<Bucket>(
      'InMemoryThrottlerStorage',
      options.maxBuckets ?? 100_000,
      // Blocked buckets are pinned (below), so any other may go.
      () => true,
      (max) =>
        `InMemoryThrottlerStorage is full (${max} buckets): starting new windows early for the clients seen longest ago. Raise maxBuckets, or use RedisThrottlerStorage.`,
      'maxBuckets',
    );
  }

  /** Buckets currently kept, ended ones not yet dropped included (for monitoring and tests). */
  get size(): number {
    return this.buckets.size;
  }

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const now = Date.now();
    this.buckets.sweep(now);
    const id = `${throttlerName}:${key}`;
    let bucket = this.buckets.get(id, now);
    if (bucket && bucket.blockedUntil > now) {
      // Blocked: not counted. The window ends with the block.
      const left = bucket.blockedUntil - now;
      return Promise.resolve(throttlerRecord(bucket.hits, left, left));
    }
    if (!bucket) {
      const windowMs = Math.max(1, Math.round(ttl));
      bucket = { hits: 0, windowEndsAt: now + windowMs, blockedUntil: 0 };
      // Full of blocked buckets only: this hit is not counted (a full
      // storage limits less; it never refuses a request).
      this.buckets.set(id, bucket, windowMs, now);
    }
    bucket.hits++;
    let blockLeft = 0;
    if (bucket.hits > limit) {
      // No block of its own (`blockDuration` 0, as @nestjs/throttler reads
      // it): refused until the window ends, not for a millisecond.
      blockLeft =
        blockDuration > 0
          ? Math.max(1, Math.round(blockDuration))
          : Math.max(1, bucket.windowEndsAt - now);
      // The window ends with the block: the next hit starts a new one.
      bucket.blockedUntil = bucket.windowEndsAt = now + blockLeft;
      // Pinned: never dropped to make room before the block ends, or a
      // flood of new keys would lift blocks (one that stops a password
      // being guessed, say).
      this.buckets.set(id, bucket, blockLeft, now, { pinned: true });
    }
    return Promise.resolve(
      throttlerRecord(bucket.hits, bucket.windowEndsAt - now, blockLeft),
    );
  }
}
