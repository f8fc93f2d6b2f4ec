import fc from 'fast-check';
import { pageHrefs } from './hal.renderer';

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
  const path = fc.constantFrom('/orders', '/a b/ü', '/x%2Fy', '/');

  it('builds the same hrefs as setting both parameters on the URL, for every page', () => {
    fc.assert(
      fc.property(
        path,
        fc.oneof(
          query,
          fc.string({ maxLength: 20 }).map((raw) => `?${raw}`),
        ),
        fc
          .tuple(name, name)
          .filter(([pageParam, sizeParam]) => pageParam !== sizeParam),
        fc.integer({ min: 1, max: 500 }),
        fc.array(fc.integer({ min: 1, max: 10_000 }), {
          minLength: 1,
          maxLength: 5,
        }),
        (pathname, search, [pageParam, sizeParam], size, pages) => {
          const self = `${pathname}${search}`;
          const hrefOf = pageHrefs(self, pageParam, sizeParam, size);
          for (const page of pages)
            expect(hrefOf(page)).toBe(
              reference(self, pageParam, sizeParam, size, page),
            );
        },
      ),
      { numRuns: 500 },
    );
  });
});
