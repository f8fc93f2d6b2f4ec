import { ADAPTERS, startSample, type RunningApp } from './support/adapters';
import { expectProblem } from './support/problem-assertions';
import { authorized, tokenFor } from './support/sample-client';

const LIMIT = 4096;

describe.each(ADAPTERS)(
  'hostile request bodies against the sample on %s',
  (adapter) => {
    let running: RunningApp;
    let api: ReturnType<typeof authorized>;
    const post = (body: string | Uint8Array, contentType?: string) =>
      api('/orders', {
        method: 'POST',
        body,
        headers: contentType ? { 'content-type': contentType } : {},
      });

    beforeAll(async () => {
      running = await startSample(adapter, {
        BODY_LIMIT: `${LIMIT}b`,
        THROTTLE_LIMIT: '100000',
      });
      api = authorized(running.baseUrl, await tokenFor(running.baseUrl));
    });
    afterAll(() => running.close());

    /** A valid order padded with a note to exactly `size` bytes of JSON. */
    const orderOfSize = (size: number) => {
      const base = {
        items: [{ sku: 'a', quantity: 1, unitPrice: 1 }],
        currency: 'EUR',
        note: '',
      };
      const note = 'n'.repeat(size - Buffer.byteLength(JSON.stringify(base)));
      return JSON.stringify({ ...base, note });
    };

    it('takes a body just under the limit and refuses one just over it with 413', async () => {
      const under = orderOfSize(LIMIT);
      expect(Buffer.byteLength(under)).toBe(LIMIT);
      // The note is over 500 characters: a validation problem, not a size problem.
      const accepted = await post(under, 'application/json');
      expect(accepted.status).toBe(400);
      expect((await accepted.json()) as Record<string, unknown>).toMatchObject({
        detail: 'Request failed validation',
      });
      const over = await post(orderOfSize(LIMIT + 1), 'application/json');
      expect((await expectProblem(over, 413)).limit).toBe(LIMIT);
    });

    it('answers a huge number of keys with one bounded 400', async () => {
      const keys = Object.fromEntries(
        Array.from({ length: 300 }, (_, i) => [`k${i}`, i]),
      );
      const body = await expectProblem(
        await post(JSON.stringify(keys), 'application/json'),
        400,
      );
      expect((body.errors as unknown[]).length).toBe(100);
      expect(body.errorsOmitted).toBeGreaterThanOrEqual(200);
    });

    it.each([
      ['__proto__', '{"__proto__":{"polluted":1},"items":[],"currency":"EUR"}'],
      [
        'constructor.prototype',
        '{"constructor":{"prototype":{"polluted":1}},"items":[],"currency":"EUR"}',
      ],
    ])('refuses %s keys and pollutes nothing', async (_name, json) => {
      await expectProblem(await post(json, 'application/json'), 400);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(
        (Object.prototype as Record<string, unknown>).polluted,
      ).toBeUndefined();
    });

    it.each([
      ['no content type', undefined],
      ['text/plain', 'text/plain'],
      ['application/xml', 'application/xml'],
      ['a malformed content type', 'json'],
    ])('answers a body with %s with 415', async (_name, contentType) => {
      await expectProblem(
        await post('{"items":[],"currency":"EUR"}', contentType),
        415,
      );
    });

    it.each([
      ['truncated JSON', '{"items":[{"sku":'],
      ['trailing garbage', '{"items":[],"currency":"EUR"} x'],
      [
        'invalid UTF-8',
        Buffer.from([
          0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d,
        ]),
      ],
      [
        'nesting 2000 deep (within the size limit)',
        '['.repeat(2000) + ']'.repeat(2000),
      ],
    ])(
      'answers %s with 400 and nothing of the body echoed',
      async (_name, body) => {
        const response = await post(body, 'application/json');
        const text = await response.clone().text();
        await expectProblem(response, 400);
        expect(text).not.toMatch(
          /sku|garbage|Unexpected token|JSON at position/,
        );
      },
    );

    it('still serves after all of it', async () => {
      expect((await api('/orders?size=1')).status).toBe(200);
    });
  },
);

describe.each(ADAPTERS)('a body with thousands of keys on %s', (adapter) => {
  it('answers 8000 unknown keys under the default 100 kB limit with one bounded 400, and goes on serving', async () => {
    const running = await startSample(adapter, { THROTTLE_LIMIT: '100000' });
    try {
      const api = authorized(running.baseUrl, await tokenFor(running.baseUrl));
      const keys = Object.fromEntries(
        Array.from({ length: 8000 }, (_, i) => [`k${i}`, i]),
      );
      const response = await api('/orders', {
        method: 'POST',
        body: JSON.stringify(keys),
        headers: { 'content-type': 'application/json' },
      });
      const body = await expectProblem(response, 400);
      // Bounded: 100 listed, the rest counted.
      expect((body.errors as unknown[]).length).toBe(100);
      expect(body.errorsOmitted).toBeGreaterThanOrEqual(7900);
      expect((await api('/orders?size=1')).status).toBe(200);
    } finally {
      await running.close();
    }
  });

  it('answers an order of 33,000 empty items, 100 kB, with the one error of their number', async () => {
    // Each item was transformed and validated (99,000 errors, 0.7 to 1.9 s
    // of CPU per request) though the array is refused for its length.
    const running = await startSample(adapter, { THROTTLE_LIMIT: '100000' });
    try {
      const api = authorized(running.baseUrl, await tokenFor(running.baseUrl));
      const response = await api('/orders', {
        method: 'POST',
        body: `{"currency":"XXX","items":[${'{},'.repeat(33_000)}{}]}`,
        headers: { 'content-type': 'application/json' },
      });
      const body = await expectProblem(response, 400);
      expect(body.errors).toEqual([
        expect.objectContaining({ title: 'too_big', pointer: '#/items' }),
      ]);
      expect(body.errorsOmitted).toBeUndefined();
    } finally {
      await running.close();
    }
  });
});
