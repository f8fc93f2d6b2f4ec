import { parseTemplate } from 'url-template';
import { compileUriTemplate } from './uri-template';

/** The compiled fast path must expand exactly as url-template does. */
describe('compileUriTemplate', () => {
  const templates = [
    '/orders/{id}',
    '/orders/{id}/items/{item}',
    '{+base}/x/{id}',
    '/files/{+path}',
    '/plain',
    'https://x.test/{a}{b}',
  ];
  const values = [
    'plain',
    'a/b?c',
    '../admin',
    'x#y&z=1',
    "!*'()",
    'spaces and ünïcödé ✓',
    '%41%zz',
    '[ipv6]:1',
    '',
    '42',
  ];

  it.each(templates)('matches url-template for %s', (template) => {
    const fast = compileUriTemplate(template);
    const reference = parseTemplate(template);
    for (const a of values) {
      for (const b of ['1', 'x/y']) {
        const input = { id: a, item: b, base: a, path: a, a, b };
        expect(fast.expand(input)).toBe(reference.expand(input));
      }
    }
    expect(fast.expand({ id: 7, item: true, a: [1, 2], b: ['x y', 'z'] })).toBe(
      reference.expand({ id: 7, item: true, a: [1, 2], b: ['x y', 'z'] }),
    );
  });

  it('never lets a value add path segments or a query through simple expansion', () => {
    expect(
      compileUriTemplate('/orders/{id}').expand({ id: '../admin?x=1#f' }),
    ).toBe('/orders/..%2Fadmin%3Fx%3D1%23f');
  });

  it('expands a lone surrogate (from a JSON body) as U+FFFD instead of throwing', () => {
    expect(compileUriTemplate('/orders/{id}').expand({ id: 'a\ud800' })).toBe(
      '/orders/a%EF%BF%BD',
    );
    expect(
      compileUriTemplate('/files/{+path}').expand({ path: 'a/\udc00' }),
    ).toBe('/files/a/%EF%BF%BD');
  });

  it('takes a list of no members for undefined (RFC 6570 §2.3)', () => {
    const template = compileUriTemplate('/orders{?tags,page}');
    expect(template.expand({ tags: [], page: 2 })).toBe('/orders?page=2');
    expect(template.expandFrom({ tags: [], page: 2 })).toBe('/orders?page=2');
    expect(template.expand({ tags: ['a', 'b'] })).toBe('/orders?tags=a,b');
  });

  it('falls back to url-template for other operators', () => {
    expect(
      compileUriTemplate('/orders{?page,size}').expand({ page: 2, size: 20 }),
    ).toBe('/orders?page=2&size=20');
    expect(compileUriTemplate('/x{/a}').expand({ a: 'b' })).toBe('/x/b');
  });
});

describe('compileUriTemplate with values url-template cannot take as they are', () => {
  it('encodes a lone surrogate as U+FFFD instead of throwing', () => {
    const template = compileUriTemplate('https://docs.example.com/search{?q}');
    expect(template.expandFrom({ q: '\ud800' })).toBe(
      'https://docs.example.com/search?q=%EF%BF%BD',
    );
    expect(template.expand({ q: 'a\udfffb' })).toBe(
      'https://docs.example.com/search?q=a%EF%BF%BDb',
    );
  });

  it('expands lists of numbers and booleans', () => {
    expect(
      compileUriTemplate('https://x.test/{#ids}').expandFrom({ ids: [1, 2] }),
    ).toBe('https://x.test/#1,2');
    expect(
      compileUriTemplate('/x{?flags*}').expand({ flags: [true, false] }),
    ).toBe('/x?flags=true&flags=false');
  });

  it('percent-encodes a lone `%` in reserved and fragment expansions (RFC 6570 §3.2.3)', () => {
    // url-template leaves a value holding `%` and one hex digit as it is.
    const template = compileUriTemplate('/files/{+path}{?v}{#part}');
    expect(
      template.expandFrom({ path: 'a b/50%e é', v: '1', part: '%41%e' }),
    ).toBe('/files/a%20b/50%25e%20%C3%A9?v=1#%41%25e');
    expect(
      compileUriTemplate('{+a:2,b}').expand({ a: 'é%ex', b: ['%4', 'c'] }),
    ).toBe('%C3%A9%25,%254,c');
  });

  it('leaves a link as its template when a prefix would split a character', () => {
    const template = compileUriTemplate('https://x.test/e/{name:1}');
    expect(template.expandFrom({ name: '\u{1F600}x' })).toBeUndefined();
    expect(template.expandFrom({ name: 'ab' })).toBe('https://x.test/e/a');
  });
});

describe('compileUriTemplate with variables missing', () => {
  it('leaves a missing query variable out, as RFC 6570 expands it', () => {
    const template = compileUriTemplate(
      'https://docs.example.com/find{?q,lang}',
    );
    expect(template.expandFrom({ q: 'x y/z' })).toBe(
      'https://docs.example.com/find?q=x%20y%2Fz',
    );
    expect(template.expandFrom({ q: 'x', lang: null })).toBe(
      'https://docs.example.com/find?q=x',
    );
    expect(template.expandFrom({})).toBe('https://docs.example.com/find');
  });

  it('leaves a link with a missing path variable a template', () => {
    expect(
      compileUriTemplate('/orders/{id}{?format}').expandFrom({ format: 'pdf' }),
    ).toBeUndefined();
    // Named in the path too: not optional.
    expect(
      compileUriTemplate('/x/{id}{?id,q}').expandFrom({ q: 'a' }),
    ).toBeUndefined();
  });
});
