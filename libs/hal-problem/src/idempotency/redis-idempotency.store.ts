import type { Redis } from 'ioredis';
import type {
  IdempotencyRecord,
  IdempotencyStore,
} from './idempotency-store.interface';

/**
 * Keys in Redis, so the guarantee holds across instances: the lock is one
 * `SET NX PX` (atomic), the outcome replaces it with its own expiry.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'idempotency:',
  ) {}

  async acquire(
    key: string,
    fingerprint: string,
    lockTtlMs: number,
  ): Promise<IdempotencyRecord | undefined> {
    const lock: IdempotencyRecord = { fingerprint, state: 'in-flight' };
    const redisKey = `${this.prefix}${key}`;
    const taken = await this.redis.set(
      redisKey,
      JSON.stringify(lock),
      'PX',
      Math.max(1, Math.round(lockTtlMs)),
      'NX',
    );
    if (taken === 'OK') return undefined;
    const json = await this.redis.get(redisKey);
    // Gone between the two commands (expired or released): report it as in flight; the client retries.
    return json === null ? lock : (JSON.parse(json) as IdempotencyRecord);
  }

  async complete(
    key: string,
    record: IdempotencyRecord,
    ttlMs: number,
  ): Promise<void> {
    await this.redis.set(
      `${this.prefix}${key}`,
      JSON.stringify(record),
      'PX',
      Math.max(1, Math.round(ttlMs)),
    );
  }

  async release(key: string): Promise<void> {
    await this.redis.del(`${this.prefix}${key}`);
  }
}
