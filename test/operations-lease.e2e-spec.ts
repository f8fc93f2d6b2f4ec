import {
  Controller,
  Get,
  Global,
  HttpCode,
  Module,
  Param,
  Post,
  type Type,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import {
  HalOperation,
  HalProblemModule,
  HalResource,
  Operation,
  InMemoryOperationStore,
  OPERATION_STORE,
  type OperationStore,
  type OperationRecord,
  OperationsService,
  RedisOperationStore,
} from 'nestjs-hal-problem';
import {
  ADAPTERS,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';
import { ChildApp } from './support/child-app';
import { describeWithRedis, uniquePrefix, useOwnRedis } from './support/redis';

type Json = Record<string, any>;

const STOPPED =
  'The instance running this operation stopped before it finished; start it again.';

@HalOperation(() => [MonitorController, 'status'])
class LeaseOperation extends Operation {}

/** The monitor of test/fixtures/operations-instance.ts, on an instance that runs no work. */
@Controller('lease')
class MonitorController {
  constructor(private readonly operations: OperationsService) {}

  @Get('jobs/:id')
  @HalResource(LeaseOperation)
  status(@Param('id') id: string): Promise<Operation> {
    return this.operations.get(id);
  }
}

/** A global module providing `store` as the operation store, as an app provides its own. */
function storeModule(store: () => OperationStore): Type {
  @Global()
  @Module({
    providers: [{ provide: OPERATION_STORE, useFactory: store }],
    exports: [OPERATION_STORE],
  })
  class StoreModule {}
  return StoreModule;
}

/** A Redis store under `prefix`, shared by every app given it. */
const redisStore = (redis: Redis, prefix: string) =>
  storeModule(() => new RedisOperationStore(redis, prefix));

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithRedis.each(ADAPTERS)(
  'an operation whose instance is killed, read on %s',
  (adapter) => {
    const own = useOwnRedis();
    let prefix: string;
    let child: ChildApp | undefined;
    let readers: RunningApp[] = [];

    const reader = async (on = adapter) => {
      const app = await startTestingApp(
        on,
        Test.createTestingModule({
          imports: [
            redisStore(own.redis, prefix),
            HalProblemModule.forRoot({ operations: { leaseMs: 300 } }),
          ],
          controllers: [MonitorController],
        }),
      );
      readers.push(app);
      return app;
    };
    /** The instance that runs the work: another process, so it can be killed. */
    const instance = async (leaseMs: number) => {
      child = ChildApp.start('test/fixtures/operations-instance.ts', {
        ADAPTER: adapter,
        REDIS_PORT: String(own.server.port),
        PREFIX: prefix,
        LEASE_MS: String(leaseMs),
      });
      const { port } = await child.message((message) => 'port' in message);
      return `http://127.0.0.1:${String(port)}`;
    };
    const startJob = async (baseUrl: string, name: string) => {
      const accepted = await fetch(`${baseUrl}/lease/jobs/${name}`, {
        method: 'POST',
      });
      expect(accepted.status).toBe(202);
      const body = (await accepted.json()) as Json;
      return {
        id: body.id as string,
        monitor: accepted.headers.get('location')!,
      };
    };
    const read = async (app: RunningApp, monitor: string) => {
      const response = await fetch(`${app.baseUrl}${monitor}`);
      return {
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        body: (await response.json()) as Json,
      };
    };
    /** Reads until the operation is finished: a bounded number of tries. */
    const finished = async (app: RunningApp, monitor: string) => {
      for (let tries = 0; tries < 200; tries++) {
        const seen = await read(app, monitor);
        if (seen.body.status === 'done' || seen.body.status === 'failed')
          return seen;
        await pause(25);
      }
      throw new Error(`${monitor} still unfinished`);
    };
    const stored = async (id: string) =>
      JSON.parse((await own.redis.get(`${prefix}${id}`))!) as OperationRecord;

    beforeEach(() => {
      prefix = uniquePrefix('lease');
    });
    afterEach(async () => {
      await child?.kill();
      child = undefined;
      await Promise.all(readers.map((app) => app.close()));
      readers = [];
    });

    it('is running while its instance lives, and failed (503) once its lease lapses after kill -9', async () => {
      const app = await reader();
      // A lease long enough that a loaded CI machine starving the child for
      // a moment does not let it lapse; two leases later it must still run.
      const { id, monitor } = await startJob(await instance(1_500), 'killed');
      await pause(3_000);
      const alive = await read(app, monitor);
      expect(alive).toMatchObject({ status: 200, retryAfter: '1' });
      expect(alive.body.status).toMatch(/^(pending|running)$/);
      await child!.kill();
      const seen = await finished(app, monitor);
      expect(seen.status).toBe(200);
      expect(seen.retryAfter).toBeNull();
      expect(seen.body).toMatchObject({ id, status: 'failed' });
      expect(seen.body.problem).toMatchObject({
        status: 503,
        detail: STOPPED,
        instance: `urn:uuid:${id}`,
      });
      // Stored, so every later read (on any instance) says the same.
      expect(await stored(id)).toMatchObject({
        status: 'failed',
        updatedAt: seen.body.updatedAt,
      });
      expect((await read(app, monitor)).body).toEqual(seen.body);
    }, 20_000);

    it('gives every reader the same stored outcome when several read at once', async () => {
      const apps = [
        await reader(),
        await reader(adapter === 'express' ? 'fastify' : 'express'),
      ];
      const { id, monitor } = await startJob(await instance(300), 'raced');
      const { runner } = await stored(id);
      await child!.kill();
      // Wait (bounded) until Redis has let the lease lapse, then read at once.
      for (
        let tries = 0;
        tries < 200 && (await own.redis.exists(`${prefix}lease:${runner!}`));
        tries++
      )
        await pause(25);
      const seen = await Promise.all(
        Array.from({ length: 12 }, (_, i) => read(apps[i % 2], monitor)),
      );
      const bodies = new Set(seen.map((s) => JSON.stringify(s.body)));
      expect(bodies.size).toBe(1);
      expect(seen[0].body.status).toBe('failed');
      expect(seen[0].body.updatedAt).toBe((await stored(id)).updatedAt);
    }, 20_000);

    it('keeps the failure when the stalled instance later finishes the work: its result is dropped, with a warning', async () => {
      const app = await reader();
      const baseUrl = await instance(300);
      const { id, monitor } = await startJob(baseUrl, 'late');
      // The instance's event loop is blocked far past its lease.
      const stall = fetch(`${baseUrl}/lease/stall/2500`, { method: 'POST' });
      const failed = await finished(app, monitor);
      expect(failed.body.problem).toMatchObject({
        status: 503,
        detail: STOPPED,
      });
      expect((await stall).status).toBe(204);
      // Alive again, it finishes the work: that outcome comes second and is dropped.
      const finish = await fetch(`${baseUrl}/lease/finish/late`, {
        method: 'POST',
      });
      expect(finish.status).toBe(204);
      const warning = await child!.message(
        (message) =>
          typeof message.warn === 'string' && message.warn.includes(id),
      );
      expect(warning.warn).toMatch(
        /stored as failed .* its done outcome is dropped/,
      );
      expect((await read(app, monitor)).body).toEqual(failed.body);
      const onItsOwnInstance = await fetch(`${baseUrl}${monitor}`);
      expect(((await onItsOwnInstance.json()) as Json).status).toBe('failed');
      expect(await stored(id)).toMatchObject({ status: 'failed' });
    }, 20_000);
  },
);

/** Work the test ends: `POST /outage/jobs/:name` waits until `finish(name)`. */
const outageGates = new Map<string, () => void>();

@HalOperation(() => [OutageController, 'status'])
class OutageOperation extends Operation {}

@Controller('outage')
class OutageController {
  constructor(private readonly operations: OperationsService) {}

  @Post('jobs/:name')
  @HttpCode(202)
  @HalResource(OutageOperation)
  start(@Param('name') name: string): Promise<Operation> {
    return this.operations.start('outage-job', async () => {
      await new Promise<void>((resolve) => outageGates.set(name, resolve));
      return { resultHref: `/outage/results/${name}` };
    });
  }

  @Get('jobs/:id')
  @HalResource(OutageOperation)
  status(@Param('id') id: string): Promise<Operation> {
    return this.operations.get(id);
  }
}

describeWithRedis.each(ADAPTERS)(
  'an operation whose work ends while Redis is down, on %s',
  (adapter) => {
    const own = useOwnRedis();

    it('is stored done once Redis is back, not lost nor failed', async () => {
      const prefix = uniquePrefix('outage');
      const app = await startTestingApp(
        adapter,
        Test.createTestingModule({
          imports: [
            redisStore(own.redis, prefix),
            HalProblemModule.forRoot({ operations: { leaseMs: 300 } }),
          ],
          controllers: [OutageController],
        }),
      );
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => unhandled.push(reason);
      process.on('unhandledRejection', onUnhandled);
      try {
        const name = `outage-${adapter}`;
        const accepted = await fetch(`${app.baseUrl}/outage/jobs/${name}`, {
          method: 'POST',
        });
        expect(accepted.status).toBe(202);
        const monitor = accepted.headers.get('location')!;
        for (let tries = 0; tries < 200 && !outageGates.has(name); tries++)
          await pause(5);
        const id = monitor.split('/').pop()!;
        const running = await own.redis.get(`${prefix}${id}`);
        expect(JSON.parse(running!)).toMatchObject({ status: 'running' });
        await own.server.stop();
        outageGates.get(name)!();
        // Read while Redis is down: unavailable, not a fault.
        expect((await fetch(`${app.baseUrl}${monitor}`)).status).toBe(503);
        await own.server.start();
        // The test's redis-server keeps no data across a restart; a real
        // one (persistence, or a network outage) still has the record.
        // NX: the app's retry may have stored the outcome first.
        for (let tries = 0; tries < 100; tries++) {
          const restored = await own.redis
            .set(`${prefix}${id}`, running!, 'PX', 60_000, 'NX')
            .then(
              () => true,
              () => false,
            );
          if (restored) break;
          await pause(25);
        }
        let body: Json = {};
        for (let tries = 0; tries < 200; tries++) {
          const response = await fetch(`${app.baseUrl}${monitor}`);
          if (response.status === 200) {
            body = (await response.json()) as Json;
            if (body.status === 'done' || body.status === 'failed') break;
          } else await response.text();
          await pause(25);
        }
        expect(body.status).toBe('done');
        expect(body._links.result).toEqual({
          href: `/outage/results/${name}`,
        });
        expect(unhandled).toEqual([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
        await app.close();
      }
    }, 20_000);
  },
);

describe('operations.leaseMs', () => {
  it.each([0, Number.NaN, -1, 2, Infinity])(
    'fails the start for %s',
    async (leaseMs) => {
      await expect(
        Test.createTestingModule({
          imports: [HalProblemModule.forRoot({ operations: { leaseMs } })],
        }).compile(),
      ).rejects.toThrow(
        /operations\.leaseMs must be a number of milliseconds of at least 3/,
      );
    },
  );

  it('is not needed: the default is a complete setup', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [HalProblemModule.forRoot()],
    }).compile();
    expect(moduleRef.get(OperationsService)).toBeInstanceOf(OperationsService);
    await moduleRef.close();
  });
});

describeWithRedis('RedisOperationStore.saveUnlessFinished', () => {
  const own = useOwnRedis();
  const record = (status: OperationRecord['status'], tag: string) => ({
    id: 'x',
    kind: 'k',
    status,
    createdAt: tag,
    updatedAt: tag,
    retryAfter: 1,
  });

  it('keeps one of two finished outcomes stored at once, and tells both callers which', async () => {
    const store = new RedisOperationStore(own.redis, uniquePrefix('cas'));
    await store.save(record('running', 'r'), 60_000);
    const [first, second] = await Promise.all([
      store.saveUnlessFinished(record('failed', 'a'), 60_000),
      store.saveUnlessFinished(record('done', 'b'), 60_000),
    ]);
    expect(second).toEqual(first);
    expect(await store.get('x')).toEqual(first);
    // An unfinished change never replaces an outcome either.
    expect(
      await store.saveUnlessFinished(record('running', 'c'), 60_000),
    ).toEqual(first);
  });
});

/**
 * A store of one's own that keeps records as a database does (Postgres
 * `jsonb` orders keys by length, a document store adds its own): what it
 * resolves is a copy of the record with the same members in another order.
 */
class CopyingOperationStore implements OperationStore {
  private readonly inner = new InMemoryOperationStore();
  private static copy(record: OperationRecord): OperationRecord {
    const keys = Object.keys(record).sort(
      (a, b) => a.length - b.length || a.localeCompare(b),
    );
    return Object.fromEntries(
      keys.map((key) => [key, record[key as keyof OperationRecord]]),
    ) as unknown as OperationRecord;
  }
  save(record: OperationRecord, ttlMs: number): Promise<void> {
    return this.inner.save(CopyingOperationStore.copy(record), ttlMs);
  }
  async get(id: string): Promise<OperationRecord | undefined> {
    const record = await this.inner.get(id);
    return record && CopyingOperationStore.copy(record);
  }
  async saveUnlessFinished(
    record: OperationRecord,
    ttlMs: number,
  ): Promise<OperationRecord> {
    const kept = await this.inner.saveUnlessFinished(
      CopyingOperationStore.copy(record),
      ttlMs,
    );
    return CopyingOperationStore.copy(kept);
  }
  renewLease(runner: string, leaseMs: number): Promise<void> {
    return this.inner.renewLease(runner, leaseMs);
  }
  hasLease(runner: string): Promise<boolean> {
    return this.inner.hasLease(runner);
  }
}

describe.each(ADAPTERS)(
  'an operation in a store that resolves copies of its records, on %s',
  (adapter) => {
    it('runs its work and is done with its result, not failed as if its instance stopped', async () => {
      const app = await startTestingApp(
        adapter,
        Test.createTestingModule({
          imports: [
            storeModule(() => new CopyingOperationStore()),
            HalProblemModule.forRoot(),
          ],
          controllers: [OutageController],
        }),
      );
      try {
        const name = `copying-${adapter}`;
        const accepted = await fetch(`${app.baseUrl}/outage/jobs/${name}`, {
          method: 'POST',
        });
        expect(accepted.status).toBe(202);
        const monitor = accepted.headers.get('location')!;
        /** Reads the monitor until its status is no longer `from`: a bounded number of tries. */
        const readPast = async (from: string) => {
          let seen: Json = {};
          for (let tries = 0; tries < 200; tries++) {
            const response = await fetch(`${app.baseUrl}${monitor}`);
            expect(response.status).toBe(200);
            seen = (await response.json()) as Json;
            if (seen.status !== from) break;
            await pause(5);
          }
          return seen;
        };
        // The work begins (its monitor says so), then the test lets it end.
        expect(await readPast('pending')).toMatchObject({ status: 'running' });
        outageGates.get(name)!();
        const body = await readPast('running');
        expect(body.status).toBe('done');
        expect(body._links.result).toEqual({
          href: `/outage/results/${name}`,
        });
      } finally {
        await app.close();
      }
    });
  },
);

/** A store whose lease renewal throws at once (not a rejected promise) the first time: a client that refuses a call while it reconnects. */
class OnceThrowingLeaseStore extends InMemoryOperationStore {
  private throws = true;
  override renewLease(runner: string, leaseMs: number): Promise<void> {
    if (this.throws) {
      this.throws = false;
      throw new Error('Connection is closed.');
    }
    return super.renewLease(runner, leaseMs);
  }
}

describe.each(ADAPTERS)(
  'a store whose lease renewal once throws at once, on %s',
  (adapter) => {
    it('answers that start 503, and the next one 202 as the store works again', async () => {
      const app = await startTestingApp(
        adapter,
        Test.createTestingModule({
          imports: [
            storeModule(() => new OnceThrowingLeaseStore()),
            HalProblemModule.forRoot(),
          ],
          controllers: [OutageController],
        }),
      );
      try {
        const post = (name: string) =>
          fetch(`${app.baseUrl}/outage/jobs/${adapter}-${name}`, {
            method: 'POST',
          });
        const refused = await post('refused');
        expect(refused.status).toBe(503);
        expect(refused.headers.get('retry-after')).toBe('5');
        const accepted = await post('accepted');
        expect(accepted.status).toBe(202);
        outageGates.get(`${adapter}-accepted`)?.();
      } finally {
        await app.close();
      }
    });
  },
);

/** A store that cannot take the first write of an operation's `running` status (a blip right after the 202). */
class RunningBlipStore extends InMemoryOperationStore {
  private blips = 1;
  override saveUnlessFinished(
    record: OperationRecord,
    ttlMs: number,
  ): Promise<OperationRecord> {
    if (record.status === 'running' && this.blips-- > 0)
      return Promise.reject(new Error('ECONNRESET'));
    return super.saveUnlessFinished(record, ttlMs);
  }
}

describe.each(ADAPTERS)(
  'an operation whose running status the store could not take, on %s',
  (adapter) => {
    it('still runs its work and is done with its result, not failed with the store error', async () => {
      const app = await startTestingApp(
        adapter,
        Test.createTestingModule({
          imports: [
            storeModule(() => new RunningBlipStore()),
            HalProblemModule.forRoot(),
          ],
          controllers: [OutageController],
        }),
      );
      try {
        const name = `blip-${adapter}`;
        const accepted = await fetch(`${app.baseUrl}/outage/jobs/${name}`, {
          method: 'POST',
        });
        expect(accepted.status).toBe(202);
        const monitor = accepted.headers.get('location')!;
        // The work begins (bounded wait), then the test lets it end.
        for (let tries = 0; tries < 200 && !outageGates.has(name); tries++)
          await pause(5);
        outageGates.get(name)?.();
        let body: Json = {};
        for (let tries = 0; tries < 200; tries++) {
          const response = await fetch(`${app.baseUrl}${monitor}`);
          expect(response.status).toBe(200);
          body = (await response.json()) as Json;
          if (body.status === 'done' || body.status === 'failed') break;
          await pause(5);
        }
        expect(body).toMatchObject({ status: 'done' });
        expect(body._links.result).toEqual({
          href: `/outage/results/${name}`,
        });
      } finally {
        await app.close();
      }
    });
  },
);
