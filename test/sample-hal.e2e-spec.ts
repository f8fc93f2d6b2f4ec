import { bearerAuth, Ketting } from 'ketting';
import { ADAPTERS, startSample, type RunningApp } from './support/adapters';
import { authorized, tokenFor } from './support/sample-client';

type Json = Record<string, any>;
const order = {
  items: [{ sku: 'sku-1', quantity: 1, unitPrice: 10 }],
  currency: 'EUR',
};

describe.each(ADAPTERS)('sample app HAL on %s', (adapter) => {
  let running: RunningApp;
  let api: ReturnType<typeof authorized>;
  const json = async (response: Response) => (await response.json()) as Json;
  const create = () =>
    api('/orders', {
      method: 'POST',
      body: JSON.stringify(order),
      headers: { 'content-type': 'application/json' },
    });

  beforeAll(async () => {
    running = await startSample(adapter, { REPORT_DELAY_MS: '50' });
    api = authorized(running.baseUrl, await tokenFor(running.baseUrl));
  });
  afterAll(() => running.close());

  it('serves the API root with the contract links', async () => {
    const response = await api('/');
    expect(response.headers.get('content-type')).toMatch(
      /^application\/hal\+json/,
    );
    const body = await json(response);
    expect(Object.keys(body._links).sort()).toEqual([
      'docs',
      'order',
      'orders',
      'reports',
      'self',
      'token',
    ]);
    expect(body._links.orders).toMatchObject({
      href: '/orders{?page,size,status}',
      templated: true,
    });
    expect(body._links.order).toMatchObject({
      href: '/orders/{id}',
      templated: true,
    });
    expect(body._links.self.href).toBe('/');
  });

  it('tags no body with an ETag, a problem neither, as on both platforms', async () => {
    const found = await api('/');
    const missing = await api('/orders/no-such-order');
    expect(missing.status).toBe(404);
    expect(found.headers.get('etag')).toBeNull();
    expect(missing.headers.get('etag')).toBeNull();
  });

  it('labels every successful body application/hal+json, also for a client that asks for application/json', async () => {
    for (const accept of [
      'application/json',
      'application/hal+json;q=0, */*',
    ]) {
      const response = await api('/orders', { headers: { accept } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(
        /^application\/hal\+json/,
      );
      expect((await json(response))._links.self).toBeDefined();
    }
  });

  it('creates an order: 201, Location = self, cancel and ship while open', async () => {
    const response = await create();
    const body = await json(response);
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe(`/orders/${body.id}`);
    expect(body._links).toMatchObject({
      self: { href: `/orders/${body.id}` },
      collection: { href: '/orders' },
      cancel: { href: `/orders/${body.id}/cancel` },
      ship: { href: `/orders/${body.id}/ship` },
    });
    // Which actions show depends on the token's scopes: caches must know.
    // (Not on Accept: every body is application/hal+json, hal.plainJson: false.)
    expect(response.headers.get('vary')).toBe('Authorization');
    const cancelledResponse = await api(body._links.cancel.href, {
      method: 'POST',
    });
    const cancelled = await json(cancelledResponse);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled._links.cancel).toBeUndefined();
    expect(cancelled._links.ship).toBeUndefined();
    // A closed order shows the same links to every client.
    expect(cancelledResponse.headers.get('vary')).toBeNull();
  });

  it('pages orders with embedded resources that carry their own links', async () => {
    await create();
    await create();
    const body = await json(await api('/orders?size=1&status=open'));
    expect(body.page).toMatchObject({ number: 1, size: 1 });
    expect(body.page.totalElements).toBeGreaterThanOrEqual(2);
    expect(body._links.next.href).toBe('/orders?size=1&status=open&page=2');
    expect(body._embedded.orders).toHaveLength(1);
    expect(body._embedded.orders[0]._links.self.href).toMatch(
      /^\/orders\/[0-9a-f-]{36}$/,
    );
    const none = await json(await api('/orders?status=shipped&size=5'));
    expect(none._embedded.orders).toEqual([]);
  });

  it('deletes with 204 and no body', async () => {
    const created = await json(await create());
    const response = await api(`/orders/${created.id}`, {
      method: 'DELETE',
    });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    expect((await api(`/orders/${created.id}`)).status).toBe(404);
  });

  it('runs a report as a 202 operation with a status monitor and a result link', async () => {
    const accepted = await api('/reports', { method: 'POST' });
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('retry-after')).toBe('1');
    const operation = await json(accepted);
    const monitor = accepted.headers.get('location');
    expect(monitor).toBe(`/reports/${operation.id}`);
    expect(operation).toMatchObject({
      status: 'pending',
      _links: { self: { href: monitor } },
    });
    expect(operation._links.result).toBeUndefined();

    let state: Json = operation;
    let response: Response | undefined;
    for (let i = 0; i < 100 && state.status !== 'done'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      response = await api(monitor!);
      state = await json(response);
    }
    expect(state.status).toBe('done');
    expect(response!.headers.get('retry-after')).toBeNull();
    expect(state._links.result.href).toBe(`/reports/${operation.id}/result`);
    const report = await json(await api(state._links.result.href));
    expect(report).toMatchObject({
      id: operation.id,
      _links: { self: { href: state._links.result.href } },
    });
    expect(report.orderCount).toEqual(expect.any(Number));
  });

  it('can be walked by a HAL client written elsewhere (ketting), from / to an order', async () => {
    const created = await json(await create());
    const client = new Ketting(running.baseUrl);
    client.use(bearerAuth(await tokenFor(running.baseUrl)));
    const root = client.go('/');
    const byTemplate = await (
      await root.follow('order', { id: created.id })
    ).get();
    expect(byTemplate.data).toMatchObject({ id: created.id, status: 'open' });
    const page = await root.follow('orders', { size: 50, status: 'open' });
    const orders = await page.followAll('orders');
    expect(orders.length).toBeGreaterThan(0);
    const first = await orders[0].get();
    expect(first.data.status).toBe('open');
    expect(first.links.has('cancel')).toBe(true);
  });
});
