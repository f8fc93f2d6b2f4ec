/**
 * What an RFC 6750 §3 attribute value may hold: printable ASCII without `"`
 * and `\`. The grammar allows no escapes, so a backslash-escaped `"` (a
 * valid RFC 9110 quoted-string) is still refused by strict clients, and a
 * character beyond ASCII went out as a raw byte on Express and as UTF-8 on
 * Fastify.
 */
const CHALLENGE_TEXT = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;
/** True when `value` may be sent as an RFC 6750 §3 attribute value (a realm, a description). */
export function isChallengeText(value: unknown): value is string {
  return typeof value === 'string' && CHALLENGE_TEXT.test(value);
}
const NOT_CHALLENGE_TEXT = /[^\x20\x21\x23-\x5B\x5D-\x7E]/g;
/** A scope token (RFC 6749 §3.3). */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** The RFC 6750 `error` codes. */
export type BearerError =
  'invalid_request' | 'invalid_token' | 'insufficient_scope';

/**
 * A `WWW-Authenticate: Bearer ...` challenge (RFC 6750 §3). Only fixed,
 * library-written descriptions go into `error_description`, never a token
 * or a verification library's message. A `realm` or a scope outside the
 * grammar throws a `RangeError` (it could never be matched or granted); a
 * description's other characters are sent as `?`.
 */
export function bearerChallenge(
  realm: string,
  error?: BearerError,
  details: { description?: string; scope?: readonly string[] } = {},
): string {
  if (!isChallengeText(realm))
    throw new RangeError(
      `bearerChallenge: the realm must be printable ASCII without " and \\ (RFC 6750 §3)`,
    );
  const params = [`realm="${realm}"`];
  if (error) params.push(`error="${error}"`);
  if (error && details.description)
    params.push(
      `error_description="${details.description.replace(NOT_CHALLENGE_TEXT, '?')}"`,
    );
  if (details.scope?.length) {
    for (const scope of details.scope) {
      if (!SCOPE_TOKEN.test(scope))
        throw new RangeError(
          `bearerChallenge: ${JSON.stringify(scope)} is not a scope token (RFC 6749 §3.3)`,
        );
    }
    params.push(`scope="${details.scope.join(' ')}"`);
  }
  return `Bearer ${params.join(', ')}`;
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The token of an `Authorization: Bearer <token68>` header, or undefined. */
export function bearerToken(header: unknown): string | undefined {
  return typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
}
