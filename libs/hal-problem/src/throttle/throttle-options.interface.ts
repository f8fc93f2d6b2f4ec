/** How the module's throttler guard behaves (limits themselves come from `ThrottlerModule.forRoot`). */
export interface HalThrottleOptions {
  /**
   * Proxies in front of the app, for the client address: `false` (default)
   * uses the socket address and ignores `X-Forwarded-For`; `true` or a
   * number N takes the address N hops from the right of `X-Forwarded-For`
   * (`true` = 1, the address the nearest proxy saw), never the leftmost,
   * client-forgeable entry; without `X-Forwarded-For`, the `for=` entries
   * of `Forwarded` (RFC 7239) the same way.
   */
  readonly trustProxy?: boolean | number;
  /** One bucket per client across all routes (default), or per client and route (Nest's default). */
  readonly scope?: 'client' | 'route';
  /**
   * When the storage fails (e.g. Redis unreachable): `'fail-open'` (default)
   * logs a warning and lets the request through; `'fail-closed'` answers 503
   * with `Retry-After`.
   */
  readonly onStorageError?: 'fail-open' | 'fail-closed';
  /** Also send the legacy `X-RateLimit-Limit/Remaining/Reset` headers. Default false. */
  readonly legacyHeaders?: boolean;
}
