import {
  Body,
  Controller,
  Get,
  Global,
  HttpCode,
  Module,
  Param,
  Post,
} from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import type { Redis } from 'ioredis';
import {
  HalLink,
  HalOperation,
  HalProblemModule,
  HalResource,
  Idempotent,
  Operation,
  OPERATION_STORE,
  OperationsService,
  Public,
  RedisIdempotencyStore,
  RedisOperationStore,
  RedisThrottlerStorage,
  SkipHal,
} from 'nestjs-hal-problem';
import { startTestingApp, Test, type RunningApp } from './support/adapters';
import { expectProblem } from './support/problem-assertions';
import { describeWithRedis, redisClient, uniquePrefix } from './support/redis';
import { AUTH_OPTIONS } from './fixtures/auth-fixture.module';

type Json = Record<string, any>;
type Adapter = 'express' | 'fastify';

/** A promise the test settles: the handler waits on it, no timer involved. */
class Gate {
  open!: () => void;
  readonly passed = new Promise<void>((resolve) => (this.open = resolve));
}

/** Per test: handler executions and the gate each named request waits on. */
const executions = new Map<string, number>();
const entered = new Map<string, () => void>();
const gates = new Map<string, Gate>();
const gateOf = (name: string) => {
  let gate = gates.get(name);
  if (!gate) gates.set(name, (gate = new Gate()));
  return gate;
};
/** Resolves once a request named `name` is inside its handler. */
const inside = (name: string) =>
  new Promise<void>((resolve) => entered.set(name, resolve));

@HalLink('self', '/multi/items/{id}')
class ItemResource {}

@HalOperation(() => [MultiController, 'status'])
class JobOperation extends Operation {}

@Controller('multi')
@Public()
class MultiController {
  constructor(private readonly operations: OperationsService) {}

  @Get('limited')
  @SkipHal()
  limited(): { ok: true } {
    return { ok: true };
  }

  @Post('items')
  @Idempotent()
  @HalResource(ItemResource)
  async create(
    @Body() body: { name: string },
  ): Promise<{ id: string; name: string }> {
    const count = (executions.get(body.name) ?? 0) + 1;
    executions.set(body.name, count);
    entered.get(body.name)?.();
    await gateOf(`${body.name}#${count}`).passed;
    return { id: `${body.name}-${count}`, name: body.name };
  }

  @Post('jobs/:name')
  @HttpCode(202)
  @HalResource(JobOperation)
  start(@Param('name') name: string): Promise<Operation> {
    return this.operations.start('job', async () => {
      entered.get(name)?.();
      await gateOf(name).passed;
      return { resultHref: `/multi/results/${name}` };
    });
  }

  @Get('jobs/:id')
  @HalResource(JobOperation)
  status(@Param('id') id: string): Promise<Operation> {
    return this.operations.get(id);
  }
}

interface Options {
  limit?: number;
  ttl?: number;
  blockDuration?: number;
  lockTtlMs?: number;
}

async function startInstance(
  adapter: Adapter,
  redis: Redis,
  prefix: string,
  options: Options = {},
): Promise<RunningApp> {
  // Shared as the docs say: OPERATION_STORE from a global module.
  @Global()
  @Module({
    providers: [
      {
        provide: OPERATION_STORE,
        useFactory: () => new RedisOperationStore(redis, `${prefix}o:`),
      },
    ],
    exports: [OPERATION_STORE],
  })
  class StoreModule {}
  @Module({
    imports: [
      ThrottlerModule.forRoot({
        throttlers: [
          {
            ttl: options.ttl ?? 60_000,
            limit: options.limit ?? 1_000,
            blockDuration: options.blockDuration,
          },
        ],
        storage: new RedisThrottlerStorage(redis, `${prefix}t:`),
      }),
      HalProblemModule.forRoot({
        ...AUTH_OPTIONS,
        idempotency: {
          store: new RedisIdempotencyStore(redis, `${prefix}i:`),
          lockTtlMs: options.lockTtlMs,
        },
      }),
    ],
    controllers: [MultiController],
  })
  class InstanceModule {}
  return startTestingApp(
    adapter,
    Test.createTestingModule({ imports: [StoreModule, InstanceModule] }),
  );
}

const PAIRS: readonly [Adapter, Adapter][] = [
  ['express', 'fastify'],
  ['express', 'express'],
  ['fastify', 'fastify'],
];

describeWithRedis.each(PAIRS)(
  'two instances (%s + %s) sharing Redis',
  (a, b) => {
    let redis: Redis;
    let apps: RunningApp[] = [];
    beforeAll(async () => {
      redis = await redisClient();
    });
    afterEach(async () => {
      for (const gate of gates.values()) gate.open();
      await Promise.all(apps.map((app) => app.close()));
      apps = [];
      gates.clear();
      entered.clear();
      executions.clear();
    });
    afterAll(() => redis.quit());

    const pair = async (options: Options = {}) => {
      const prefix = uniquePrefix('multi');
      apps = [
        await startInstance(a, redis, prefix, options),
        await startInstance(b, redis, prefix, options),
      ];
      return apps;
    };

    const post = (
      app: RunningApp,
      name: string,
      key: string,
      init: RequestInit = {},
    ) =>
      fetch(`${app.baseUrl}/multi/items`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ name }),
        ...init,
      });
    const replayed = async (response: Response) => ({
      status: response.status,
      body: await response.text(),
      location: response.headers.get('location'),
      type: response.headers.get('content-type'),
      replayed: response.headers.get('idempotent-replayed'),
    });

    it('counts N requests split over both instances against one limit, with agreeing headers', async () => {
      const [first, second] = await pair({ limit: 5 });
      const seen: {
        status: number;
        remaining: string | null;
        retry: string | null;
      }[] = [];
      for (let i = 0; i < 8; i++) {
        const response = await fetch(
          `${(i % 2 ? second : first).baseUrl}/multi/limited`,
        );
        seen.push({
          status: response.status,
          remaining: response.headers.get('ratelimit'),
          retry: response.headers.get('retry-after'),
        });
      }
      expect(seen.map((s) => s.status)).toEqual([
        200, 200, 200, 200, 200, 429, 429, 429,
      ]);
      // Remaining counts down across instances: r=4, 3, 2, 1, 0.
      expect(
        seen.slice(0, 5).map((s) => /;r=(\d+)/.exec(s.remaining ?? '')?.[1]),
      ).toEqual(['4', '3', '2', '1', '0']);
      // Every 429, whichever instance answered, names a wait.
      for (const s of seen.slice(5))
        expect(Number(s.retry)).toBeGreaterThanOrEqual(1);
    });

    it('shares a block: a client blocked through one instance is blocked on the other', async () => {
      const [first, second] = await pair({
        limit: 1,
        ttl: 60_000,
        blockDuration: 120_000,
      });
      expect((await fetch(`${first.baseUrl}/multi/limited`)).status).toBe(200);
      const blocked = await fetch(`${first.baseUrl}/multi/limited`);
      expect(blocked.status).toBe(429);
      const other = await fetch(`${second.baseUrl}/multi/limited`);
      await expectProblem(other, 429);
      // Both name the block, not the window: more than the 60 s window.
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(60);
      expect(Number(other.headers.get('retry-after'))).toBeGreaterThan(60);
    });

    it('runs a handler once for one key sent to both instances at once; both then replay the same response', async () => {
      const [first, second] = await pair();
      const key = '"same-key"';
      const running = inside('once');
      const firstCall = post(first, 'once', key);
      await running;
      // The second instance answers while the first still runs: 409 in flight.
      const inFlight = await post(second, 'once', key);
      await expectProblem(inFlight, 409);
      expect(inFlight.headers.get('retry-after')).toBe('1');
      gateOf('once#1').open();
      const original = await firstCall;
      expect(original.status).toBe(201);
      const originalBody = await original.text();
      expect(executions.get('once')).toBe(1);
      const replays = [
        await replayed(await post(first, 'once', key)),
        await replayed(await post(second, 'once', key)),
      ];
      for (const replay of replays)
        expect(replay).toEqual({
          status: 200,
          body: originalBody,
          location: original.headers.get('location'),
          type: original.headers.get('content-type'),
          replayed: 'true',
        });
      expect(executions.get('once')).toBe(1);
      // A different body with the key: 422 on either instance.
      for (const app of [first, second])
        await expectProblem(await post(app, 'other', key), 422);
      expect(executions.get('other')).toBeUndefined();
    });

    it('lets the other instance run a key whose first request never finished, once its lock expired', async () => {
      const [first, second] = await pair({ lockTtlMs: 300 });
      const key = '"crashed"';
      const running = inside('crash');
      const aborted = new AbortController();
      const lost = post(first, 'crash', key, { signal: aborted.signal }).catch(
        () => undefined,
      );
      await running;
      // The first instance is gone mid-handler: its client never hears back.
      aborted.abort();
      await lost;
      let retry: Response | undefined;
      // The retry is 409 until the lock expires, then runs (bounded tries).
      gateOf('crash#2').open();
      for (let tries = 0; tries < 100; tries++) {
        const response = await post(second, 'crash', key);
        if (response.status !== 409) {
          retry = response;
          break;
        }
        await response.text();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(retry?.status).toBe(201);
      expect(executions.get('crash')).toBe(2);
      const outcome = await retry!.text();
      // The first handler finishing late does not replace the retry's outcome.
      gateOf('crash#1').open();
      await new Promise((resolve) => setImmediate(resolve));
      for (const app of [second, first]) {
        const replay = await post(app, 'crash', key);
        expect(replay.status).toBe(200);
        expect(await replay.text()).toBe(outcome);
      }
    });

    it("follows an operation started on one instance on the other's monitor", async () => {
      const [first, second] = await pair();
      const running = inside('job');
      const accepted = await fetch(`${first.baseUrl}/multi/jobs/job`, {
        method: 'POST',
      });
      expect(accepted.status).toBe(202);
      const monitor = accepted.headers.get('location')!;
      await running;
      const during = await fetch(`${second.baseUrl}${monitor}`);
      expect(((await during.json()) as Json).status).toBe('running');
      expect(during.headers.get('retry-after')).toBe('1');
      gateOf('job').open();
      let body: Json = {};
      for (let tries = 0; tries < 200 && body.status !== 'done'; tries++) {
        if (tries) await new Promise((resolve) => setTimeout(resolve, 5));
        body = (await (
          await fetch(`${second.baseUrl}${monitor}`)
        ).json()) as Json;
      }
      expect(body.status).toBe('done');
      expect(body._links.result.href).toBe('/multi/results/job');
    });

    it('says what became of an operation whose instance shut down while it ran', async () => {
      const [first, second] = await pair();
      const running = inside('orphan');
      const accepted = await fetch(`${first.baseUrl}/multi/jobs/orphan`, {
        method: 'POST',
      });
      const monitor = accepted.headers.get('location')!;
      await running;
      await first.close();
      apps = [second];
      const after = (await (
        await fetch(`${second.baseUrl}${monitor}`)
      ).json()) as Json;
      // Stored as failed at shutdown, not left running for its whole TTL.
      expect(after.status).toBe('failed');
      expect(after.problem.status).toBe(503);
      // The work ending afterwards does not turn it back.
      gateOf('orphan').open();
      await new Promise((resolve) => setTimeout(resolve, 20));
      const later = (await (
        await fetch(`${second.baseUrl}${monitor}`)
      ).json()) as Json;
      expect(later.status).toBe('failed');
    });
  },
);
