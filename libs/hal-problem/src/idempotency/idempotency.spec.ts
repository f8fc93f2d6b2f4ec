import { canonicalJson, fingerprintOf } from './canonical-json';
import { parseIdempotencyKey } from './idempotency-key';
import { InMemoryIdempotencyStore } from './in-memory-idempotency.store';

describe('canonicalJson', () => {
  it('sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,1]},"b":1}',
    );
    expect(fingerprintOf({ x: 1, y: 2 })).toBe(fingerprintOf({ y: 2, x: 1 }));
    expect(fingerprintOf({ x: 1 })).not.toBe(fingerprintOf({ x: '1' }));
    expect(fingerprintOf([1, 2])).not.toBe(fingerprintOf([2, 1]));
  });

  it('writes a body nested deeper than the call stack', () => {
    // Platforms' own parsers set no depth limit: 20,000 levels fit in 40 kB.
    let deep: unknown = [{ b: 1, a: 2 }];
    for (let i = 0; i < 20_000; i++) deep = i % 2 ? [deep] : { k: deep };
    const text = canonicalJson(deep);
    const expected = `${'[{"k":'.repeat(10_000)}[{"a":2,"b":1}]${'}]'.repeat(10_000)}`;
    // Compared as a boolean: a mismatch would print 100 kB twice.
    expect(text.length).toBe(expected.length);
    expect(text === expected).toBe(true);
  });

  it('drops undefined members as JSON does', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson(undefined)).toBe('null');
  });
});

describe('parseIdempotencyKey', () => {
  it.each([
    [
      '"8e03978e-40d5-43e8-bc93-6894a57f9324"',
      '8e03978e-40d5-43e8-bc93-6894a57f9324',
    ],
    ['"with \\"quote\\" and space"', 'with "quote" and space'],
    ['bare-token_1.2', 'bare-token_1.2'],
    ['  "trimmed"  ', 'trimmed'],
  ])('accepts %s', (header, key) => {
    expect(parseIdempotencyKey(header, 255)).toBe(key);
  });

  it.each([
    '',
    '""',
    '"open',
    'two words',
    '"tab\there"',
    '"é"',
    `"${'k'.repeat(256)}"`,
  ])('refuses %j', (header) => {
    expect(parseIdempotencyKey(header, 255)).toBeUndefined();
  });
});

describe('InMemoryIdempotencyStore', () => {
  it('locks once, replays what was completed, and forgets what was released or expired', async () => {
    const store = new InMemoryIdempotencyStore();
    expect(await store.acquire('k', 'f', 1000)).toBeUndefined();
    expect(await store.acquire('k', 'f', 1000)).toEqual({
      fingerprint: 'f',
      state: 'in-flight',
    });
    const record = {
      fingerprint: 'f',
      state: 'completed' as const,
      response: { status: 201, headers: {}, body: '{}' },
    };
    await store.complete('k', record, 20);
    expect(await store.acquire('k', 'f', 1000)).toEqual(record);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(await store.acquire('k', 'f', 1000)).toBeUndefined();
    await store.release('k');
    expect(await store.acquire('k', 'g', 1000)).toBeUndefined();
  });
});
