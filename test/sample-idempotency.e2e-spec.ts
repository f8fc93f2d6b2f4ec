import { ADAPTERS, startSample, type RunningApp } from './support/adapters';
import { expectProblem } from './support/problem-assertions';
import { describeWithRedis, OwnRedisServer } from './support/redis';
import { authorized, tokenFor } from './support/sample-client';

type Json = Record<string, any>;
const order = {
  currency: 'EUR',
  items: [{ sku: 'i-1', quantity: 2, unitPrice: 3.5 }],
};
const reordered = {
  items: [{ unitPrice: 3.5, quantity: 2, sku: 'i-1' }],
  currency: 'EUR',
};
let seq = 0;
const newKey = () => `"order-${process.pid}-${Date.now()}-${seq++}"`;

async function countOrders(
  api: ReturnType<typeof authorized>,
): Promise<number> {
  return ((await (await api('/orders?size=1')).json()) as Json).page
    .totalElements as number;
}

function creator(api: ReturnType<typeof authorized>) {
  return (body: unknown, key?: string) =>
    api('/orders', {
      method: 'POST',
      body: JSON.stringify(body),
      headers: {
        'content-type': 'application/json',
        ...(key ? { 'idempotency-key': key } : {}),
      },
    });
}

describe.each(ADAPTERS)('sample idempotent order creation on %s', (adapter) => {
  let running: RunningApp;
  let api: ReturnType<typeof authorized>;
  const env = {
    OAUTH_CLIENTS:
      'writer:writer-secret:orders:read orders:write,other:other-secret:orders:read orders:write',
  };

  beforeAll(async () => {
    running = await startSample(adapter, env);
    api = authorized(running.baseUrl, await tokenFor(running.baseUrl));
  });
  afterAll(() => running.close());

  it('replays a retried creation as 200 with the same order and Location, and creates one order', async () => {
    const create = creator(api);
    const key = newKey();
    const before = await countOrders(api);
    const first = await create(order, key);
    expect(first.status).toBe(201);
    const replay = await create(reordered, key);
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('location')).toBe(first.headers.get('location'));
    expect(await replay.json()).toEqual(await first.json());
    expect(await countOrders(api)).toBe(before + 1);
  });

  it('answers a different body under the same key with 422, a malformed key with 400', async () => {
    const create = creator(api);
    const key = newKey();
    expect((await create(order, key)).status).toBe(201);
    await expectProblem(await create({ ...order, currency: 'USD' }, key), 422);
    await expectProblem(await create(order, '"no-end'), 400);
  });

  it('creates exactly one order for 8 concurrent requests with one key', async () => {
    const create = creator(api);
    const key = newKey();
    const before = await countOrders(api);
    const statuses = (
      await Promise.all(Array.from({ length: 8 }, () => create(order, key)))
    ).map((r) => r.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.every((status) => [200, 201, 409].includes(status))).toBe(
      true,
    );
    expect(await countOrders(api)).toBe(before + 1);
  });

  it('scopes keys per client', async () => {
    const other = authorized(
      running.baseUrl,
      await tokenFor(running.baseUrl, 'other'),
    );
    const key = newKey();
    const mine = (await (await creator(api)(order, key)).json()) as Json;
    const theirs = await creator(other)(order, key);
    expect(theirs.status).toBe(201);
    expect(((await theirs.json()) as Json).id).not.toBe(mine.id);
  });
});

describeWithRedis.each(ADAPTERS)(
  'sample idempotency across instances sharing Redis on %s',
  (adapter) => {
    it('replays on the other instance', async () => {
      const server = await OwnRedisServer.start();
      const env = { REDIS_URL: `redis://127.0.0.1:${server.port}` };
      const first = await startSample(adapter, env);
      const second = await startSample(adapter, env);
      try {
        const token = await tokenFor(first.baseUrl);
        const key = newKey();
        const created = await creator(authorized(first.baseUrl, token))(
          order,
          key,
        );
        expect(created.status).toBe(201);
        const replay = await creator(authorized(second.baseUrl, token))(
          order,
          key,
        );
        expect(replay.status).toBe(200);
        expect(replay.headers.get('location')).toBe(
          created.headers.get('location'),
        );
      } finally {
        await first.close();
        await second.close();
        await server.stop();
      }
    });

    it('lets another instance answer a report started on the first', async () => {
      const server = await OwnRedisServer.start();
      const env = {
        REDIS_URL: `redis://127.0.0.1:${server.port}`,
        REPORT_DELAY_MS: '10',
      };
      const first = await startSample(adapter, env);
      const second = await startSample(adapter, env);
      try {
        const token = await tokenFor(first.baseUrl);
        const accepted = await authorized(first.baseUrl, token)('/reports', {
          method: 'POST',
        });
        expect(accepted.status).toBe(202);
        const monitor = accepted.headers.get('location')!;
        const other = authorized(second.baseUrl, token);
        let operation: Json = {};
        for (let i = 0; i < 100 && operation.status !== 'done'; i++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          operation = (await (await other(monitor)).json()) as Json;
        }
        expect(operation.status).toBe('done');
        const result = await other(operation._links.result.href);
        expect(result.status).toBe(200);
        expect(((await result.json()) as Json).id).toBe(operation.id);
      } finally {
        await first.close();
        await second.close();
        await server.stop();
      }
    });
  },
);
