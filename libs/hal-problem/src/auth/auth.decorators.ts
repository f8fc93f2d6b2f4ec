import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';

/** Opts a route (or a controller) out of authentication. */
export const Public = Reflector.createDecorator<void, true>({
  transform: () => true,
});

/**
 * Requires a token on a route even when authentication is not global
 * (`auth.global: false`).
 */
export const Authenticated = Reflector.createDecorator<void, true>({
  transform: () => true,
});

/**
 * The scopes a route requires, all of them: `@Scopes('orders:write')`.
 * A token without them is answered 403 `insufficient_scope`.
 */
export const Scopes = Reflector.createDecorator<
  string | readonly string[],
  readonly string[]
>({
  transform: (scopes) => (typeof scopes === 'string' ? [scopes] : [...scopes]),
});

/** The authenticated principal (`AuthPrincipal`) as a handler parameter. */
export const Principal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): unknown => {
    return context.switchToHttp().getRequest<{ user?: unknown }>().user;
  },
);
