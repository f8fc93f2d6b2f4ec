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

/** A scope token (RFC 6749 §3.3): what the `scope` of a challenge can carry. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/**
 * The scopes a route requires, all of them: `@Scopes('orders:write')`.
 * A token without them is answered 403 `insufficient_scope`. A scope with
 * a space, a quote or a backslash could never be granted nor named in the
 * challenge, and is refused where it is declared.
 */
export const Scopes = Reflector.createDecorator<
  string | readonly string[],
  readonly string[]
>({
  transform: (scopes) => {
    const list = typeof scopes === 'string' ? [scopes] : [...scopes];
    for (const scope of list)
      if (!SCOPE_TOKEN.test(scope))
        throw new Error(
          `@Scopes(): "${scope}" is not a scope token (RFC 6749 §3.3: printable ASCII, no space, " or \\)`,
        );
    return list;
  },
});

/**
 * The authenticated principal (`AuthPrincipal`) as a handler parameter;
 * `undefined` outside HTTP, where no token is verified: there the "request"
 * is an RPC message's payload, and its `user` whatever the sender wrote.
 */
export const Principal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): unknown => {
    if (context.getType() !== 'http') return undefined;
    return context.switchToHttp().getRequest<{ user?: unknown }>().user;
  },
);
