import type { ExecutionContext, Type } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import type {
  ThrottlerGenerateKeyFunction,
  ThrottlerGetTrackerFunction,
  ThrottlerModuleOptions,
  ThrottlerOptions,
} from '@nestjs/throttler';

type Handler = (...args: never[]) => unknown;
/** A number, or a function of the request's context that gives one. */
export type Resolvable = ThrottlerOptions['limit'];

/**
 * The metadata keys `@Throttle()` and `@SkipThrottle()` write (followed by
 * the throttler's name). `@nestjs/throttler` 6 does not export them from its
 * index; `route-throttlers.spec.ts` checks them against its decorators, so an
 * upstream rename fails the build instead of silently unthrottling routes.
 */
export const THROTTLER_METADATA = {
  skip: 'THROTTLER:SKIP',
  limit: 'THROTTLER:LIMIT',
  ttl: 'THROTTLER:TTL',
  blockDuration: 'THROTTLER:BLOCK_DURATION',
  getTracker: 'THROTTLER:TRACKER',
  generateKey: 'THROTTLER:KEY_GENERATOR',
} as const;

/** What a route's `@Throttle()`/`@SkipThrottle()` and the module options say for one named throttler. */
export interface RouteThrottler {
  readonly throttler: ThrottlerOptions & { readonly name: string };
  readonly skipIf?: (context: ExecutionContext) => boolean;
  readonly ignoreUserAgents?: readonly RegExp[];
  readonly limit: Resolvable;
  readonly ttl: Resolvable;
  /** Undefined: the resolved `ttl`. */
  readonly blockDuration?: Resolvable;
  readonly getTracker: ThrottlerGetTrackerFunction;
  readonly generateKey: ThrottlerGenerateKeyFunction;
  /** The three numbers, when none is a function of the request: resolved once. */
  readonly fixed?: ThrottlerNumbers;
  /**
   * The route's `@Throttle()` changes this throttler's limit, window or
   * block, and the key is the module's own: its hits go to a bucket of that
   * policy, not the client's bucket every other route shares.
   */
  readonly overridden: boolean;
}

export interface ThrottlerNumbers {
  readonly limit: number;
  readonly ttl: number;
  readonly blockDuration: number;
}

/** The options every throttler falls back to (`ThrottlerGuard.commonOptions`). */
export type CommonThrottlerOptions = Pick<
  ThrottlerOptions,
  'skipIf' | 'ignoreUserAgents' | 'getTracker' | 'generateKey'
>;

/** The names of the throttlers `ThrottlerModule.forRoot` gives, as `ThrottlerGuard` names them. */
export function throttlerNames(options: ThrottlerModuleOptions): string[] {
  return (Array.isArray(options) ? options : options.throttlers).map(
    (throttler) => throttler.name ?? 'default',
  );
}

/**
 * Whether the route's `@SkipThrottle()` skips the throttler `name` (the
 * handler's, else the controller's): `@SkipThrottle()` alone skips only
 * `default`, `@SkipThrottle({ short: true })` only `short`.
 */
export function skipsThrottler(
  reflector: Reflector,
  name: string,
  targets: [Handler, Type],
): boolean {
  return Boolean(
    reflector.getAllAndOverride<boolean | undefined>(
      THROTTLER_METADATA.skip + name,
      targets,
    ),
  );
}

/**
 * The throttlers that apply to one route, with the route's overrides, read
 * the way `ThrottlerGuard.canActivate` reads them (handler first, then
 * controller) but once per route instead of on every request: that guard
 * makes six `Reflector` lookups per throttler per request (two for a skipped
 * route), which `npm run bench:instructions` counted as the largest single
 * cost of a throttled request. Throttlers the route skips are left out.
 */
export function readRouteThrottlers(
  reflector: Reflector,
  throttlers: readonly ThrottlerOptions[],
  common: CommonThrottlerOptions,
  targets: [Handler, Type],
  /** Whether `common.generateKey` is the guard's own, not the app's. */
  commonKeyIsDefault = true,
): RouteThrottler[] {
  const read = <T>(key: string, name: string) =>
    reflector.getAllAndOverride<T | undefined>(key + name, targets);
  const route: RouteThrottler[] = [];
  for (const options of throttlers) {
    const name = options.name ?? 'default';
    if (skipsThrottler(reflector, name, targets)) continue;
    const getTracker =
      read<ThrottlerGetTrackerFunction>(THROTTLER_METADATA.getTracker, name) ||
      options.getTracker ||
      common.getTracker;
    const ownKey =
      read<ThrottlerGenerateKeyFunction>(
        THROTTLER_METADATA.generateKey,
        name,
      ) || options.generateKey;
    const generateKey = ownKey || common.generateKey;
    if (!getTracker || !generateKey)
      throw new Error(`The "${name}" throttler has no tracker or key function`);
    const routeLimit = read<Resolvable>(THROTTLER_METADATA.limit, name);
    const routeTtl = read<Resolvable>(THROTTLER_METADATA.ttl, name);
    const routeBlock = read<Resolvable>(THROTTLER_METADATA.blockDuration, name);
    const limit = routeLimit ?? options.limit;
    const ttl = routeTtl ?? options.ttl;
    const blockDuration = routeBlock ?? options.blockDuration;
    route.push({
      throttler: { ...options, name },
      skipIf: options.skipIf || common.skipIf,
      ignoreUserAgents: options.ignoreUserAgents ?? common.ignoreUserAgents,
      limit,
      ttl,
      blockDuration,
      getTracker,
      generateKey,
      // A key the app chose (route, throttler or module-wide) is kept as it is.
      overridden:
        !ownKey &&
        commonKeyIsDefault &&
        ((routeLimit !== undefined && routeLimit !== options.limit) ||
          (routeTtl !== undefined && routeTtl !== options.ttl) ||
          (routeBlock !== undefined && routeBlock !== options.blockDuration)),
      fixed:
        typeof limit === 'function' ||
        typeof ttl === 'function' ||
        typeof blockDuration === 'function'
          ? undefined
          : fixedNumbers(name, limit, ttl, blockDuration),
    });
  }
  return route;
}

/**
 * A route throttler's limit, window and block duration (the window when it
 * has none), checked as `ThrottlerGuard` checks them, in its order.
 */
export function numbersOf(
  name: string,
  limit: unknown,
  ttl: unknown,
  blockDuration: unknown,
): ThrottlerNumbers {
  const checkedLimit = resolveNumber(limit, 'limit', name);
  const checkedTtl = resolveNumber(ttl, 'ttl', name);
  return {
    limit: checkedLimit,
    ttl: checkedTtl,
    blockDuration:
      blockDuration === undefined
        ? checkedTtl
        : resolveNumber(blockDuration, 'blockDuration', name),
  };
}

/**
 * Numbers that are not valid are left to be checked per request, so that the
 * error comes where `ThrottlerGuard` raises it (after `skipIf`, say).
 */
function fixedNumbers(
  name: string,
  limit: unknown,
  ttl: unknown,
  blockDuration: unknown,
): ThrottlerNumbers | undefined {
  try {
    return numbersOf(name, limit, ttl, blockDuration);
  } catch {
    return undefined;
  }
}

/**
 * A limit, window or block duration, once any function has given its value:
 * numbers, and strings of digits as `ThrottlerGuard` accepts them; anything
 * else is a configuration error.
 */
export function resolveNumber(
  value: unknown,
  option: string,
  name: string,
): number {
  const number =
    typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || Number.isNaN(number)) {
    throw new Error(
      `Invalid "${option}" for the "${name}" throttler: expected a number, got ${JSON.stringify(value)}.`,
    );
  }
  return number;
}
