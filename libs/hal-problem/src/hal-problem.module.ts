import { Module } from '@nestjs/common';
import { HalProblemConfigurableModule } from './hal-problem.module-definition';

/**
 * The module that gives an HTTP API one contract: HAL for 2xx bodies and
 * RFC 9457 Problem Details for every 4xx/5xx. Import it once in the root
 * module with `HalProblemModule.forRoot()` or `forRootAsync()`.
 */
@Module({})
export class HalProblemModule extends HalProblemConfigurableModule {}
