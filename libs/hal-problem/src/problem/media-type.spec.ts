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
