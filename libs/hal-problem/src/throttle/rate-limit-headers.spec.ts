import { invalidPolicyName, rateLimitHeaders } from './rate-limit-headers';

describe('rateLimitHeaders', () => {
  it('writes one structured-field item per policy', () => {
    expect(
      rateLimitHeaders([
        {
          name: 'default',
          limit: 100,
          windowMs: 60_000,
          remaining: 42,
          resetSeconds: 17,
        },
        {
          name: 'burst',
          limit: 10,
          windowMs: 1_500,
          remaining: -1,
          resetSeconds: 1,
        },
      ]),
    ).toEqual({
      policy: '"default";q=100;w=60, "burst";q=10;w=2',
      limit: '"default";r=42;t=17, "burst";r=0;t=1',
    });
  });

  it('escapes policy names', () => {
    expect(
      rateLimitHeaders([
        {
          name: 'a"b',
          limit: 1,
          windowMs: 1000,
          remaining: 0,
          resetSeconds: 0,
        },
      ]).policy,
    ).toBe('"a\\"b";q=1;w=1');
  });
});

describe('rateLimitHeaders with numbers an sf-integer cannot hold', () => {
  it('writes whole numbers of at most 15 digits', () => {
    const state = (limit: number, remaining: number) => ({
      name: 'p',
      limit,
      windowMs: 1_000,
      remaining,
      resetSeconds: 0.4,
    });
    expect(rateLimitHeaders([state(2.5, 1.5)])).toEqual({
      policy: '"p";q=2;w=1',
      limit: '"p";r=1;t=1',
    });
    expect(rateLimitHeaders([state(Infinity, Infinity)]).policy).toBe(
      '"p";q=999999999999999;w=1',
    );
    expect(rateLimitHeaders([state(Number.MAX_SAFE_INTEGER, NaN)]).limit).toBe(
      '"p";r=0;t=1',
    );
  });
});

describe('invalidPolicyName', () => {
  it('takes printable ASCII only', () => {
    expect(invalidPolicyName('burst-1 "x"')).toBeUndefined();
    expect(invalidPolicyName('café')).toMatch(/printable ASCII/);
    expect(invalidPolicyName('a—b')).toMatch(/printable ASCII/);
    expect(invalidPolicyName('a\tb')).toMatch(/printable ASCII/);
  });
});
