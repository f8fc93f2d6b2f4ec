import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { ApplicationConfig } from '@nestjs/core';
import { ThrottlerGuard } from '@nestjs/throttler';
import { HalThrottlerGuard } from './hal-throttler.guard';

/**
 * Warns once at bootstrap when the app registers `@nestjs/throttler`'s own
 * `ThrottlerGuard` globally (`{ provide: APP_GUARD, useClass: ThrottlerGuard }`,
 * as every throttler tutorial shows, or `app.useGlobalGuards()`), or a
 * second rate-limit guard of any kind, while the module's
 * `HalThrottlerGuard` already limits every request: each request
 * is then counted twice, and the upstream guard's 429 is thrown before the
 * module's, so it carries no `RateLimit` fields and no `violated-policies`.
 * A warning, not an error: the app still starts as it did.
 */
@Injectable()
export class DuplicateThrottlerWarning implements OnApplicationBootstrap {
  private readonly logger = new Logger('HalProblem');

  constructor(private readonly appConfig: ApplicationConfig) {}

  onApplicationBootstrap(): void {
    const guards: unknown[] = [
      ...this.appConfig.getGlobalGuards(),
      // APP_GUARD providers, each an InstanceWrapper of Nest's injector.
      ...this.appConfig
        .getGlobalRequestGuards()
        .map((wrapper) => (wrapper as { instance?: unknown }).instance),
    ];
    const throttlers = guards.filter(
      (guard): guard is ThrottlerGuard => guard instanceof ThrottlerGuard,
    );
    // One is the module's; another (upstream's, or an app's own subclass of
    // HalThrottlerGuard registered beside it) counts every request again.
    if (
      throttlers.length < 2 ||
      !throttlers.some((guard) => guard instanceof HalThrottlerGuard)
    )
      return;
    const names = [
      ...new Set(throttlers.map((guard) => guard.constructor.name)),
    ];
    this.logger.warn(
      `Rate-limit guards are registered globally more than once (${names.join(', ')}): ` +
        "every request is counted twice, and a 429 from @nestjs/throttler's own guard is not the contract's problem. " +
        "Remove the app's APP_GUARD provider (or useGlobalGuards call), or turn the module's off with throttle: false.",
    );
  }
}
