/** A quoted-string (RFC 9110 §5.6.4): backslash-escape `"` and `\`. */
function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}

/** The RFC 6750 `error` codes. */
export type BearerError =
  'invalid_request' | 'invalid_token' | 'insufficient_scope';

/**
 * A `WWW-Authenticate: Bearer ...` challenge (RFC 6750 §3). Only fixed,
 * library-written descriptions go into `error_description`, never a token
 * or a verification library's message.
 */
export function bearerChallenge(
  realm: string,
  error?: BearerError,
  details: { description?: string; scope?: readonly string[] } = {},
): string {
  const params = [`realm=${quoted(realm)}`];
  if (error) params.push(`error=${quoted(error)}`);
  if (error && details.description)
    params.push(`error_description=${quoted(details.description)}`);
  if (details.scope?.length)
    params.push(`scope=${quoted(details.scope.join(' '))}`);
  return `Bearer ${params.join(', ')}`;
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The token of an `Authorization: Bearer <token68>` header, or undefined. */
export function bearerToken(header: unknown): string | undefined {
  return typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
}
