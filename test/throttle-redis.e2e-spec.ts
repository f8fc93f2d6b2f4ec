import { Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import {
  InMemoryThrottlerStorage,
  RedisThrottlerStorage,
} from 'nestjs-hal-problem';
import {
  ADAPTERS,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';
import { expectProblem } from './support/problem-assertions';
import {
  describeWithRedis,
  redisClient,
  useOwnRedis,
  uniquePrefix,
} from './support/redis';
import { throttleFixtureModule } from './fixtures/throttle-fixture.module';

async function startWithRedis(
  adapter: (typeof ADAPTERS)[number],
  redis: Redis,
  prefix: string,
  limit: number,
  onStorageError: 'fail-open' | 'fail-closed' = 'fail-open',
): Promise<RunningApp> {
  @Module(
    throttleFixtureModule(limit, {
      storage: new RedisThrottlerStorage(redis, prefix),
      throttle: { onStorageError },
    }),
  )
  class RedisThrottledModule {}
  return startTestingApp(
    adapter,
    Test.createTestingModule({ imports: [RedisThrottledModule] }),
  );
}

describeWithRedis.each(ADAPTERS)('rate limiting in Redis on %s', (adapter) => {
  let redis: Redis;
  beforeAll(async () => {
    redis = await redisClient();
  });
  afterAll(() => redis.quit());

  it.each([
    [10, 3],
    [30, 7],
    [60, 25],
  ])(
    'shares one limit between two instances: %i parallel requests against a limit of %i',
    async (n, limit) => {
      const prefix = uniquePrefix('shared');
      const first = await startWithRedis(adapter, redis, prefix, limit);
      const second = await startWithRedis(adapter, redis, prefix, limit);
      try {
        const responses = await Promise.all(
          Array.from({ length: n }, (_, i) =>
            fetch(`${(i % 2 ? first : second).baseUrl}/limited/open`),
          ),
        );
        const statuses = responses.map((response) => response.status);
        expect(statuses.filter((status) => status === 200)).toHaveLength(limit);
        expect(statuses.filter((status) => status === 429)).toHaveLength(
          n - limit,
        );
        const limited = responses.find((response) => response.status === 429)!;
        expect(
          Number(limited.headers.get('retry-after')),
        ).toBeGreaterThanOrEqual(1);
      } finally {
        await first.close();
        await second.close();
      }
    },
  );

  it('counts the window in milliseconds: a new window starts right after the old one', async () => {
    @Module(
      throttleFixtureModule(2, {
        storage: new RedisThrottlerStorage(redis, uniquePrefix('window')),
        ttl: 300,
      }),
    )
    class ShortWindowModule {}
    const running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [ShortWindowModule] }),
    );
    try {
      const call = () =>
        fetch(`${running.baseUrl}/limited/open`).then(
          (response) => response.status,
        );
      expect([await call(), await call(), await call()]).toEqual([
        200, 200, 429,
      ]);
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(await call()).toBe(200);
    } finally {
      await running.close();
    }
  });

  it.each([
    ['a window', { ttl: Infinity }],
    ['a block', { blockDuration: Infinity }],
  ])(
    'limits with %s without end (Infinity), as the in-memory storages do',
    async (_name, numbers) => {
      @Module(
        throttleFixtureModule(1, {
          storage: new RedisThrottlerStorage(redis, uniquePrefix('endless')),
          throttle: { onStorageError: 'fail-open' },
          ...numbers,
        }),
      )
      class EndlessModule {}
      const running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [EndlessModule] }),
      );
      try {
        const get = () => fetch(`${running.baseUrl}/limited/open`);
        const first = await get();
        expect(first.status).toBe(200);
        expect(first.headers.get('ratelimit')).toMatch(/^"default";r=0;t=\d+$/);
        await expectProblem(await get(), 429);
      } finally {
        await running.close();
      }
    },
  );

  it('with no block of its own (blockDuration 0), refuses the client until the window ends', async () => {
    @Module(
      throttleFixtureModule(2, {
        storage: new RedisThrottlerStorage(redis, uniquePrefix('no-block')),
        ttl: 60_000,
        blockDuration: 0,
      }),
    )
    class NoBlockModule {}
    const running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [NoBlockModule] }),
    );
    try {
      const get = () => fetch(`${running.baseUrl}/limited/open`);
      expect((await get()).status).toBe(200);
      expect((await get()).status).toBe(200);
      const limited = await get();
      await expectProblem(limited, 429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(50);
      // A block of a millisecond would be over by now.
      await new Promise((resolve) => setTimeout(resolve, 50));
      await expectProblem(await get(), 429);
    } finally {
      await running.close();
    }
  });
});

describeWithRedis(
  'InMemoryThrottlerStorage against RedisThrottlerStorage',
  () => {
    let redis: Redis;
    beforeAll(async () => {
      redis = await redisClient();
    });
    afterAll(() => redis.quit());

    it('gives the same record at every step of one script: window, block, a new window when the block ends', async () => {
      const stores = [
        new RedisThrottlerStorage(redis, uniquePrefix('parity')),
        new InMemoryThrottlerStorage(),
      ];
      // limit 2, a window of 1,000 ms, blocks of 400 ms; every wait is at
      // least 200 ms away from a boundary, so both stores see the same moments.
      const hitBoth = () =>
        Promise.all(
          stores.map((store) =>
            store.increment('ip:1', 1_000, 2, 400, 'default'),
          ),
        );
      const sleep = (ms: number) =>
        new Promise((resolve) => setTimeout(resolve, ms));
      const steps = [];
      for (let i = 0; i < 4; i++) steps.push(await hitBoth()); // 1, 2, 3 (blocked), blocked
      await sleep(600); // the block is over, and the window with it
      steps.push(await hitBoth()); // a new window
      for (let i = 0; i < 2; i++) steps.push(await hitBoth()); // 2, 3 (blocked)
      await sleep(600); // that block is over too
      steps.push(await hitBoth()); // a new window
      for (const [fromRedis, inMemory] of steps)
        expect(inMemory).toEqual(fromRedis);
      expect(
        steps.map(([record]) => [record.totalHits, record.isBlocked]),
      ).toEqual([
        [1, false],
        [2, false],
        [3, true],
        [3, true],
        [1, false],
        [2, false],
        [3, true],
        [1, false],
      ]);
    });
  },
);

describeWithRedis.each(ADAPTERS)('Redis outages on %s', (adapter) => {
  const own = useOwnRedis();

  it('fails open or closed as configured, never crashes, and recovers when Redis is back', async () => {
    const { server, redis } = own;
    const prefix = uniquePrefix('outage');
    const open = await startWithRedis(adapter, redis, prefix, 100, 'fail-open');
    const closed = await startWithRedis(
      adapter,
      redis,
      `${prefix}closed:`,
      100,
      'fail-closed',
    );
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      expect(
        (await fetch(`${open.baseUrl}/limited/open`)).headers.get('ratelimit'),
      ).not.toBeNull();

      await server.stop();
      const duringOpen = await fetch(`${open.baseUrl}/limited/open`);
      expect(duringOpen.status).toBe(200);
      expect(duringOpen.headers.get('ratelimit')).toBeNull();
      const duringClosed = await fetch(`${closed.baseUrl}/limited/open`);
      expect(duringClosed.headers.get('retry-after')).toBe('5');
      const body = await expectProblem(duringClosed, 503);
      expect(JSON.stringify(body)).not.toMatch(
        /ECONNREFUSED|Connection|stream/i,
      );

      await server.start();
      let recovered: Response | undefined;
      for (let i = 0; i < 50; i++) {
        recovered = await fetch(`${closed.baseUrl}/limited/open`);
        if (recovered.status === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(recovered!.status).toBe(200);
      expect(recovered!.headers.get('ratelimit')).toMatch(
        /^"default";r=\d+;t=\d+$/,
      );
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await open.close();
      await closed.close();
    }
  });
});
