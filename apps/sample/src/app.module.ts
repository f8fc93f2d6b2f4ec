import {
  type DynamicModule,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  RequestMethod,
} from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import type { Redis } from 'ioredis';
import { HalProblemModule, RedisThrottlerStorage } from 'nestjs-hal-problem';
import type { SampleConfig } from './config/sample-config';
import { SampleConfigModule } from './config/sample-config.module';
import { HealthController } from './health/health.controller';
import { ApiDocsMount } from './docs/api-docs.mount';
import { MaintenanceMiddleware } from './maintenance/maintenance.middleware';
import { AccessLogMiddleware } from './logging/access-log.middleware';
import { OrdersModule } from './orders/orders.module';
import { ReportsModule } from './reports/reports.module';
import { RootController } from './root/root.controller';
import { OAuthController } from './oauth/oauth.controller';
import { REDIS, RedisModule } from './redis/redis.module';

@Module({})
export class AppModule implements NestModule {
  static register(config: SampleConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        SampleConfigModule.forRoot(config),
        RedisModule.forRoot(config),
        ThrottlerModule.forRootAsync({
          inject: [REDIS],
          useFactory: (redis: Redis | null) => ({
            throttlers: [
              { ttl: config.throttleTtlMs, limit: config.throttleLimit },
            ],
            storage: redis
              ? new RedisThrottlerStorage(redis, 'orders:throttle:')
              : undefined,
          }),
        }),
        HalProblemModule.forRoot({
          // Feature modules inject OperationsService and RouteTable.
          isGlobal: true,
          bodyLimit: config.bodyLimitBytes,
          // The API takes JSON; the token endpoint adds forms (@Consumes).
          acceptedContentTypes: ['application/json', 'application/*+json'],
          auth: {
            realm: 'orders',
            algorithms: ['HS256'],
            secretOrKey: config.jwtSecret,
            issuer: config.jwtIssuer,
            audience: config.jwtAudience,
          },
          throttle: { trustProxy: config.trustProxy },
          hal: {
            trustProxy: config.trustProxy || false,
            relations: [
              'orders',
              'order',
              'reports',
              'token',
              'docs',
              'cancel',
              'ship',
            ],
            // The contract: every successful body is application/hal+json,
            // also for a client that asks for application/json.
            plainJson: false,
          },
        }),
        OrdersModule,
        ReportsModule,
      ],
      controllers: [RootController, HealthController, OAuthController],
      providers: [MaintenanceMiddleware, AccessLogMiddleware, ApiDocsMount],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(AccessLogMiddleware)
      .forRoutes({ path: '{*path}', method: RequestMethod.ALL });
    consumer
      .apply(MaintenanceMiddleware)
      .exclude({ path: 'health', method: RequestMethod.GET })
      .forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
