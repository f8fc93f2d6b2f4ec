import type { Type } from '@nestjs/common';
import type { Reflector } from '@nestjs/core';
import { Authenticated, Public, Scopes } from './auth.decorators';

type Handler = (...args: never[]) => unknown;

/** What a route asks of its caller, read from its auth decorators. */
export interface RouteAccess {
  /** `@Public()` decided: no token is read or required. */
  readonly isPublic: boolean;
  /** `@Authenticated()` or `@Scopes()` ask for a token even when auth is not global. */
  readonly declaresToken: boolean;
  /** Every scope the route needs; undefined for none. */
  readonly scopes: readonly string[] | undefined;
}

const PUBLIC: RouteAccess = {
  isPublic: true,
  declaresToken: false,
  scopes: undefined,
};
const UNDECLARED: RouteAccess = {
  isPublic: false,
  declaresToken: false,
  scopes: undefined,
};

/**
 * The handler's own decorators decide before its controller's, so
 * `@Scopes()` or `@Authenticated()` on one handler of a `@Public()`
 * controller protects that handler. (Reading `@Public()` alone with
 * `getAllAndOverride` let the controller's opt-out switch the handler's
 * scopes off: a route that fails open.) On one target, a token requirement
 * wins over `@Public()`: of two contradicting decorators, the closed one.
 * Scopes are the handler's, else the controller's, as before.
 */
export function routeAccess(
  reflector: Reflector,
  targets: [Handler, Type],
): RouteAccess {
  for (const target of targets) {
    if (
      reflector.get(Authenticated, target) === true ||
      reflector.get(Scopes, target) !== undefined
    ) {
      const scopes = reflector.getAllAndOverride(Scopes, targets);
      return {
        isPublic: false,
        declaresToken: true,
        scopes: scopes?.length ? scopes : undefined,
      };
    }
    if (reflector.get(Public, target) === true) return PUBLIC;
  }
  return UNDECLARED;
}
