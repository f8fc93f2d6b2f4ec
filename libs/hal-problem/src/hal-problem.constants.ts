import { DEFAULT_REQUEST_ID_HEADER } from './problem/problem.config';

/**
 * The response headers of the module's contract that a browser hides from a
 * script on another origin unless CORS exposes them: only `Cache-Control`,
 * `Content-Language`, `Content-Length`, `Content-Type`, `Expires`,
 * `Last-Modified` and `Pragma` are readable without (Fetch, CORS-safelisted
 * response-header names). For `app.enableCors({ exposedHeaders:
 * [...HAL_PROBLEM_EXPOSED_HEADERS] })`; add your own `requestIdHeader` if
 * you renamed it.
 *
 * - the request id, on every response;
 * - `Location` of a 201 or 202, and `Idempotent-Replayed` of a replay;
 * - `RateLimit`, `RateLimit-Policy` and `Retry-After` (429, 503, a 202's
 *   monitor), and the `X-RateLimit-*` of `throttle.legacyHeaders`;
 * - `WWW-Authenticate` of a 401 or 403 (RFC 6750), `Allow` of a 405, and
 *   `Accept-Encoding` of a 415 refusing a `Content-Encoding`.
 */
export const HAL_PROBLEM_EXPOSED_HEADERS: readonly string[] = Object.freeze([
  DEFAULT_REQUEST_ID_HEADER,
  'Location',
  'Idempotent-Replayed',
  'RateLimit',
  'RateLimit-Policy',
  'Retry-After',
  'X-RateLimit-Limit',
  'X-RateLimit-Remaining',
  'X-RateLimit-Reset',
  'WWW-Authenticate',
  'Allow',
  'Accept-Encoding',
]);
