import { HAL_PROBLEM_EXPOSED_HEADERS } from './hal-problem.constants';
import { DEFAULT_REQUEST_ID_HEADER } from './problem/problem.config';

/** Readable by a script on another origin without being exposed (Fetch). */
const SAFELISTED = [
  'cache-control',
  'content-language',
  'content-length',
  'content-type',
  'expires',
  'last-modified',
  'pragma',
];

describe('HAL_PROBLEM_EXPOSED_HEADERS', () => {
  const names = HAL_PROBLEM_EXPOSED_HEADERS.map((name) => name.toLowerCase());

  it('lists the contract headers a browser hides, the default request id first', () => {
    expect(HAL_PROBLEM_EXPOSED_HEADERS[0]).toBe(DEFAULT_REQUEST_ID_HEADER);
    expect(names).toEqual(
      expect.arrayContaining([
        'x-request-id',
        'location',
        'idempotent-replayed',
        'ratelimit',
        'ratelimit-policy',
        'retry-after',
        'www-authenticate',
        'allow',
      ]),
    );
  });

  it('names each header once, as a token, and none a browser shows anyway', () => {
    expect(new Set(names).size).toBe(names.length);
    for (const name of HAL_PROBLEM_EXPOSED_HEADERS)
      expect(name).toMatch(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/);
    expect(names.filter((name) => SAFELISTED.includes(name))).toEqual([]);
  });

  it('cannot be changed by one app for another', () => {
    expect(Object.isFrozen(HAL_PROBLEM_EXPOSED_HEADERS)).toBe(true);
    expect(() =>
      (HAL_PROBLEM_EXPOSED_HEADERS as string[]).push('X-Other'),
    ).toThrow(TypeError);
  });
});
