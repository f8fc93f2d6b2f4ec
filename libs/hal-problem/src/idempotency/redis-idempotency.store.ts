import type { Redis } from 'ioredis';
import type {
  IdempotencyRecord,
  IdempotencyStore,
} from './idempotency-store.interface';

/** A stored value's owner; nil for a completed record or anything not ours. */
const OWNER_OF = `
local function owner_of(value)
  local ok, record = pcall(cjson.decode, value)
  if ok and type(record) == 'table' then return record.owner end
  return nil
end
`;

/**
 * KEYS[1] the record; ARGV: the outcome, its TTL in ms, the owner. Stores
 * it over nothing or over the owner's own lock, never over a retry's lock
 * (taken after this request's lock expired) nor over a stored outcome.
 */
const COMPLETE_SCRIPT = `${OWNER_OF}
local current = redis.call('GET', KEYS[1])
if current and owner_of(current) ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/** KEYS[1] the record; ARGV[1] the owner. Deletes only the owner's own lock. */
const RELEASE_SCRIPT = `${OWNER_OF}
local current = redis.call('GET', KEYS[1])
if current and owner_of(current) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

type RedisWithScripts = Redis & {
  halProblemIdempotencyComplete(
    key: string,
    record: string,
    ttlMs: number,
    owner: string,
  ): Promise<number>;
  halProblemIdempotencyRelease(key: string, owner: string): Promise<number>;
};

/**
 * Keys in Redis, so the guarantee holds across instances: the lock is one
 * `SET NX PX` (atomic) naming its owner; the outcome replaces it with its
 * own expiry, and a release deletes it, each in one Lua script that first
 * checks the lock is still the owner's.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  private readonly redis: RedisWithScripts;

  constructor(
    redis: Redis,
    private readonly prefix = 'idempotency:',
  ) {
    const scripts = redis as unknown as Partial<RedisWithScripts>;
    if (typeof scripts.halProblemIdempotencyComplete !== 'function')
      redis.defineCommand('halProblemIdempotencyComplete', {
        numberOfKeys: 1,
        lua: COMPLETE_SCRIPT,
      });
    if (typeof scripts.halProblemIdempotencyRelease !== 'function')
      redis.defineCommand('halProblemIdempotencyRelease', {
        numberOfKeys: 1,
        lua: RELEASE_SCRIPT,
      });
    this.redis = redis as unknown as RedisWithScripts;
  }

  async acquire(
    key: string,
    fingerprint: string,
    lockTtlMs: number,
    owner?: string,
  ): Promise<IdempotencyRecord | undefined> {
    const lock: IdempotencyRecord =
      owner === undefined
        ? { fingerprint, state: 'in-flight' }
        : { fingerprint, state: 'in-flight', owner };
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
    owner?: string,
  ): Promise<void> {
    const redisKey = `${this.prefix}${key}`;
    const ttl = Math.max(1, Math.round(ttlMs));
    if (owner === undefined) {
      await this.redis.set(redisKey, JSON.stringify(record), 'PX', ttl);
      return;
    }
    await this.redis.halProblemIdempotencyComplete(
      redisKey,
      JSON.stringify(record),
      ttl,
      owner,
    );
  }

  async release(key: string, owner?: string): Promise<void> {
    const redisKey = `${this.prefix}${key}`;
    if (owner === undefined) await this.redis.del(redisKey);
    else await this.redis.halProblemIdempotencyRelease(redisKey, owner);
  }
}
