import {
  type DynamicModule,
  Inject,
  Logger,
  Module,
  type OnApplicationShutdown,
  Optional,
} from '@nestjs/common';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import {
  InMemoryOperationStore,
  OPERATION_STORE,
  IDEMPOTENCY_STORE,
  InMemoryIdempotencyStore,
  RedisIdempotencyStore,
  RedisOperationStore,
} from 'nestjs-hal-problem';
import type { SampleConfig } from '../config/sample-config';

/** The one Redis connection of the sample (absent without REDIS_URL). */
export const REDIS = Symbol('REDIS');
const CONNECT_WAIT_MS = 2000;

/**
 * Connects to REDIS_URL when set. Commands fail fast while disconnected
 * (no offline queue), so an outage is handled at once by the stores'
 * policies rather than piling up; ioredis reconnects by itself.
 */
@Module({})
export class RedisModule implements OnApplicationShutdown {
  constructor(
    @Optional() @Inject(REDIS) private readonly redis?: Redis | null,
  ) {}

  static forRoot(config: SampleConfig): DynamicModule {
    return {
      module: RedisModule,
      global: true,
      providers: [
        {
          provide: REDIS,
          useFactory: async (): Promise<Redis | null> => {
            if (!config.redisUrl) return null;
            const redis = new Redis(config.redisUrl, {
              enableOfflineQueue: false,
              maxRetriesPerRequest: 1,
              connectTimeout: 2000,
              retryStrategy: (times) => Math.min(times * 200, 2000),
            });
            redis.on('error', () => undefined); // reported by /health and the stores' policies
            // Wait briefly for the first connection; start anyway if Redis is down.
            let timer: NodeJS.Timeout | undefined;
            await Promise.race([
              once(redis, 'ready'),
              new Promise(
                (resolve) => (timer = setTimeout(resolve, CONNECT_WAIT_MS)),
              ),
            ]);
            clearTimeout(timer);
            if (redis.status !== 'ready')
              new Logger('Redis').warn(
                `Redis at ${config.redisUrl} is not reachable yet`,
              );
            return redis;
          },
        },
        {
          // Report operations live in Redis too when it is configured, shared by every instance.
          provide: OPERATION_STORE,
          inject: [REDIS],
          useFactory: (redis: Redis | null) =>
            redis
              ? new RedisOperationStore(redis, 'orders:operation:')
              : new InMemoryOperationStore(),
        },
        {
          // Idempotency keys too, so a retry may land on any instance.
          provide: IDEMPOTENCY_STORE,
          inject: [REDIS],
          useFactory: (redis: Redis | null) =>
            redis
              ? new RedisIdempotencyStore(redis, 'orders:idempotency:')
              : new InMemoryIdempotencyStore(),
        },
      ],
      exports: [REDIS, OPERATION_STORE, IDEMPOTENCY_STORE],
    };
  }

  onApplicationShutdown(): void {
    this.redis?.disconnect();
  }
}
