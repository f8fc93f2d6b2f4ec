import {
  type CanActivate,
  type DynamicModule,
  Module,
  type PipeTransform,
} from '@nestjs/common';
import {
  APP_FILTER,
  APP_GUARD,
  APP_PIPE,
  DiscoveryModule,
  HttpAdapterHost,
  Reflector,
} from '@nestjs/core';
import {
  getOptionsToken,
  getStorageToken,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { HalThrottlerGuard } from './throttle/hal-throttler.guard';
import { DuplicateThrottlerWarning } from './throttle/duplicate-throttler.warning';
import { DuplicateValidationPipeWarning } from './problem/duplicate-validation-pipe.warning';
import { warnIfRateLimitOptionsUnused } from './throttle/unused-throttle-options.warning';
import { IdempotencyService } from './idempotency/idempotency.service';
import type { HalProblemModuleOptions } from './hal-problem-module-options.interface';
import {
  HAL_PROBLEM_MODULE_OPTIONS,
  HAL_PROBLEM_OPTIONS_TYPE,
  HalProblemConfigurableModule,
} from './hal-problem.module-definition';
import { RequestContextService } from './problem/request-context.service';
import { ProblemConfig } from './problem/problem.config';
import { ProblemExceptionFilter } from './problem/problem-exception.filter';
import { ProblemMapper } from './problem/problem.mapper';
import { ProblemTypeCatalog } from './problem/problem-type.catalog';
import { ProblemValidationPipe } from './problem/problem-validation.pipe';
import { RouteTable } from './routing/route-table';
import { HalConfig } from './hal/hal.config';
import { HalResponseWriter } from './hal/hal-response.writer';
import { HalProblemGuard } from './hal-problem.guard';
import { HalRenderer } from './hal/hal.renderer';
import { OperationsService } from './operations/operations.service';
import { AuthConfig } from './auth/auth.config';
import { HalJwtStrategy } from './auth/jwt.strategy';
import { JwtAuthGuard } from './auth/jwt-auth.guard';
import { ScopesGuard } from './auth/scopes.guard';
import { OutsidePrefixFallback } from './problem/outside-prefix.fallback';

/** Stands in for the throttler guard when the app has no ThrottlerModule. */
const allowAll: CanActivate = { canActivate: () => true };

/** Stands in for the validation pipe when the app turns it off. */
const passThroughPipe: PipeTransform = { transform: (value: unknown) => value };

/**
 * The module that gives an HTTP API one contract: HAL for 2xx bodies and
 * RFC 9457 Problem Details for every 4xx/5xx. Import it once in the root
 * module with `HalProblemModule.forRoot()` or `forRootAsync()`; its filter,
 * pipe and guards apply to the whole app (Nest's `APP_*` providers),
 * while its injectable services stay local unless `isGlobal` is set.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    ProblemConfig,
    ProblemTypeCatalog,
    ProblemMapper,
    RouteTable,
    ProblemExceptionFilter,
    AuthConfig,
    {
      provide: HalJwtStrategy,
      inject: [AuthConfig],
      // passport-jwt needs a key: the strategy exists only when auth is configured.
      useFactory: (config: AuthConfig) =>
        config.enabled ? new HalJwtStrategy(config) : null,
    },
    // Guards run in this order: rate limiting, authentication, scopes, then
    // the module's own (request id, media type, the response's render plan).
    {
      provide: APP_GUARD,
      inject: [
        HAL_PROBLEM_MODULE_OPTIONS,
        Reflector,
        HttpAdapterHost,
        AuthConfig,
        { token: getOptionsToken(), optional: true },
        { token: getStorageToken(), optional: true },
      ],
      useFactory: (
        options: HalProblemModuleOptions,
        reflector: Reflector,
        adapterHost: HttpAdapterHost,
        auth: AuthConfig,
        throttlerOptions?: ThrottlerModuleOptions,
        storage?: ThrottlerStorage,
      ): CanActivate => {
        if (options.throttle !== false && throttlerOptions && storage)
          return new HalThrottlerGuard(
            throttlerOptions,
            storage,
            reflector,
            adapterHost,
            auth,
            options.throttle || {},
          );
        // Without ThrottlerModule there are no limits to enforce.
        warnIfRateLimitOptionsUnused(options.throttle, throttlerOptions);
        return allowAll;
      },
    },
    DuplicateThrottlerWarning,
    { provide: APP_GUARD, useClass: JwtAuthGuard },
    { provide: APP_GUARD, useClass: ScopesGuard },
    RequestContextService,
    IdempotencyService,
    HalConfig,
    HalRenderer,
    // No global interceptor: HAL is rendered where Nest sends the response.
    HalResponseWriter,
    { provide: APP_GUARD, useClass: HalProblemGuard },
    OutsidePrefixFallback,
    { provide: APP_FILTER, useExisting: ProblemExceptionFilter },
    OperationsService,
    DuplicateValidationPipeWarning,
    {
      provide: APP_PIPE,
      inject: [ProblemConfig],
      useFactory: (config: ProblemConfig): PipeTransform =>
        config.validation
          ? new ProblemValidationPipe(config.validation)
          : passThroughPipe,
    },
  ],
  exports: [
    ProblemTypeCatalog,
    ProblemMapper,
    ProblemConfig,
    HalRenderer,
    RouteTable,
    OperationsService,
    AuthConfig,
  ],
})
export class HalProblemModule extends HalProblemConfigurableModule {
  /** `forRoot()` with no options is a complete, safe setup. */
  static override forRoot(
    options: typeof HAL_PROBLEM_OPTIONS_TYPE = {},
  ): DynamicModule {
    return super.forRoot(options);
  }
}
