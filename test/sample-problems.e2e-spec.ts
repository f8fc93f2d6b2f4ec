import { ADAPTERS, startSample, type RunningApp } from './support/adapters';
import { authorized, tokenFor } from './support/sample-client';
import { expectProblem } from './support/problem-assertions';

const validOrder = {
  items: [{ sku: 'sku-1', quantity: 2, unitPrice: 9.99 }],
  currency: 'EUR',
};

describe.each(ADAPTERS)('sample app problems on %s', (adapter) => {
  let running: RunningApp;
  let api: ReturnType<typeof authorized>;
  const postJson = (path: string, body: unknown) =>
    api(path, {
      method: 'POST',
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });

  beforeAll(async () => {
    running = await startSample(adapter, { BODY_LIMIT: '2kb' });
    api = authorized(running.baseUrl, await tokenFor(running.baseUrl));
  });
  afterAll(() => running.close());

  it('creates a valid order', async () => {
    const response = await postJson('/orders', validOrder);
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({
      status: 'open',
      total: 19.98,
      currency: 'EUR',
    });
  });

  it('lists every validation failure of an empty order', async () => {
    const body = await expectProblem(await postJson('/orders', {}), 400);
    expect(body).toMatchObject({
      title: 'Bad Request',
      detail: 'Request failed validation',
    });
    expect(body.errors).toEqual([
      {
        title: 'invalid_type',
        detail: '`body.items` is `undefined`, but `array` is expected.',
        pointer: '#/items',
      },
      expect.objectContaining({
        title: 'invalid_value',
        pointer: '#/currency',
      }),
    ]);
  });

  it('rejects unknown properties and bad items', async () => {
    const body = await expectProblem(
      await postJson('/orders', {
        ...validOrder,
        items: [{ sku: 'a', quantity: 0, unitPrice: -1 }],
        admin: true,
      }),
      400,
    );
    expect(body.errors).toEqual(
      expect.arrayContaining([
        {
          title: 'unrecognized_key',
          detail: '`body.admin` is not allowed.',
          pointer: '#/admin',
        },
        {
          title: 'too_small',
          detail: '`body.items.0.quantity` must not be less than 1.',
          pointer: '#/items/0/quantity',
        },
        {
          title: 'too_small',
          detail: '`body.items.0.unitPrice` must not be less than 0.',
          pointer: '#/items/0/unitPrice',
        },
      ]),
    );
  });

  it('holds an order to the contract: no bounds it does not state, no null note', async () => {
    const free = await postJson('/orders', {
      items: [{ sku: 'x'.repeat(200), quantity: 2_000_000, unitPrice: 0 }],
      currency: 'EUR',
    });
    expect(free.status).toBe(201);
    expect(await free.json()).toMatchObject({ total: 0 });
    const body = await expectProblem(
      await postJson('/orders', { ...validOrder, note: null }),
      400,
    );
    expect(body.errors).toEqual([
      {
        title: 'invalid_type',
        detail: '`body.note` is `null`, but `string` is expected.',
        pointer: '#/note',
      },
    ]);
    // A total past any number still answers as the business rule says.
    const huge = await expectProblem(
      await postJson('/orders', {
        items: [{ sku: 'a', quantity: 10, unitPrice: 1e308 }],
        currency: 'EUR',
      }),
      422,
    );
    expect(huge).toMatchObject({ limit: 10000, currency: 'EUR' });
    expect(huge).not.toHaveProperty('total');
  });

  it('answers a total above 10000 with a 422 business problem', async () => {
    const body = await expectProblem(
      await postJson('/orders', {
        items: [{ sku: 'big', quantity: 2, unitPrice: 5000.01 }],
        currency: 'USD',
      }),
      422,
    );
    expect(body).toMatchObject({
      type: 'urn:problem-type:order-total-too-high',
      title: 'Order total exceeds the limit',
      total: 10000.02,
      limit: 10000,
    });
  });

  it('answers cancelling a cancelled order with 409', async () => {
    const order = (await (await postJson('/orders', validOrder)).json()) as {
      id: string;
    };
    expect(
      (await api(`/orders/${order.id}/cancel`, { method: 'POST' })).status,
    ).toBe(200);
    const body = await expectProblem(
      await api(`/orders/${order.id}/ship`, { method: 'POST' }),
      409,
    );
    expect(body).toMatchObject({
      type: 'urn:problem-type:order-not-open',
      orderStatus: 'cancelled',
    });
  });

  it('answers an unknown order with 404', async () => {
    const body = await expectProblem(await api('/orders/does-not-exist'), 404);
    expect(body).toMatchObject({
      type: 'urn:problem-type:order-not-found',
      instance: '/orders/does-not-exist',
    });
  });

  it('answers PATCH with 501', async () => {
    await expectProblem(await api('/orders/x', { method: 'PATCH' }), 501);
  });

  it('answers a wrong method with 405 and Allow', async () => {
    const response = await api('/orders', { method: 'PUT' });
    expect(response.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS');
    await expectProblem(response, 405);
  });

  it('matches paths the same way on both adapters: exactly', async () => {
    // Express alone would serve these as /orders and /health.
    for (const path of ['/Orders', '/orders/', '/HEALTH', '/health/'])
      await expectProblem(await api(path), 404);
    await expectProblem(await api('/orders/', { method: 'PUT' }), 404);
  });

  it('answers a wrong method on the API docs with 405 too', async () => {
    // Swagger's routes are mounted outside Nest, and declared to the module.
    for (const path of ['/docs', '/docs-json', '/docs/swagger-ui.css']) {
      const response = await api(path, { method: 'POST' });
      expect(response.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
      await expectProblem(response, 405);
    }
  });

  it('validates paging parameters', async () => {
    const body = await expectProblem(await api('/orders?size=101&page=0'), 400);
    expect(body.errors).toEqual(
      expect.arrayContaining([
        {
          title: 'too_big',
          detail: '`query.size` must not be greater than 100.',
          parameter: 'size',
        },
        {
          title: 'too_small',
          detail: '`query.page` must not be less than 1.',
          parameter: 'page',
        },
      ]),
    );
  });

  it.each([
    'page=0x2',
    'size=1e1',
    'page=%202',
    'page=99999999999999999999',
    'page=1&page=2',
  ])(
    'answers paging written other than as a plain decimal (%s) with 400',
    async (query) => {
      await expectProblem(await api(`/orders?${query}`), 400);
    },
  );

  it('answers a path that is not valid percent-encoding with a 400 problem', async () => {
    const body = await expectProblem(await api('/orders/%E0%A4%A'), 400);
    expect(body.detail).toBe('The request URI is malformed.');
  });

  it('answers a body over BODY_LIMIT with 413 and the limit', async () => {
    const body = await expectProblem(
      await postJson('/orders', { ...validOrder, note: 'x'.repeat(4096) }),
      413,
    );
    expect(body.limit).toBe(2048);
  });

  it('answers malformed JSON with 400 and another media type with 415', async () => {
    await expectProblem(await postJson('/orders', '{"items":'), 400);
    const response = await api('/orders', {
      method: 'POST',
      body: '<order/>',
      headers: { 'content-type': 'application/xml' },
    });
    await expectProblem(response, 415);
  });

  it('takes an order as JSON only, +json types included', async () => {
    const order = JSON.stringify({
      items: [{ sku: 'a', quantity: 1, unitPrice: 1 }],
      currency: 'EUR',
    });
    // A form or multipart body is not dropped into a validation 400.
    for (const [body, type] of [
      ['currency=EUR', 'application/x-www-form-urlencoded'],
      ['--b\r\n\r\n--b--\r\n', 'multipart/form-data; boundary=b'],
      [order, 'text/plain'],
    ]) {
      const response = await api('/orders', {
        method: 'POST',
        body,
        headers: { 'content-type': type },
      });
      await expectProblem(response, 415);
    }
    const hal = await api('/orders', {
      method: 'POST',
      body: order,
      headers: { 'content-type': 'application/hal+json' },
    });
    expect(hal.status).toBe(201);
  });
});

describe.each(ADAPTERS)('sample app in maintenance on %s', (adapter) => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startSample(adapter, { MAINTENANCE_MODE: 'true' });
  });
  afterAll(() => running.close());

  it('answers every route but /health with 503 and Retry-After', async () => {
    // Maintenance answers before authentication: no token is needed to learn it.
    for (const path of [
      '/orders',
      '/orders/1',
      '/nowhere',
      '/oauth/token',
      '/docs',
      '/docs-json',
    ]) {
      const response = await fetch(`${running.baseUrl}${path}`);
      expect(response.headers.get('retry-after')).toBe('300');
      await expectProblem(response, 503);
    }
    expect((await fetch(`${running.baseUrl}/health`)).status).toBe(200);
  });
});
