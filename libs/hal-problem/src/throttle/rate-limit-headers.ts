import { MAX_SF_INTEGER } from '../problem/http-status';

/** One named policy's state after this request. */
export interface RateLimitState {
  readonly name: string;
  readonly limit: number;
  /** The window in milliseconds. */
  readonly windowMs: number;
  readonly remaining: number;
  /** Seconds until the window resets. */
  readonly resetSeconds: number;
}

/** Printable ASCII: what an sf-string can carry (RFC 9651 §3.3.3). */
const SF_STRING_CHARACTERS = /^[\x20-\x7E]*$/;

/**
 * Why a throttler's name cannot name a policy in these fields, or
 * undefined when it can. Checked when the guard starts: a name such as
 * `café` would make every client ignore the fields, and one with a
 * character outside Latin-1 would make every throttled response fail to
 * send at all.
 */
export function invalidPolicyName(name: string): string | undefined {
  return SF_STRING_CHARACTERS.test(name)
    ? undefined
    : `the throttler name "${name}" must be printable ASCII to name a RateLimit policy (RFC 9651 sf-string)`;
}

function policyName(name: string): string {
  return `"${name.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
}

/** A count or a number of seconds as an sf-integer: whole, non-negative, at most 15 digits. */
function sfInteger(value: number): number {
  if (Number.isNaN(value)) return 0;
  return Math.min(Math.max(Math.floor(value), 0), MAX_SF_INTEGER);
}

/**
 * `RateLimit-Policy` and `RateLimit` in the structured-field syntax of
 * draft-ietf-httpapi-ratelimit-headers: one list item per named policy,
 * `q` the quota and `w` the window in seconds; `r` the remaining quota and
 * `t` the seconds until it resets.
 */
export function rateLimitHeaders(states: readonly RateLimitState[]): {
  policy: string;
  limit: string;
} {
  return {
    policy: states
      .map(
        (state) =>
          `${policyName(state.name)};q=${sfInteger(state.limit)};w=${Math.max(1, sfInteger(Math.ceil(state.windowMs / 1000)))}`,
      )
      .join(', '),
    limit: states
      .map(
        (state) =>
          `${policyName(state.name)};r=${sfInteger(state.remaining)};t=${sfInteger(Math.ceil(state.resetSeconds))}`,
      )
      .join(', '),
  };
}
