import { type DynamicModule, Module } from '@nestjs/common';
import type { SampleConfig } from './sample-config';
import { SAMPLE_CONFIG } from './sample-config.token';

/** Makes the configuration read at start injectable in every module of the sample. */
@Module({})
export class SampleConfigModule {
  static forRoot(config: SampleConfig): DynamicModule {
    return {
      module: SampleConfigModule,
      global: true,
      providers: [{ provide: SAMPLE_CONFIG, useValue: config }],
      exports: [SAMPLE_CONFIG],
    };
  }
}
