import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import {
  HalProblemModule,
  RedisIdempotencyStore,
  RedisThrottlerStorage,
} from 'nestjs-hal-problem';
import {
  ADAPTERS,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';
import { describeWithRedis, useOwnRedis, uniquePrefix } from './support/redis';
import { signToken } from './support/tokens';
import { AUTH_OPTIONS } from './fixtures/auth-fixture.module';
import {
  created,
  ThingsController,
} from './fixtures/idempotency-fixture.module';

describeWithRedis.each(ADAPTERS)(
  'Redis killed and restarted under load on %s',
  (adapter) => {
    const own = useOwnRedis();

    it('applies the policies, never crashes, creates nothing twice, and recovers within seconds', async () => {
      const { server, redis } = own;
      const prefix = uniquePrefix('faults');
      const start = async (): Promise<RunningApp> => {
        @Module({
          imports: [
            ThrottlerModule.forRoot({
              throttlers: [{ ttl: 60_000, limit: 1_000_000 }],
              storage: new RedisThrottlerStorage(redis, `${prefix}t:`),
            }),
            HalProblemModule.forRoot({
              ...AUTH_OPTIONS,
              throttle: { onStorageError: 'fail-open' },
              idempotency: {
                store: new RedisIdempotencyStore(redis, `${prefix}i:`),
              },
            }),
          ],
          controllers: [ThingsController],
        })
        class FaultModule {}
        return startTestingApp(
          adapter,
          Test.createTestingModule({ imports: [FaultModule] }),
        );
      };
      const apps = [await start(), await start()];
      const authorization = `Bearer ${signToken({ sub: `fault-${adapter}` })}`;
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => unhandled.push(reason);
      process.on('unhandledRejection', onUnhandled);
      const statuses: Record<number, number> = {};
      const post = (app: RunningApp, name: string) =>
        fetch(`${app.baseUrl}/things`, {
          method: 'POST',
          body: JSON.stringify({ name }),
          headers: {
            'content-type': 'application/json',
            authorization,
            'idempotency-key': `"${name}"`,
          },
        }).then((response) => {
          statuses[response.status] = (statuses[response.status] ?? 0) + 1;
          return response.status;
        });
      const names: string[] = [];
      try {
        const started = Date.now();
        let killed = false;
        let restarted = false;
        let round = 0;
        while (Date.now() - started < 3000) {
          const elapsed = Date.now() - started;
          if (!killed && elapsed > 1000) {
            killed = true;
            await server.stop();
          }
          if (killed && !restarted && elapsed > 2000) {
            restarted = true;
            await server.start();
          }
          const name = `${prefix}${round++}`;
          names.push(name);
          // The same key twice on each instance, at once: a client retrying anywhere.
          await Promise.all([
            post(apps[0], name),
            post(apps[1], name),
            post(apps[0], name),
            post(apps[1], name),
          ]);
        }
        process.stdout.write(
          `redis faults ${adapter}: ${names.length} keys × 4 requests, statuses ${JSON.stringify(statuses)}\n`,
        );
        expect(Object.keys(statuses).map(Number).sort()).toEqual(
          expect.arrayContaining([201]),
        );
        for (const status of Object.keys(statuses).map(Number))
          expect([200, 201, 409, 503]).toContain(status);
        expect(statuses[503]).toBeGreaterThan(0); // the outage was seen and answered as one
        for (const name of names)
          expect(
            created.filter((thing) => thing.name === name).length,
          ).toBeLessThanOrEqual(1);

        // Recovery: a new key is created and replayed within seconds of the restart.
        const recovered = `${prefix}recovered`;
        let status = 0;
        for (let i = 0; i < 50 && status !== 201; i++) {
          status = await post(apps[0], `${recovered}-${i}`);
          if (status !== 201)
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(status).toBe(201);
        expect(unhandled).toEqual([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
        for (const app of apps) await app.close();
      }
    });
  },
);
