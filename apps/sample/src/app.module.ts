import { DynamicModule, Module } from '@nestjs/common';
import { HalProblemModule } from 'nestjs-hal-problem';
import type { SampleConfig } from './config/sample-config';
import { SAMPLE_CONFIG } from './config/sample-config.token';
import { HealthController } from './health/health.controller';

@Module({})
export class AppModule {
  static register(config: SampleConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [HalProblemModule.forRoot({})],
      controllers: [HealthController],
      providers: [{ provide: SAMPLE_CONFIG, useValue: config }],
    };
  }
}
