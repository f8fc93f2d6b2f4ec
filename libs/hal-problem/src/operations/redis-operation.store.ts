import type { Redis } from 'ioredis';
import type { OperationRecord } from './operation';
import type { OperationStore } from './operation-store.interface';

/**
 * KEYS[1] the operation; ARGV: the record, its TTL in ms. Stores it unless
 * the stored one is finished, and returns the record kept: one script, so
 * two instances storing outcomes at once never both succeed.
 */
const SAVE_UNLESS_FINISHED_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current then
  local ok, record = pcall(cjson.decode, current)
  if ok and type(record) == 'table' and (record.status == 'done' or record.status == 'failed') then
    return current
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
`;

type RedisWithScript = Redis & {
  halProblemOperationSaveUnlessFinished(
    key: string,
    record: string,
    ttlMs: number,
  ): Promise<string>;
};

/** A TTL or lease in whole milliseconds Redis accepts. */
const expiryMs = (ms: number) => Math.max(1, Math.round(ms));

/**
 * Operations as JSON in Redis, expiring on their own, shared by every
 * instance. A lease is one key per running instance (`<prefix>lease:<runner>`)
 * that expires on Redis's clock, so the instances' clocks need not agree.
 */
export class RedisOperationStore implements OperationStore {
  private readonly redis: RedisWithScript;

  constructor(
    redis: Redis,
    private readonly prefix = 'operation:',
  ) {
    if (
      typeof (redis as unknown as Partial<RedisWithScript>)
        .halProblemOperationSaveUnlessFinished !== 'function'
    )
      redis.defineCommand('halProblemOperationSaveUnlessFinished', {
        numberOfKeys: 1,
        lua: SAVE_UNLESS_FINISHED_SCRIPT,
      });
    this.redis = redis as unknown as RedisWithScript;
  }

  async save(record: OperationRecord, ttlMs: number): Promise<void> {
    await this.redis.set(
      `${this.prefix}${record.id}`,
      JSON.stringify(record),
      'PX',
      expiryMs(ttlMs),
    );
  }

  async get(id: string): Promise<OperationRecord | undefined> {
    const json = await this.redis.get(`${this.prefix}${id}`);
    return json === null ? undefined : (JSON.parse(json) as OperationRecord);
  }

  async saveUnlessFinished(
    record: OperationRecord,
    ttlMs: number,
  ): Promise<OperationRecord> {
    const kept = await this.redis.halProblemOperationSaveUnlessFinished(
      `${this.prefix}${record.id}`,
      JSON.stringify(record),
      expiryMs(ttlMs),
    );
    return JSON.parse(kept) as OperationRecord;
  }

  async renewLease(runner: string, leaseMs: number): Promise<void> {
    await this.redis.set(
      `${this.prefix}lease:${runner}`,
      '1',
      'PX',
      expiryMs(leaseMs),
    );
  }

  async hasLease(runner: string): Promise<boolean> {
    return (await this.redis.exists(`${this.prefix}lease:${runner}`)) === 1;
  }
}
