import fc from 'fast-check';
import { pageHrefs } from './page-hrefs';

/** What page links were built with before: the URL's own searchParams, per link. */
function reference(
  selfHref: string,
  pageParam: string,
  sizeParam: string,
  size: number,
  page: number,
): string {
  const url = new URL(selfHref, 'http://placeholder');
  url.searchParams.set(pageParam, String(page));
  url.searchParams.set(sizeParam, String(size));
  return `${url.pathname}${url.search}`;
}

describe('page hrefs (property)', () => {
  const name = fc.oneof(
    fc.constantFrom('page', 'size', 'p', 'sort', 'page[number]', 'q'),
    fc.string({ maxLength: 6 }),
  );
  const query = fc
    .array(fc.tuple(name, fc.string({ maxLength: 8 })), { maxLength: 6 })
    .map((pairs) =>
      pairs.length === 0
        ? ''
        : `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`,
    );
  // Queries of characters that need no encoding take a path of their own (no `URL`).
  const plainText = fc.string({
    unit: fc.constantFrom(...'aZ09*-._=&'.split('')),
    maxLength: 12,
  });
  const plainQuery = fc
    .array(fc.oneof(fc.constantFrom('page', 'size', 'p'), plainText), {
      maxLength: 6,
    })
    .map((parts) => (parts.length === 0 ? '' : `?${parts.join('&')}`));
  const path = fc.constantFrom(
    '/orders',
    '/a b/ü',
    '/x%2Fy',
    '/',
    '/v1.0/orders',
    '/orders/./x',
    '/a/../b',
    '/a/..',
    '//host/x',
    "/o;k=v/@:!$'()*+,~",
  );

  it('builds the same hrefs as setting both parameters on the URL, for every page', () => {
    fc.assert(
      fc.property(
        path,
        fc.oneof(
          query,
          plainQuery,
          fc.string({ maxLength: 20 }).map((raw) => `?${raw}`),
        ),
        fc
          .tuple(name, name)
          .filter(([pageParam, sizeParam]) => pageParam !== sizeParam),
        fc.oneof(fc.integer({ min: 1, max: 500 }), fc.constant(1e21)),
        fc.array(
          fc.oneof(fc.integer({ min: 1, max: 10_000 }), fc.constant(2e21)),
          {
            minLength: 1,
            maxLength: 5,
          },
        ),
        (pathname, search, [pageParam, sizeParam], size, pages) => {
          const self = `${pathname}${search}`;
          const hrefOf = pageHrefs(self, pageParam, sizeParam, size);
          for (const page of pages)
            expect(hrefOf(page)).toBe(
              reference(self, pageParam, sizeParam, size, page),
            );
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('builds the same hrefs for plain paths and queries (parsed without URL)', () => {
    const plainName = fc.constantFrom('page', 'size', 'p', 'a.b', 'x-y', '*');
    fc.assert(
      fc.property(
        fc.constantFrom('/orders', '/v1.0/orders', '/', '/a/b.', '/a/.b'),
        plainQuery,
        fc
          .tuple(plainName, plainName)
          .filter(([pageParam, sizeParam]) => pageParam !== sizeParam),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 10_000 }),
        (pathname, search, [pageParam, sizeParam], size, page) => {
          const self = `${pathname}${search}`;
          expect(pageHrefs(self, pageParam, sizeParam, size)(page)).toBe(
            reference(self, pageParam, sizeParam, size, page),
          );
        },
      ),
      { numRuns: 1000 },
    );
  });
});
