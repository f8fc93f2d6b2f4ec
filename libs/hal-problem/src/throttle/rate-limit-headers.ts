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

function policyName(name: string): string {
  return `"${name.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
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
          `${policyName(state.name)};q=${state.limit};w=${Math.max(1, Math.ceil(state.windowMs / 1000))}`,
      )
      .join(', '),
    limit: states
      .map(
        (state) =>
          `${policyName(state.name)};r=${Math.max(0, state.remaining)};t=${Math.max(0, state.resetSeconds)}`,
      )
      .join(', '),
  };
}
