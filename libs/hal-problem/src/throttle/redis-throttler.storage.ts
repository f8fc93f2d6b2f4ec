import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Redis } from 'ioredis';

/** The record @nestjs/throttler expects back from a storage (its own type is not exported). */
export type ThrottlerStorageRecord = Awaited<
  ReturnType<ThrottlerStorage['increment']>
>;

/**
 * One atomic step of a fixed window with millisecond precision: count the
 * hit, start the window on the first hit, and block for `blockDuration`
 * once the count passes the limit (until the window ends when
 * `blockDuration` is 0). While blocked, hits are not counted;
 * the window ends with the block, so the first hit after it starts a new
 * one (as @nestjs/throttler's own storage resets a block's hits), and
 * `Retry-After` (the block's end) is when a request passes again.
 * Returns {hits, window ms left, block ms left}.
 */
const HIT_SCRIPT = `
local hitsKey, blockKey = KEYS[1], KEYS[2]
local ttl, limit, blockDuration = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local blocked = redis.call('PTTL', blockKey)
if blocked > 0 then
  local hits = tonumber(redis.call('GET', hitsKey) or '0')
  return {hits, math.max(redis.call('PTTL', hitsKey), 0), blocked}
end
local hits = redis.call('INCR', hitsKey)
local left = redis.call('PTTL', hitsKey)
if left < 0 then
  redis.call('PEXPIRE', hitsKey, ttl)
  left = ttl
end
if hits > limit then
  if blockDuration <= 0 then blockDuration = math.max(left, 1) end
  redis.call('SET', blockKey, '1', 'PX', blockDuration)
  redis.call('PEXPIRE', hitsKey, blockDuration)
  return {hits, blockDuration, blockDuration}
end
return {hits, left, 0}
`;

type RedisWithHit = Redis & {
  halProblemThrottleHit(
    hitsKey: string,
    blockKey: string,
    ttl: number,
    limit: number,
    block: number,
  ): Promise<[number, number, number]>;
};

/**
 * A `ThrottlerStorage` in Redis (ioredis), so every instance of an app
 * shares one limit. Written here because `@nest-lab/throttler-storage-redis`
 * does not declare Nest 12 and counts in whole seconds.
 *
 * - one Lua script per hit: atomic, one round trip;
 * - a fixed window with millisecond precision (`PEXPIRE`), documented in docs/auth-and-throttling.md;
 * - both keys of a bucket share a `{hash tag}`, so they live in one Redis Cluster slot.
 *
 * Errors (Redis unreachable) reject, and the guard applies its outage policy.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly redis: RedisWithHit;

  constructor(
    redis: Redis,
    private readonly prefix = 'throttle:',
  ) {
    if (
      typeof (redis as unknown as Partial<RedisWithHit>)
        .halProblemThrottleHit !== 'function'
    ) {
      redis.defineCommand('halProblemThrottleHit', {
        numberOfKeys: 2,
        lua: HIT_SCRIPT,
      });
    }
    this.redis = redis as unknown as RedisWithHit;
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const bucket = `${this.prefix}{${throttlerName}:${key}}`;
    const [hits, windowLeft, blockLeft] =
      await this.redis.halProblemThrottleHit(
        `${bucket}:hits`,
        `${bucket}:blocked`,
        expiryMs(ttl),
        limit,
        // 0: no block of its own, refused until the window ends (as
        // @nestjs/throttler reads a blockDuration of 0 or less).
        blockDuration > 0 ? expiryMs(blockDuration) : 0,
      );
    return throttlerRecord(Number(hits), Number(windowLeft), Number(blockLeft));
  }
}

/**
 * The longest window or block written to Redis: a century. `Infinity` (a
 * window or block without end, which the in-memory storages keep) is no
 * expiry Redis accepts, and a script refused on every hit would leave the
 * client unlimited under `fail-open`.
 */
const MAX_EXPIRY_MS = 100 * 365.25 * 24 * 3600 * 1000;

/** A window or block in whole milliseconds Redis accepts: at least 1, at most a century. */
function expiryMs(value: number): number {
  return Math.min(Math.max(1, Math.round(value)), MAX_EXPIRY_MS);
}

/** A fixed window's state as @nestjs/throttler wants it: times in whole seconds, rounded up. */
export function throttlerRecord(
  hits: number,
  windowLeftMs: number,
  blockLeftMs: number,
): ThrottlerStorageRecord {
  return {
    totalHits: hits,
    timeToExpire: Math.ceil(windowLeftMs / 1000),
    isBlocked: blockLeftMs > 0,
    timeToBlockExpire: Math.ceil(blockLeftMs / 1000),
  };
}
