import fc from 'fast-check';
import { parseTemplate } from 'url-template';
import { compileUriTemplate } from './uri-template';

describe('route template expansion (property)', () => {
  const template = compileUriTemplate('/orders/{id}/items/{item}');

  it('never lets a value add a segment, a query or a fragment, and round-trips', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string(), (id, item) => {
        const href = template.expand({ id, item });
        const match = /^\/orders\/([^/?#]*)\/items\/([^/?#]*)$/.exec(href);
        expect(match).not.toBeNull();
        expect(href).toMatch(/^[A-Za-z0-9\-._~%/]*$/);
        // Lone surrogates cannot be encoded in UTF-8; every other value comes back intact.
        if (!/[\uD800-\uDFFF]/.test(id))
          expect(decodeURIComponent(match![1])).toBe(id);
        expect(href).toBe(
          parseTemplate('/orders/{id}/items/{item}').expand({ id, item }),
        );
      }),
      { numRuns: 1000 },
    );
  });
});
