import { randomUUID } from 'node:crypto';

/**
 * An incoming request id is echoed only when it is short and made of
 * characters that are safe in headers, logs and JSON; anything else is
 * replaced, so a client cannot inject log lines or oversized values.
 */
const WELL_FORMED_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:+=@/-]{0,127}$/;

type HeaderMap = Record<string, string | string[] | undefined>;

/** True when `value` may be echoed as a request id. */
export function isWellFormedRequestId(value: unknown): value is string {
  return typeof value === 'string' && WELL_FORMED_REQUEST_ID.test(value);
}

/**
 * Returns the request's id, fixing it on the request the first time: a
 * well-formed incoming header is kept, anything else is replaced by a new
 * UUID. The header map is Node's own (`IncomingMessage.headers`), which
 * Express and Fastify requests both expose, so every later step (handler,
 * logs, the exception filter) sees the same id on either platform.
 */
export function ensureRequestId(
  request: { headers: HeaderMap },
  headerKey: string,
): string {
  const current = request.headers[headerKey];
  if (isWellFormedRequestId(current)) return current;
  const id = randomUUID();
  request.headers[headerKey] = id;
  return id;
}
