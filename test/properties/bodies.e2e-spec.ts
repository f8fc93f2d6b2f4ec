import fc from 'fast-check';
import { ADAPTERS, startSample, type RunningApp } from '../support/adapters';
import { validateProblem } from '../support/problem-schema';
import { authorized, tokenFor } from '../support/sample-client';

const item = fc.record(
  {
    sku: fc.oneof(
      fc.string({ maxLength: 70 }),
      fc.integer(),
      fc.constant(null),
    ),
    quantity: fc.oneof(
      fc.integer({ min: -5, max: 2_000_000 }),
      fc.double(),
      fc.string({ maxLength: 4 }),
    ),
    unitPrice: fc.oneof(
      fc.double({ min: -10, max: 1e10, noNaN: true }),
      fc.string({ maxLength: 4 }),
      fc.constant(null),
    ),
  },
  { requiredKeys: [] },
);
const orderLike = fc.record(
  {
    items: fc.oneof(
      fc.array(item, { maxLength: 55 }),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    currency: fc.oneof(
      fc.constantFrom('EUR', 'USD', 'GBP', 'CHF'),
      fc.jsonValue({ maxDepth: 1 }),
    ),
    note: fc.oneof(fc.string({ maxLength: 600 }), fc.integer()),
    extra: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(orderLike, fc.jsonValue({ maxDepth: 4 }));

describe.each(ADAPTERS)(
  'arbitrary JSON bodies against POST /orders on %s',
  (adapter) => {
    let running: RunningApp;
    let api: ReturnType<typeof authorized>;
    beforeAll(async () => {
      running = await startSample(adapter, { THROTTLE_LIMIT: '100000' });
      api = authorized(running.baseUrl, await tokenFor(running.baseUrl));
    });
    afterAll(() => running.close());

    it('answers 201 HAL, a 400 problem with well-formed errors, or the 422 business rule; never a 5xx', async () => {
      await fc.assert(
        fc.asyncProperty(body, async (value) => {
          const response = await api('/orders', {
            method: 'POST',
            body: JSON.stringify(value),
            headers: { 'content-type': 'application/json' },
          });
          const parsed = (await response.json()) as Record<string, any>;
          expect([201, 400, 422]).toContain(response.status);
          if (response.status === 201) {
            expect(response.headers.get('content-type')).toMatch(
              /^application\/hal\+json/,
            );
            expect(parsed._links.self.href).toBe(`/orders/${parsed.id}`);
            return;
          }
          expect(validateProblem(parsed) ? [] : validateProblem.errors).toEqual(
            [],
          );
          if (response.status === 400 && parsed.errors === undefined) {
            // JSON that is not an object or array: refused by the parser itself (strict JSON bodies).
            expect(parsed.detail).toBe(
              'The request body is malformed and could not be parsed.',
            );
          } else if (response.status === 400) {
            expect(parsed.errors.length).toBeGreaterThan(0);
            for (const error of parsed.errors)
              expect(error.pointer).toMatch(/^#(\/[^/]*)*$/);
          }
        }),
        { numRuns: 150 },
      );
    });
  },
);
