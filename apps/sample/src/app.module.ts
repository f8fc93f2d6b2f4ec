import {
  type DynamicModule,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  RequestMethod,
} from '@nestjs/common';
import { HalProblemModule } from 'nestjs-hal-problem';
import type { SampleConfig } from './config/sample-config';
import { SampleConfigModule } from './config/sample-config.module';
import { HealthController } from './health/health.controller';
import { MaintenanceMiddleware } from './maintenance/maintenance.middleware';
import { OrdersModule } from './orders/orders.module';
import { ReportsModule } from './reports/reports.module';
import { RootController } from './root/root.controller';

@Module({})
export class AppModule implements NestModule {
  static register(config: SampleConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        SampleConfigModule.forRoot(config),
        HalProblemModule.forRoot({
          // Feature modules inject OperationsService and RouteTable.
          isGlobal: true,
          bodyLimit: config.bodyLimitBytes,
          hal: {
            trustProxy: config.trustProxy,
            relations: [
              'orders',
              'order',
              'reports',
              'token',
              'docs',
              'cancel',
              'ship',
            ],
          },
        }),
        OrdersModule,
        ReportsModule,
      ],
      controllers: [RootController, HealthController],
      providers: [MaintenanceMiddleware],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(MaintenanceMiddleware)
      .exclude({ path: 'health', method: RequestMethod.GET })
      .forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}
