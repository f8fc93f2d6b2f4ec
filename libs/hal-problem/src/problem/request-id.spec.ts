import { ensureRequestId, isWellFormedRequestId } from './request-id';

describe('request id', () => {
  it.each([
    'abc',
    'a-b_c.d:e',
    '0f8fad5b-d9cb-469f-a165-70867728950e',
    'x'.repeat(128),
  ])('accepts %s', (id) => {
    expect(isWellFormedRequestId(id)).toBe(true);
  });

  it.each(['', ' a', 'a b', 'a\nb', 'x'.repeat(129), '<script>', '-leading'])(
    'refuses %j',
    (id) => {
      expect(isWellFormedRequestId(id)).toBe(false);
    },
  );

  it('keeps a well-formed id and fixes a new one on the request otherwise', () => {
    const kept = { headers: { 'x-request-id': 'abc' } };
    expect(ensureRequestId(kept, 'x-request-id')).toBe('abc');
    const replaced: { headers: Record<string, string | string[] | undefined> } =
      { headers: { 'x-request-id': ['a', 'b'] } };
    const id = ensureRequestId(replaced, 'x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(ensureRequestId(replaced, 'x-request-id')).toBe(id);
  });
});
