import { rateLimitHeaders } from './rate-limit-headers';

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
