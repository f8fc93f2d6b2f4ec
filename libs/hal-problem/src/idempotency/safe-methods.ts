import { RequestMethod } from '@nestjs/common';

/**
 * Safe methods (RFC 9110 §9.2.1; WebDAV's SEARCH and PROPFIND, QUERY): they
 * change nothing, so there is nothing to repeat, and a replay would serve a
 * stored, stale representation. `@Idempotent()` never covers them.
 */
export const SAFE_METHODS: ReadonlySet<RequestMethod> = new Set([
  RequestMethod.GET,
  RequestMethod.HEAD,
  RequestMethod.OPTIONS,
  RequestMethod.SEARCH,
  RequestMethod.PROPFIND,
  RequestMethod.QUERY,
]);

/** The same, by name (`GET`), as the route table lists methods. */
export const SAFE_METHOD_NAMES: ReadonlySet<string> = new Set(
  [...SAFE_METHODS].map((method) => RequestMethod[method]),
);
