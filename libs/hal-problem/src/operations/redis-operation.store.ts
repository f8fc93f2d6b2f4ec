import type { Redis } from 'ioredis';
import type { OperationRecord } from './operation';
import type { OperationStore } from './operation-store.interface';

/** Operations as JSON in Redis, expiring on their own, shared by every instance. */
export class RedisOperationStore implements OperationStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'operation:',
  ) {}

  async save(record: OperationRecord, ttlMs: number): Promise<void> {
    await this.redis.set(
      `${this.prefix}${record.id}`,
      JSON.stringify(record),
      'PX',
      Math.max(1, Math.round(ttlMs)),
    );
  }

  async get(id: string): Promise<OperationRecord | undefined> {
    const json = await this.redis.get(`${this.prefix}${id}`);
    return json === null ? undefined : (JSON.parse(json) as OperationRecord);
  }
}
