import { compileMediaTypes, essence, withoutQuotedText } from './media-type';

describe('media types', () => {
  const matches = compileMediaTypes([
    'application/json',
    'application/*+json',
    'text/*',
  ]);

  it.each([
    ['application/json', true],
    ['application/problem+json', true],
    ['application/hal+json', true],
    ['text/plain', true],
    ['application/xml', false],
    ['application/jsonx', false],
    ['application/vnd.a+json', true],
    ['application/1+json', true],
    // A subtype name starts with a letter or digit (RFC 6838 §4.2).
    ['application/+json', false],
    ['application/-x+json', false],
    ['', false],
  ])('%s → %s', (type, expected) => {
    expect(matches(type)).toBe(expected);
  });

  it('accepts everything with */*', () => {
    expect(compileMediaTypes(['*/*'])('image/png')).toBe(true);
  });

  it('reduces a Content-Type to its essence', () => {
    expect(essence('Application/JSON; charset=UTF-8')).toBe('application/json');
  });
});

describe('withoutQuotedText', () => {
  it.each([
    ['a/b;p="x, c/d;q=0", e/f', 'a/b;p="", e/f'],
    ['a/b;p="x\\"y;q=0;", e/f', 'a/b;p="", e/f'],
    ['a/b;p="x\\\\", e/f;q="1"', 'a/b;p="", e/f;q=""'],
    ['no quotes, at all', 'no quotes, at all'],
    // Never closed: the rest is inside it.
    ['a/b, c/d;p="x, e/f', 'a/b, c/d;p=""'],
  ])('%s -> %s', (value, expected) => {
    expect(withoutQuotedText(value)).toBe(expected);
  });

  it('empties an unclosed quote full of escapes, 16 kB as a header may be', () => {
    const value = `a/b;p="${'\\"'.repeat(8000)}`;
    expect(withoutQuotedText(value)).toBe('a/b;p=""');
  });
});
