import type { Redis } from 'ioredis';
import {
  type IdempotencyRecord,
  type IdempotencyStore,
  InMemoryIdempotencyStore,
  RedisIdempotencyStore,
} from 'nestjs-hal-problem';
import { describeWithRedis, redisClient, uniquePrefix } from './support/redis';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const outcome = (body: string): IdempotencyRecord => ({
  fingerprint: 'f',
  state: 'completed',
  response: { status: 201, headers: {}, body },
});

/**
 * What both stores promise when a request outlives its lock (a handler
 * slower than lockTtlMs) and a retry takes the key: the first request
 * neither releases nor overwrites the retry's lock.
 */
function ownershipContract(makeStore: () => IdempotencyStore) {
  let store: IdempotencyStore;
  let key = 0;
  const nextKey = () => `owner-test-${process.pid}-${key++}`;
  beforeEach(() => {
    store = makeStore();
  });

  it("leaves a retry's lock alone once the first request's lock expired", async () => {
    const id = nextKey();
    expect(await store.acquire(id, 'f', 50, 'first')).toBeUndefined();
    await sleep(80);
    expect(await store.acquire(id, 'f', 10_000, 'retry')).toBeUndefined();
    await store.release(id, 'first');
    await store.complete(id, outcome('first'), 10_000, 'first');
    // Still the retry's lock: a third request is told it is in flight.
    expect(await store.acquire(id, 'f', 10_000, 'third')).toMatchObject({
      state: 'in-flight',
      owner: 'retry',
    });
    await store.complete(id, outcome('retry'), 10_000, 'retry');
    expect(await store.acquire(id, 'f', 10_000, 'fourth')).toEqual(
      outcome('retry'),
    );
  });

  it('stores an outcome whose lock expired when no retry took the key', async () => {
    const id = nextKey();
    await store.acquire(id, 'f', 50, 'first');
    await sleep(80);
    await store.complete(id, outcome('late'), 10_000, 'first');
    expect(await store.acquire(id, 'f', 10_000, 'retry')).toEqual(
      outcome('late'),
    );
  });

  it('never releases or overwrites a stored outcome', async () => {
    const id = nextKey();
    await store.acquire(id, 'f', 10_000, 'first');
    await store.complete(id, outcome('first'), 10_000, 'first');
    await store.release(id, 'first');
    await store.complete(id, outcome('again'), 10_000, 'first');
    expect(await store.acquire(id, 'f', 10_000, 'retry')).toEqual(
      outcome('first'),
    );
  });

  it('releases its own lock', async () => {
    const id = nextKey();
    await store.acquire(id, 'f', 10_000, 'first');
    await store.release(id, 'first');
    expect(await store.acquire(id, 'f', 10_000, 'retry')).toBeUndefined();
  });
}

describe('InMemoryIdempotencyStore lock ownership', () => {
  ownershipContract(() => new InMemoryIdempotencyStore());
});

describeWithRedis('RedisIdempotencyStore lock ownership', () => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await redisClient();
  });
  afterAll(() => redis.quit());
  ownershipContract(
    () => new RedisIdempotencyStore(redis, uniquePrefix('idempotency-owner')),
  );

  it('leaves a value it did not write alone, without failing', async () => {
    const prefix = uniquePrefix('idempotency-foreign');
    const store = new RedisIdempotencyStore(redis, prefix);
    for (const foreign of ['not json', '123', 'null', '"text"']) {
      await redis.set(`${prefix}k`, foreign);
      await store.complete('k', outcome('mine'), 10_000, 'owner');
      await store.release('k', 'owner');
      expect(await redis.get(`${prefix}k`)).toBe(foreign);
    }
  });
});
