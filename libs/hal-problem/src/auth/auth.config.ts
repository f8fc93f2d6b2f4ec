import { Inject, Injectable } from '@nestjs/common';
import jwt, {
  type Jwt,
  type JwtPayload,
  type VerifyOptions,
} from 'jsonwebtoken';
import type { HalProblemModuleOptions } from '../hal-problem-module-options.interface';
import { HAL_PROBLEM_MODULE_OPTIONS } from '../hal-problem.module-definition';
import { isChallengeText } from './bearer-challenge';
import type {
  AuthPrincipal,
  JwtAuthOptions,
  SecretOrKeyProvider,
} from './auth-options.interface';

/** The name the module's passport-jwt strategy is registered under. */
export const HAL_JWT_STRATEGY = 'nestjs-hal-problem-jwt';
const MAX_CLOCK_TOLERANCE = 300;
const DEFAULT_KEY_PROVIDER_TIMEOUT_MS = 5_000;

/** Why a token was refused: a fixed class, never a library's message. */
export type TokenFailure =
  | 'expired'
  | 'not_yet_valid'
  | 'bad_signature'
  | 'bad_algorithm'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'missing_claims'
  | 'wrong_type'
  | 'malformed';

export const TOKEN_FAILURE_DESCRIPTIONS: Readonly<
  Record<TokenFailure, string>
> = {
  expired: 'The access token has expired.',
  not_yet_valid: 'The access token is not valid yet.',
  bad_signature: 'The access token signature does not verify.',
  bad_algorithm:
    'The access token is signed with an algorithm that is not accepted.',
  wrong_issuer:
    'The access token was issued by an issuer this API does not trust.',
  wrong_audience: 'The access token is meant for another audience.',
  missing_claims: 'The access token lacks a required claim.',
  wrong_type: 'The token is not an access token of the accepted type.',
  malformed: 'The access token is malformed.',
};

/**
 * Classifies jsonwebtoken's errors. It has no error codes, so its error
 * classes and message prefixes are read here, only to choose one of the
 * fixed descriptions above; nothing of the message reaches a client.
 */
export function classifyTokenError(error: unknown): TokenFailure {
  if (error instanceof jwt.TokenExpiredError) return 'expired';
  if (error instanceof jwt.NotBeforeError) return 'not_yet_valid';
  const message = error instanceof Error ? error.message : '';
  if (message === 'invalid signature') return 'bad_signature';
  if (
    message === 'invalid algorithm' ||
    message === 'jwt signature is required'
  )
    return 'bad_algorithm';
  if (
    message.startsWith('jwt issuer invalid') ||
    error instanceof UntrustedIssuerError
  )
    return 'wrong_issuer';
  if (message.startsWith('jwt audience invalid')) return 'wrong_audience';
  if (error instanceof MissingClaimError) return 'missing_claims';
  if (error instanceof WrongTokenTypeError) return 'wrong_type';
  return 'malformed';
}

export class MissingClaimError extends Error {}
export class WrongTokenTypeError extends Error {}
export class UnsupportedCriticalHeaderError extends Error {}
export class UntrustedIssuerError extends Error {}
/** A key provider that did not answer in time: a key source outage (503). */
export class KeyProviderTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
}

/** The issuers a module's auth options trust: `issuer`, or the names of `keysByIssuer`. */
export function trustedIssuers(
  options: Pick<JwtAuthOptions, 'issuer' | 'keysByIssuer'>,
): string | readonly string[] | undefined {
  return options.keysByIssuer
    ? Object.keys(options.keysByIssuer)
    : options.issuer;
}

/**
 * A token read unverified, only to choose its key; null when it is no JWS
 * or its payload no JSON. jsonwebtoken's `decode` throws a SyntaxError for
 * such a payload, which the key provider's guard takes for the key
 * source's fault (a 503) rather than the token's (401 malformed).
 */
export function decodeUnverified(token: string): jwt.Jwt | null {
  try {
    return jwt.decode(token, { complete: true, json: true });
  } catch {
    return null;
  }
}

/**
 * A key provider that picks each token's key by its `iss`. The payload is
 * read unverified only to choose; the signature check that follows with
 * that issuer's key, and jsonwebtoken's `issuer` check, make the choice
 * safe. A Map, so that an `iss` such as `__proto__` finds nothing.
 */
function keyByIssuer(
  keys: NonNullable<JwtAuthOptions['keysByIssuer']>,
): SecretOrKeyProvider {
  const byIssuer = new Map(Object.entries(keys));
  return (request, rawJwtToken, done) => {
    const payload = decodeUnverified(rawJwtToken)?.payload as
      JwtPayload | null | undefined;
    if (payload === null || payload === undefined) {
      done(new jwt.JsonWebTokenError('jwt malformed'));
      return;
    }
    const key =
      typeof payload === 'object' && typeof payload.iss === 'string'
        ? byIssuer.get(payload.iss)
        : undefined;
    if (key === undefined) done(new UntrustedIssuerError('iss'));
    else if (typeof key === 'function') key(request, rawJwtToken, done);
    else done(null, key);
  };
}

/**
 * A key provider's failure that is the key source's, not the token's: the
 * auth guard answers it with a 503 and `Retry-After`. A provider of your
 * own may fail with one (the original error as its `cause`) to say so.
 */
export class KeySourceError extends Error {
  override readonly name = 'KeySourceError';
}

/**
 * What a key provider fails with when its key source answered something
 * that is no key set, or is misconfigured: jwks-rsa reads a 200 of HTML,
 * `null` or `{"keys":"x"}` into the engine's SyntaxError or TypeError, and
 * an invalid `jwksUri` is its ArgumentError. None says anything about the
 * token, which would otherwise be refused as malformed.
 */
const SERVER_FAULTS = new Set([
  'SyntaxError',
  'TypeError',
  'RangeError',
  'ReferenceError',
  'ArgumentError',
]);

/** A provider's error as a `KeySourceError` when it is the server's fault. */
function asKeySourceFault(error: unknown): unknown {
  // Read structurally, as `isKeySourceOutage` does (another realm's errors).
  const name = (error as { name?: unknown } | null)?.name;
  if (typeof name !== 'string' || !SERVER_FAULTS.has(name)) return error;
  const { message } = error as { message?: unknown };
  return new KeySourceError(
    `The key provider failed: ${name}: ${String(message)}`,
    { cause: error },
  );
}

type KeyLookup = Promise<{ error: unknown; key?: string | Buffer }>;

/**
 * A key provider bounded in time and asked once per request. jwks-rsa's
 * fetch has a socket-idle timeout only (30 s by default), and a JWKS
 * response cut off mid-body never settles at all: every request that needs
 * that key would hang. And the rate limiter's tracker verifies the token
 * before the auth guard does: without the request's lookup kept here, a
 * token with an unknown `kid` cost two JWKS fetches per request.
 */
function boundedKeyProvider(
  provider: SecretOrKeyProvider,
  timeoutMs: number,
): SecretOrKeyProvider {
  const lookups = new WeakMap<object, { token: string; lookup: KeyLookup }>();
  return (request, rawJwtToken, done) => {
    // A token that is no JWS of JSON is the token's fault, said before any
    // provider runs: one that decodes it (jsonwebtoken's `decode`) would
    // throw the engine's SyntaxError, which is read below as its key source
    // failing, so a client's garbage would be answered 503.
    if (decodeUnverified(rawJwtToken) === null) {
      done(new jwt.JsonWebTokenError('jwt malformed'));
      return;
    }
    const perRequest = typeof request === 'object' && request !== null;
    const kept = perRequest ? lookups.get(request) : undefined;
    let lookup = kept?.token === rawJwtToken ? kept.lookup : undefined;
    if (!lookup) {
      lookup = new Promise((resolve) => {
        const timer = setTimeout(
          () => resolve({ error: new KeyProviderTimeoutError('key provider') }),
          timeoutMs,
        );
        try {
          provider(request, rawJwtToken, (error, key) => {
            clearTimeout(timer);
            resolve({ error: asKeySourceFault(error), key });
          });
        } catch (error) {
          clearTimeout(timer);
          resolve({ error: asKeySourceFault(error) });
        }
      });
      if (perRequest) lookups.set(request, { token: rawJwtToken, lookup });
    }
    void lookup.then(({ error, key }) => done(error, key));
  };
}

/** A `typ` value as RFC 7515 §4.1.9 compares it: lower case, `application/` implied. */
function asMediaType(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.includes('/') ? lower : `application/${lower}`;
}

/** A media type without parameters (RFC 6838 §4.2: type/subtype of restricted names). */
const MEDIA_TYPE =
  /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/**
 * Whom a principal's rate-limit bucket and idempotency records belong to:
 * its subject, and with several trusted issuers its issuer too, since two
 * issuers may hand out the same `sub` to different clients (one could
 * otherwise replay the other's stored responses). With one issuer it is
 * the subject alone, as before, so stored records keep matching.
 */
export function principalScope(
  principal: { subject: string; claims?: Readonly<Record<string, unknown>> },
  issuers: string | readonly string[] | undefined,
): string {
  const iss = principal.claims?.iss;
  return Array.isArray(issuers) && issuers.length > 1 && typeof iss === 'string'
    ? `sub:${JSON.stringify([iss, principal.subject])}`
    : `sub:${principal.subject}`;
}

/** Error codes of a key source that cannot be reached (Node's and undici's). */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/**
 * Whether a key provider failed because its key source is down (a JWKS
 * endpoint refusing connections or answering an error: jwks-rsa's
 * `JwksError`; or answering no key set, or misconfigured: a
 * `KeySourceError`), not because of the token (an unknown `kid` is jwks-rsa's
 * `SigningKeyNotFoundError`, still an invalid token). The server cannot
 * verify anything then: a 503 to retry, not a 401 that blames the token.
 */
export function isKeySourceOutage(error: unknown): boolean {
  // Read structurally: Node's own socket errors may come from another realm
  // than the provider's (under a VM sandbox, `instanceof Error` fails).
  for (
    let depth = 0;
    depth < 4 && typeof error === 'object' && error !== null;
    depth++
  ) {
    const { code, name, cause } = error as {
      code?: unknown;
      name?: unknown;
      cause?: unknown;
    };
    if (name === 'JwksError' || name === 'KeySourceError') return true;
    if (
      typeof code === 'string' &&
      (UNREACHABLE.has(code) || code.startsWith('UND_ERR_'))
    )
      return true;
    error = cause;
  }
  return false;
}

/**
 * `tokenType` as the media types compared, checked once: a value that is no
 * media type could never match, and would refuse every token.
 */
function acceptedTokenTypes(
  tokenType: string | readonly string[] | undefined,
): ReadonlySet<string> | undefined {
  if (tokenType === undefined) return undefined;
  const types = typeof tokenType === 'string' ? [tokenType] : [...tokenType];
  if (
    types.length === 0 ||
    types.some(
      (type) => typeof type !== 'string' || !MEDIA_TYPE.test(asMediaType(type)),
    )
  )
    throw new Error(
      'HalProblemModule: auth.tokenType must be one or more media types, e.g. "at+jwt"',
    );
  return new Set(types.map(asMediaType));
}

/** `keysByIssuer` on its own, each issuer a non-empty name with a key or a provider. */
function checkKeysByIssuer(options: JwtAuthOptions): void {
  const keys = options.keysByIssuer;
  if (
    options.issuer !== undefined ||
    options.secretOrKey !== undefined ||
    options.secretOrKeyProvider !== undefined
  )
    throw new Error(
      'HalProblemModule: auth.keysByIssuer replaces issuer, secretOrKey and secretOrKeyProvider; give it alone',
    );
  const entries =
    typeof keys === 'object' && keys !== null ? Object.entries(keys) : [];
  if (
    entries.length === 0 ||
    entries.some(
      ([issuer, key]) =>
        issuer === '' ||
        !(
          typeof key === 'function' ||
          (typeof key === 'string' && key !== '') ||
          (Buffer.isBuffer(key) && key.length > 0)
        ),
    )
  )
    throw new Error(
      'HalProblemModule: auth.keysByIssuer must map each issuer to a secret, a public key or a key provider',
    );
}

/**
 * What an app gave as `secretOrKey` when it has no key: most often
 * `process.env.JWT_SECRET` with the variable unset, which the message says.
 */
function missingKey(options: JwtAuthOptions): string {
  if (!('secretOrKey' in options)) return '';
  if (options.secretOrKey === undefined)
    return ' (undefined here: an unset environment variable?)';
  return options.secretOrKey === '' ? ' (empty here)' : '';
}

function scopesOf(payload: JwtPayload, withScp: boolean): string[] {
  const scopes = new Set<string>();
  if (typeof payload.scope === 'string') {
    for (const scope of payload.scope.split(' ')) if (scope) scopes.add(scope);
  }
  if (withScp && Array.isArray(payload.scp)) {
    for (const scope of payload.scp)
      if (typeof scope === 'string' && scope) scopes.add(scope);
  } else if (withScp && typeof payload.scp === 'string') {
    // Some issuers (Microsoft Entra ID) send `scp` space-separated, as `scope`.
    for (const scope of payload.scp.split(' ')) if (scope) scopes.add(scope);
  }
  return [...scopes];
}

/** The auth options, checked once at bootstrap; and token verification for other guards. */
@Injectable()
export class AuthConfig {
  readonly enabled: boolean;
  readonly options: Required<
    Pick<
      JwtAuthOptions,
      'realm' | 'clockTolerance' | 'scpClaim' | 'requireExpiration' | 'global'
    >
  > &
    JwtAuthOptions;
  readonly verifyOptions: VerifyOptions & { algorithms: jwt.Algorithm[] };
  /**
   * Whether a key provider gives the keys (`secretOrKeyProvider`, or one in
   * `keysByIssuer`): only then can the key source fail, a 503. Static keys
   * never do.
   */
  readonly usesKeyProvider: boolean;
  /** The accepted `typ` values as media types, or undefined for any. */
  private readonly tokenTypes: ReadonlySet<string> | undefined;

  constructor(
    @Inject(HAL_PROBLEM_MODULE_OPTIONS)
    moduleOptions: HalProblemModuleOptions = {},
  ) {
    const auth = moduleOptions.auth;
    this.enabled = auth !== undefined && auth !== false;
    const options = auth || {
      realm: 'api',
      algorithms: [],
      issuer: '',
      audience: '',
    };
    if (this.enabled) {
      if (
        !options.algorithms?.length ||
        options.algorithms.some((alg) => String(alg).toLowerCase() === 'none')
      ) {
        throw new Error(
          'HalProblemModule: auth.algorithms must list the accepted algorithms, and never "none"',
        );
      }
      if (options.keysByIssuer !== undefined) {
        checkKeysByIssuer(options);
      } else {
        if (!options.issuer) {
          throw new Error(
            'HalProblemModule: auth.issuer and auth.audience are required',
          );
        }
        if (options.secretOrKey && options.secretOrKeyProvider)
          throw new Error(
            'HalProblemModule: auth takes secretOrKey or secretOrKeyProvider, not both',
          );
        if (!options.secretOrKey && !options.secretOrKeyProvider)
          throw new Error(
            `HalProblemModule: auth needs a key: secretOrKey${missingKey(options)}, secretOrKeyProvider or keysByIssuer`,
          );
      }
      if (!options.audience) {
        throw new Error(
          'HalProblemModule: auth.issuer and auth.audience are required',
        );
      }
      // Sent as a quoted-string (RFC 9110 §5.6.4) on every challenge: a
      // character outside qdtext would make every 401 fail to send.
      if (!isChallengeText(options.realm))
        throw new Error(
          'HalProblemModule: auth.realm must be a string of printable ASCII, without " and \\',
        );
    }
    this.tokenTypes = this.enabled
      ? acceptedTokenTypes(options.tokenType)
      : undefined;
    const clockTolerance = Math.min(
      Math.max(options.clockTolerance ?? 5, 0),
      MAX_CLOCK_TOLERANCE,
    );
    // NaN (`Number()` of an unset variable) would make `iat > now + NaN`
    // false: a token issued in the future would pass. jsonwebtoken reads
    // it as 0 for `nbf` and `exp`; say it at start rather than guess.
    if (this.enabled && Number.isNaN(clockTolerance))
      throw new TypeError(
        `HalProblemModule: auth.clockTolerance must be a number of seconds, not ${String(options.clockTolerance)}`,
      );
    const keyProviderTimeoutMs =
      options.keyProviderTimeoutMs ?? DEFAULT_KEY_PROVIDER_TIMEOUT_MS;
    if (
      this.enabled &&
      !(
        typeof keyProviderTimeoutMs === 'number' &&
        keyProviderTimeoutMs > 0 &&
        keyProviderTimeoutMs <= 60_000
      )
    )
      throw new TypeError(
        `HalProblemModule: auth.keyProviderTimeoutMs must be a number of milliseconds from 1 to 60000, not ${String(options.keyProviderTimeoutMs)}`,
      );
    const issuer = trustedIssuers(options) ?? '';
    this.usesKeyProvider =
      this.enabled &&
      (options.keysByIssuer
        ? Object.values(options.keysByIssuer).some(
            (key) => typeof key === 'function',
          )
        : options.secretOrKeyProvider !== undefined);
    const provider = options.keysByIssuer
      ? keyByIssuer(options.keysByIssuer)
      : options.secretOrKeyProvider;
    this.options = {
      ...options,
      ...(options.keysByIssuer ? { issuer } : {}),
      ...(provider
        ? {
            secretOrKeyProvider: boundedKeyProvider(
              provider,
              keyProviderTimeoutMs,
            ),
          }
        : {}),
      clockTolerance,
      scpClaim: options.scpClaim ?? true,
      requireExpiration: options.requireExpiration ?? true,
      global: options.global ?? true,
    };
    this.verifyOptions = {
      algorithms: [...options.algorithms],
      issuer: typeof issuer === 'string' ? issuer : ([...issuer] as [string]),
      audience:
        typeof options.audience === 'string'
          ? options.audience
          : ([...options.audience] as [string]),
      clockTolerance,
    };
  }

  /**
   * The principal of a verified token (`jwt.verify` with `complete: true`):
   * its header's `typ` checked against `tokenType`, then its payload.
   */
  principalOfToken(token: Jwt): AuthPrincipal {
    // No JWS extension is understood here, so a token that marks any as
    // critical is invalid (RFC 7515 §4.1.11); jsonwebtoken ignores `crit`.
    if ((token.header as { crit?: unknown }).crit !== undefined)
      throw new UnsupportedCriticalHeaderError('crit');
    if (this.tokenTypes) {
      const typ = (token.header as { typ?: unknown }).typ;
      if (typeof typ !== 'string' || !this.tokenTypes.has(asMediaType(typ)))
        throw new WrongTokenTypeError('typ');
    }
    if (typeof token.payload !== 'object') throw new MissingClaimError('sub');
    return this.principalOf(token.payload);
  }

  /** The principal of a verified payload; refuses a token without `sub`. */
  principalOf(payload: JwtPayload): AuthPrincipal {
    if (typeof payload.sub !== 'string' || payload.sub === '')
      throw new MissingClaimError('sub');
    // jsonwebtoken checks `exp` only when present: a token without one would
    // be good forever. RFC 9068 §2.2 makes it required of access tokens.
    if (this.options.requireExpiration && typeof payload.exp !== 'number')
      throw new MissingClaimError('exp');
    // Issued in the future (beyond the clock tolerance): jsonwebtoken checks
    // `nbf` and `exp` but not `iat`, and an issuer does not date its tokens
    // ahead; a forged or mis-clocked token is refused as not yet valid. An
    // `iat` that is no NumericDate (RFC 7519 §4.1.6), such as a string, is
    // malformed, as jsonwebtoken calls a string `nbf` or `exp`.
    if (payload.iat !== undefined && typeof payload.iat !== 'number')
      throw new jwt.JsonWebTokenError('invalid iat value');
    if (
      typeof payload.iat === 'number' &&
      payload.iat > Date.now() / 1000 + this.options.clockTolerance
    )
      throw new jwt.NotBeforeError(
        'jwt issued in the future',
        new Date(payload.iat * 1000),
      );
    return {
      subject: payload.sub,
      scopes: scopesOf(payload, this.options.scpClaim),
      claims: payload,
    };
  }

  /**
   * Verifies a token as the auth guard does (signature, algorithm, issuer,
   * audience, time), for callers that must never trust an unverified token,
   * such as the rate limiter's tracker. Resolves to undefined when invalid.
   */
  async verify(
    token: string,
    request: unknown,
  ): Promise<AuthPrincipal | undefined> {
    if (!this.enabled) return undefined;
    try {
      const key = await this.keyFor(token, request);
      return this.principalOfToken(
        jwt.verify(token, key, { ...this.verifyOptions, complete: true }),
      );
    } catch {
      return undefined;
    }
  }

  private keyFor(token: string, request: unknown): Promise<string | Buffer> {
    const { secretOrKey, secretOrKeyProvider } = this.options;
    if (secretOrKey !== undefined) return Promise.resolve(secretOrKey);
    return new Promise((resolve, reject) =>
      (secretOrKeyProvider as SecretOrKeyProvider)(
        request,
        token,
        (error, key) =>
          error || key === undefined
            ? reject(error instanceof Error ? error : new Error('no key'))
            : resolve(key),
      ),
    );
  }
}
