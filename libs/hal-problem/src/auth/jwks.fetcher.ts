import { KeySourceError } from './auth.config';

/** Options of `jwksFetcher`. */
export interface JwksFetcherOptions {
  /**
   * Bytes of the JWKS response read at most, after any `Content-Encoding`
   * is undone: a larger one is refused (503) before it fills memory.
   * Default 256 KiB; a JWKS of a few keys with certificate chains is tens.
   */
  readonly maxBytes?: number;
  /** Milliseconds the whole fetch may take, body included. Default 30000. */
  readonly timeoutMs?: number;
  /** Request headers (jwks-rsa sends its `requestHeaders` only with its own fetch). */
  readonly headers?: Readonly<Record<string, string>>;
}

const DEFAULT_MAX_BYTES = 256 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;
/** The longest delay Node's timers keep: a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

type Jwk = Record<string, unknown>;

function isJwk(value: unknown): value is Jwk {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Whether a JWK may verify signatures (RFC 7517 §4.2, §4.3): `use`, when
 * present, is `sig` (jwks-rsa checks this too), and `key_ops`, when
 * present, holds `verify`; jwks-rsa does not read `key_ops`.
 */
function mayVerify(jwk: Jwk): boolean {
  return (
    (jwk.use === undefined || jwk.use === 'sig') &&
    (jwk.key_ops === undefined ||
      (Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify')))
  );
}

/** The body as UTF-8, read up to `maxBytes` and refused past them. */
async function readAtMost(
  response: Response,
  maxBytes: number,
): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    const reader: ReadableStreamDefaultReader<Uint8Array> =
      response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        // Cancelling the body closes the connection: nothing more is read.
        await reader.cancel();
        throw new KeySourceError(
          `The JWKS response is larger than maxBytes (${maxBytes})`,
        );
      }
      chunks.push(value);
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * A `fetcher` for jwks-rsa's `JwksClient` (its cache and rate limit stay
 * as they are) that reads at most `maxBytes` of the JWKS, where jwks-rsa's
 * own fetch reads a response of any size into memory, and within
 * `timeoutMs` in all. A response that is not a 2xx JWK set is refused, and
 * keys whose `use` or `key_ops` rule out verifying are left out. Every
 * failure is the key source's (503 with `Retry-After`), never the token's.
 */
export function jwksFetcher(
  options: JwksFetcherOptions = {},
): (jwksUri: string) => Promise<{ keys: Jwk[] }> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1)
    throw new RangeError(
      `jwksFetcher: maxBytes must be a whole number of bytes, not ${String(options.maxBytes)}`,
    );
  // Past MAX_TIMER_MS, AbortSignal.timeout() aborted every fetch at once.
  if (
    !Number.isSafeInteger(timeoutMs) ||
    timeoutMs < 1 ||
    timeoutMs > MAX_TIMER_MS
  )
    throw new RangeError(
      `jwksFetcher: timeoutMs must be a whole number of milliseconds from 1 to ${MAX_TIMER_MS}, not ${String(options.timeoutMs)}`,
    );
  const given = options.headers ?? {};
  // A caller's Accept replaces the default, in whatever case it is spelled:
  // fetch's Headers would join `Accept` and `accept` into one list.
  const headers = Object.keys(given).some(
    (name) => name.toLowerCase() === 'accept',
  )
    ? { ...given }
    : { accept: 'application/json', ...given };
  return async (jwksUri) => {
    let jwks: unknown;
    try {
      const response = await fetch(jwksUri, {
        headers,
        // Not followed, as jwks-rsa's own fetch does not: the configured
        // jwksUri is the key source, and a 3xx is refused below as not ok.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) {
        await response.body?.cancel();
        throw new KeySourceError(
          `The JWKS endpoint answered ${response.status}`,
        );
      }
      // Refused before reading when the size is declared (an encoded
      // body's length is not the decoded size that counts).
      const declared = Number(response.headers.get('content-length'));
      if (declared > maxBytes && !response.headers.has('content-encoding')) {
        await response.body?.cancel();
        throw new KeySourceError(
          `The JWKS response declares ${declared} bytes, more than maxBytes (${maxBytes})`,
        );
      }
      jwks = JSON.parse(await readAtMost(response, maxBytes));
    } catch (error) {
      if (error instanceof KeySourceError) throw error;
      throw new KeySourceError(
        `The JWKS could not be read: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
        { cause: error },
      );
    }
    if (!isJwk(jwks) || !Array.isArray(jwks.keys) || !jwks.keys.every(isJwk))
      throw new KeySourceError('The JWKS endpoint answered no JWK set');
    return { keys: jwks.keys.filter(mayVerify) };
  };
}
