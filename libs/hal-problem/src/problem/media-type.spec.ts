import { compileMediaTypes, essence } from './media-type';

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
