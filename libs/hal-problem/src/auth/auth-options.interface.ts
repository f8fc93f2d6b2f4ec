import type { Algorithm } from 'jsonwebtoken';

/**
 * passport-jwt's key provider, e.g. `jwksKeyProvider(new JwksClient({
 * jwksUri, cache: true, rateLimit: true, fetcher: jwksFetcher() }))` with
 * the `jwks-rsa` package. Without `rateLimit`, every token with an unknown
 * `kid` makes it fetch the JWKS again.
 */
export type SecretOrKeyProvider = (
  request: unknown,
  rawJwtToken: string,
  done: (error: unknown, secretOrKey?: string | Buffer) => void,
) => void;

/**
 * Bearer-token authentication (RFC 6750) with JWTs, through
 * `@nestjs/passport` and `passport-jwt`. Safe by default: an algorithm
 * allow-list, issuer and audience are required, the token is read only from
 * the `Authorization` header, and clock skew is bounded.
 */
export interface JwtAuthOptions {
  /** The `realm` of `WWW-Authenticate` challenges. */
  readonly realm: string;
  /** The accepted signing algorithms, e.g. `['HS256']` or `['RS256']`. Never `none`. */
  readonly algorithms: readonly Algorithm[];
  /** The `iss` every token must carry: required, unless `keysByIssuer` names the issuers. */
  readonly issuer?: string | readonly string[];
  /** The `aud` every token must carry. */
  readonly audience: string | readonly string[];
  /** A shared secret (HS*) or a public key (RS*, ES*, PS*). */
  readonly secretOrKey?: string | Buffer;
  /** Or a key provider, e.g. a JWKS endpoint through `jwksKeyProvider` and jwks-rsa. */
  readonly secretOrKeyProvider?: SecretOrKeyProvider;
  /**
   * Several trusted issuers, each with its own key (a secret, a public key,
   * or a key provider such as `jwksKeyProvider`): a token is
   * verified only with the key of the issuer its `iss` names, so one
   * issuer's key never verifies a token that claims another issuer (and its
   * subjects). Instead of `issuer`, `secretOrKey` and `secretOrKeyProvider`.
   */
  readonly keysByIssuer?: Readonly<
    Record<string, string | Buffer | SecretOrKeyProvider>
  >;
  /**
   * Milliseconds a key provider (a JWKS fetch) may take before the request
   * is answered 503 with `Retry-After`, instead of waiting on a slow or
   * stalled key source. Default 5000, at most 60000.
   */
  readonly keyProviderTimeoutMs?: number;
  /** Seconds of clock skew tolerated for `exp`/`nbf`. Default 5, at most 300. */
  readonly clockTolerance?: number;
  /** Also read scopes from an `scp` array claim (as some issuers send). Default true. */
  readonly scpClaim?: boolean;
  /**
   * Refuse a token without `exp` (RFC 9068 §2.2), which would otherwise be
   * valid forever. Default true.
   */
  readonly requireExpiration?: boolean;
  /**
   * The JOSE header `typ` every token must carry (explicit typing, RFC 8725
   * §3.11), e.g. `'at+jwt'` for RFC 9068 access tokens, so that another kind
   * of token from the same issuer (an ID token whose `aud` is this API, a
   * logout token) is never taken as an access token. Compared as a media
   * type: case-insensitive, `application/` implied when there is no `/`
   * (RFC 7515 §4.1.9), so `at+jwt` also accepts `application/at+jwt`.
   * Unset: any `typ`, or none.
   */
  readonly tokenType?: string | readonly string[];
  /**
   * Require a valid token on every route unless `@Public()`. Default true;
   * with false, only routes with `@Scopes()` or `@Authenticated()` need one.
   */
  readonly global?: boolean;
}

/** The authenticated client, as `@Principal()` and HAL `when` conditions see it. */
export interface AuthPrincipal {
  /** The token's `sub`. */
  readonly subject: string;
  /** Granted scopes: the space-separated `scope` claim, and `scp` if enabled. */
  readonly scopes: readonly string[];
  /** Every verified claim of the token. */
  readonly claims: Readonly<Record<string, unknown>>;
}
