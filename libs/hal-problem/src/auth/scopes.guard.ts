import {
  type CanActivate,
  type ExecutionContext,
  Injectable,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AuthPrincipal } from './auth-options.interface';
import { AuthConfig } from './auth.config';
import { InsufficientScope } from './auth.problems';
import { bearerChallenge } from './bearer-challenge';
import { routeAccess } from './route-access';
import { perHandler } from '../routing/per-handler-cache';
import { clientProblem } from '../problem/without-stack';

/**
 * Requires every scope named by `@Scopes()` (handler first, then controller;
 * `route-access.ts` has the precedence over `@Public()`).
 * A missing one is a 403 with `error="insufficient_scope"` and the scopes needed.
 */
@Injectable()
export class ScopesGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly config: AuthConfig,
  ) {}

  /** The scopes a route needs (undefined for none or @Public), worked out once per route. */
  private readonly requiredScopes = perHandler(
    (targets) => routeAccess(this.reflector, targets).scopes,
  );

  canActivate(context: ExecutionContext): boolean {
    if (!this.config.enabled || context.getType() !== 'http') return true;
    const required = this.requiredScopes(context);
    if (!required) return true;
    const principal = context
      .switchToHttp()
      .getRequest<{ user?: AuthPrincipal }>().user;
    const granted = new Set(principal?.scopes ?? []);
    const missing = required.filter((scope) => !granted.has(scope));
    if (missing.length === 0) return true;
    throw clientProblem(InsufficientScope, {
      detail: `This request needs the scope${required.length > 1 ? 's' : ''} ${required.join(', ')}; the token lacks ${missing.join(', ')}.`,
      extensions: {
        error: 'insufficient_scope',
        requiredScopes: [...required],
      },
      headers: {
        'WWW-Authenticate': bearerChallenge(
          this.config.options.realm,
          'insufficient_scope',
          { scope: required },
        ),
      },
    });
  }
}
