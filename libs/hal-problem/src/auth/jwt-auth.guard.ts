import { type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import {
  AuthConfig,
  classifyTokenError,
  isKeySourceOutage,
  HAL_JWT_STRATEGY,
  TOKEN_FAILURE_DESCRIPTIONS,
} from './auth.config';
import {
  AuthenticationRequired,
  InvalidAuthorizationRequest,
  InvalidToken,
} from './auth.problems';
import { bearerChallenge, bearerToken } from './bearer-challenge';
import { routeAccess } from './route-access';
import { perHandler } from '../routing/per-handler-cache';
import { clientProblem } from '../problem/without-stack';
import { ProblemException } from '../problem/problem.exception';
import { essence } from '../problem/media-type';

/** Seconds a client is asked to wait while the key source is down. */
const KEY_SOURCE_RETRY_AFTER_SECONDS = 5;

type HttpRequest = {
  headers: Record<string, string | string[] | undefined>;
  /** The query as the framework parsed it (Fastify's `useSemicolonDelimiter` reads one after `;`). */
  query?: unknown;
  /** The body, where a parser ran before the guards (a form's `access_token`). */
  body?: unknown;
  url?: string;
  rawHeaders?: string[];
  raw?: { rawHeaders?: string[]; url?: string };
};

/**
 * The auth-scheme a header starts with (RFC 9110 §11.4). It ends at a space,
 * or at a tab or comma, which no valid credentials hold there: `Bearer\t…`
 * or `Bearer, Basic …` is a bearer attempt that is malformed (400
 * `invalid_request`), not a request without credentials.
 */
const SCHEME = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?:[ \t,]|$)/;

function hasAccessToken(fields: unknown): boolean {
  return (
    typeof fields === 'object' &&
    fields !== null &&
    Object.hasOwn(fields, 'access_token')
  );
}

function isForm(contentType: string | string[] | undefined): boolean {
  return (
    typeof contentType === 'string' &&
    essence(contentType) === 'application/x-www-form-urlencoded'
  );
}

/** Larger tokens are refused before any parsing. */
const MAX_TOKEN_LENGTH = 8192;

/**
 * Authenticates with a bearer JWT (passport-jwt) and answers every failure
 * as a problem with its RFC 6750 challenge: 401 without an error code when
 * no credentials were sent, 401 `invalid_token` (with the class of failure)
 * when a token was refused, 400 `invalid_request` for a malformed header, a
 * repeated header, or a token in the query string.
 */
@Injectable()
export class JwtAuthGuard extends AuthGuard(HAL_JWT_STRATEGY) {
  constructor(
    private readonly reflector: Reflector,
    private readonly config: AuthConfig,
  ) {
    super();
  }

  /** Synchronous for routes without a token, so Nest awaits nothing for them. */
  override canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (!this.config.enabled || context.getType() !== 'http') return true;
    if (!this.requiresToken(context)) return true;
    // Returned, then thrown here: V8 counts a call towards feedback and
    // optimization when the function returns, so a function that always
    // throws (every 401 of a client without a token) would stay in the
    // interpreter without feedback (npm run bench:profile: ~9k of the 401's
    // ~134k instructions on Fastify).
    const problem = this.credentialProblem(
      context.switchToHttp().getRequest<HttpRequest>(),
    );
    if (problem) throw problem;
    return super.canActivate(context) as Promise<boolean>;
  }

  /** Whether a route needs a token, worked out once per route. */
  private readonly requiresToken = perHandler((targets) => {
    const access = routeAccess(this.reflector, targets);
    return (
      !access.isPublic &&
      (this.config.options.global === true || access.declaresToken)
    );
  });

  override handleRequest<TUser>(
    error: unknown,
    user: TUser,
    info: unknown,
  ): TUser {
    if (!error && user) return user;
    // passport-jwt reports a key provider's error as a failed token.
    if (isKeySourceOutage(error ?? info))
      throw ProblemException.serviceUnavailable(
        'Access tokens cannot be verified right now; retry shortly.',
        { retryAfter: KEY_SOURCE_RETRY_AFTER_SECONDS, cause: error ?? info },
      );
    const failure = classifyTokenError(error ?? info);
    const description = TOKEN_FAILURE_DESCRIPTIONS[failure];
    throw clientProblem(InvalidToken, {
      detail: description,
      extensions: { error: 'invalid_token', reason: failure },
      headers: {
        'WWW-Authenticate': bearerChallenge(
          this.config.options.realm,
          'invalid_token',
          { description },
        ),
      },
    });
  }

  private credentialProblem(
    request: HttpRequest,
  ): ProblemException | undefined {
    const realm = this.config.options.realm;
    const invalidRequest = (detail: string) =>
      clientProblem(InvalidAuthorizationRequest, {
        detail,
        extensions: { error: 'invalid_request' },
        headers: {
          'WWW-Authenticate': bearerChallenge(realm, 'invalid_request', {
            description: detail,
          }),
        },
      });
    const url = request.raw?.url ?? request.url ?? '';
    const query = url.indexOf('?');
    // The query, and a form body (RFC 6750 §2.2; a JSON member is data):
    // one way of sending a token per request, and this one is the header.
    if (
      (query !== -1 &&
        new URLSearchParams(url.slice(query + 1)).has('access_token')) ||
      hasAccessToken(request.query) ||
      (isForm(request.headers['content-type']) && hasAccessToken(request.body))
    ) {
      return invalidRequest(
        'Access tokens are accepted only in the Authorization header.',
      );
    }
    // Node keeps only the first of repeated Authorization headers; the raw list shows them all.
    const rawHeaders = request.raw?.rawHeaders ?? request.rawHeaders ?? [];
    let count = 0;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      if (rawHeaders[i].toLowerCase() === 'authorization') count++;
    }
    if (count > 1)
      return invalidRequest('The Authorization header must be sent once.');
    const header = request.headers.authorization;
    const scheme =
      typeof header === 'string' ? SCHEME.exec(header)?.[1] : undefined;
    if (!header || !scheme || scheme.toLowerCase() !== 'bearer') {
      // No credentials, or another scheme: RFC 6750 §3.1 says no error code.
      return clientProblem(AuthenticationRequired, {
        detail:
          'This request needs an access token: send Authorization: Bearer <token>.',
        headers: { 'WWW-Authenticate': bearerChallenge(realm) },
      });
    }
    const token = bearerToken(header);
    if (!token)
      return invalidRequest(
        'The Authorization header is not of the form Bearer <token>.',
      );
    if (token.length > MAX_TOKEN_LENGTH) {
      const description = 'The access token is too large.';
      return clientProblem(InvalidToken, {
        detail: description,
        extensions: { error: 'invalid_token', reason: 'malformed' },
        headers: {
          'WWW-Authenticate': bearerChallenge(realm, 'invalid_token', {
            description,
          }),
        },
      });
    }
    return undefined;
  }
}
