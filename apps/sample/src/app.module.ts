import {
  type DynamicModule,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  RequestMethod,
} from '@nestjs/common';
import { HalProblemModule } from 'nestjs-hal-problem';
import type { SampleConfig } from './config/sample-config';
import { SAMPLE_CONFIG } from './config/sample-config.token';
import { HealthController } from './health/health.controller';
import { MaintenanceMiddleware } from './maintenance/maintenance.middleware';
import { OrdersModule } from './orders/orders.module';

@Module({})
export class AppModule implements NestModule {
  static register(config: SampleConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        HalProblemModule.forRoot({ bodyLimit: config.bodyLimitBytes }),
        OrdersModule,
      ],
      controllers: [HealthController],
      providers: [
        { provide: SAMPLE_CONFIG, useValue: config },
        MaintenanceMiddleware,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(MaintenanceMiddleware)
      .exclude({ path: 'health', method: RequestMethod.GET })
      .forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
