import { Logger } from '@nestjs/common';
import type { ThrottlerModuleOptions } from '@nestjs/throttler';
import type { HalThrottleOptions } from './throttle-options.interface';

/**
 * Options that only shape rate limiting, given while no ThrottlerModule is
 * imported: every request then goes unlimited without a word (found by
 * following the README in a fresh app). `trustProxy` alone is not one of
 * them: the idempotency scope reads the client address with it.
 */
export function warnIfRateLimitOptionsUnused(
  throttle: HalThrottleOptions | false | undefined,
  throttlerOptions: ThrottlerModuleOptions | undefined,
): void {
  if (!throttle || throttlerOptions) return;
  const given = (['scope', 'onStorageError', 'legacyHeaders'] as const).filter(
    (name) => throttle[name] !== undefined,
  );
  if (given.length === 0) return;
  new Logger('HalProblem').warn(
    `throttle.${given.join(', throttle.')} given, but no ThrottlerModule is imported: no request is rate-limited. ` +
      'Import ThrottlerModule.forRoot({ throttlers: [...] }) in the same app, or drop these options.',
  );
}
