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
 * as every throttler tutorial shows, or `app.useGlobalGuards()`) while the
 * module's `HalThrottlerGuard` already limits every request: each request
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
    if (!guards.some((guard) => guard instanceof HalThrottlerGuard)) return;
    const others = guards.filter(
      (guard) =>
        guard instanceof ThrottlerGuard &&
        !(guard instanceof HalThrottlerGuard),
    );
    if (others.length === 0) return;
    const names = [...new Set(others.map((guard) => guard!.constructor.name))];
    this.logger.warn(
      `${names.join(', ')} is registered as a global guard besides HalProblemModule's HalThrottlerGuard: ` +
        "every request is counted twice, and its 429 is not the contract's problem. " +
        "Remove that APP_GUARD provider (or useGlobalGuards call), or turn the module's off with throttle: false.",
    );
  }
}
