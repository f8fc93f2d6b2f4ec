import type { ThrottlerStorage } from '@nestjs/throttler';
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

/** How often, at most, ended buckets are dropped. */
const SWEEP_INTERVAL_MS = 1_000;

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
 * lookup, whatever the limit. Ended buckets are dropped at most once a
 * second, as hits arrive, so memory stays bounded by the keys of one window
 * (or block) and no timer keeps the process alive.
 */
export class InMemoryThrottlerStorage implements ThrottlerStorage {
  private readonly buckets = new Map<string, Bucket>();
  private nextSweepAt = 0;

  /** Buckets currently kept (for monitoring and tests). */
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
    if (now >= this.nextSweepAt) this.sweep(now);
    const id = `${throttlerName}:${key}`;
    let bucket = this.buckets.get(id);
    if (bucket && bucket.blockedUntil > now) {
      // Blocked: not counted. The window ends with the block.
      const left = bucket.blockedUntil - now;
      return Promise.resolve(throttlerRecord(bucket.hits, left, left));
    }
    if (!bucket || bucket.windowEndsAt <= now) {
      bucket = {
        hits: 0,
        windowEndsAt: now + Math.max(1, Math.round(ttl)),
        blockedUntil: 0,
      };
      this.buckets.set(id, bucket);
    }
    bucket.hits++;
    let blockLeft = 0;
    if (bucket.hits > limit) {
      blockLeft = Math.max(1, Math.round(blockDuration));
      // The window ends with the block: the next hit starts a new one.
      bucket.blockedUntil = bucket.windowEndsAt = now + blockLeft;
    }
    return Promise.resolve(
      throttlerRecord(bucket.hits, bucket.windowEndsAt - now, blockLeft),
    );
  }

  private sweep(now: number): void {
    this.nextSweepAt = now + SWEEP_INTERVAL_MS;
    for (const [id, bucket] of this.buckets) {
      if (bucket.windowEndsAt <= now && bucket.blockedUntil <= now)
        this.buckets.delete(id);
    }
  }
}
