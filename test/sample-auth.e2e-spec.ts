import { ADAPTERS, startSample, type RunningApp } from './support/adapters';
import { expectProblem } from './support/problem-assertions';
import { describeWithRedis, OwnRedisServer } from './support/redis';
import { authorized, tokenFor } from './support/sample-client';
import jwt from 'jsonwebtoken';

const order = {
  items: [{ sku: 'a', quantity: 1, unitPrice: 1 }],
  currency: 'EUR',
};
const form = (fields: Record<string, string>) =>
  new URLSearchParams(fields).toString();

describe.each(ADAPTERS)('sample OAuth token endpoint on %s', (adapter) => {
  let running: RunningApp;
  const token = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${running.baseUrl}/oauth/token`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...headers,
      },
    });

  beforeAll(async () => {
    running = await startSample(adapter);
  });
  afterAll(() => running.close());

  it('issues a JWT for client credentials in the body: plain JSON, no-store', async () => {
    const response = await token(
      form({
        grant_type: 'client_credentials',
        client_id: 'reader',
        client_secret: 'reader-secret',
      }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'orders:read',
    });
    const claims = jwt.decode(body.access_token as string) as Record<
      string,
      unknown
    >;
    expect(claims).toMatchObject({
      sub: 'reader',
      scope: 'orders:read',
      iss: 'orders-sample',
      aud: 'orders-api',
    });
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
  });

  it('accepts HTTP Basic and JSON, and narrows scopes on request', async () => {
    const basic = Buffer.from('writer:writer-secret').toString('base64');
    const response = await fetch(`${running.baseUrl}/oauth/token`, {
      method: 'POST',
      body: JSON.stringify({
        grant_type: 'client_credentials',
        scope: 'orders:read',
      }),
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${basic}`,
      },
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { scope: string }).scope).toBe(
      'orders:read',
    );
  });

  it.each([
    [
      form({ client_id: 'reader', client_secret: 'reader-secret' }),
      400,
      'invalid_request',
    ],
    [
      form({
        grant_type: 'password',
        client_id: 'reader',
        client_secret: 'reader-secret',
      }),
      400,
      'unsupported_grant_type',
    ],
    [
      form({
        grant_type: 'client_credentials',
        client_id: 'reader',
        client_secret: 'wrong',
      }),
      401,
      'invalid_client',
    ],
    [
      form({
        grant_type: 'client_credentials',
        client_id: 'nobody',
        client_secret: 'x',
      }),
      401,
      'invalid_client',
    ],
    [
      form({
        grant_type: 'client_credentials',
        client_id: 'reader',
        client_secret: 'reader-secret',
        scope: 'orders:write',
      }),
      400,
      'invalid_scope',
    ],
  ])('answers %s with %i %s as a problem', async (body, status, error) => {
    const response = await token(body);
    // A 401 always says how to authenticate: the endpoint's Basic scheme.
    expect(response.headers.get('www-authenticate')).toBe(
      status === 401 ? 'Basic realm="orders"' : null,
    );
    const problem = await expectProblem(response, status);
    expect(problem.error).toBe(error);
    expect(JSON.stringify(problem)).not.toContain('secret');
  });

  it('challenges a failed HTTP Basic client with Basic', async () => {
    const basic = Buffer.from('writer:nope').toString('base64');
    const response = await token(form({ grant_type: 'client_credentials' }), {
      authorization: `Basic ${basic}`,
    });
    expect(response.headers.get('www-authenticate')).toBe(
      'Basic realm="orders"',
    );
    await expectProblem(response, 401);
  });
});

describe.each(ADAPTERS)('sample authorization on %s', (adapter) => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startSample(adapter);
  });
  afterAll(() => running.close());

  it('answers no token with 401 Bearer realm="orders"', async () => {
    const response = await fetch(`${running.baseUrl}/orders`);
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="orders"',
    );
    await expectProblem(response, 401);
  });

  it('answers a reader writing with 403 insufficient_scope', async () => {
    const reader = authorized(
      running.baseUrl,
      await tokenFor(running.baseUrl, 'reader'),
    );
    const response = await reader('/orders', {
      method: 'POST',
      body: JSON.stringify(order),
      headers: { 'content-type': 'application/json' },
    });
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="orders", error="insufficient_scope", scope="orders:write"',
    );
    await expectProblem(response, 403);
  });

  it('offers cancel and ship only to clients that may use them', async () => {
    const writer = authorized(
      running.baseUrl,
      await tokenFor(running.baseUrl, 'writer'),
    );
    const reader = authorized(
      running.baseUrl,
      await tokenFor(running.baseUrl, 'reader'),
    );
    const created = (await (
      await writer('/orders', {
        method: 'POST',
        body: JSON.stringify(order),
        headers: { 'content-type': 'application/json' },
      })
    ).json()) as { id: string; _links: Record<string, unknown> };
    expect(created._links.cancel).toBeDefined();
    const seenByReader = (await (
      await reader(`/orders/${created.id}`)
    ).json()) as { _links: Record<string, unknown> };
    expect(seenByReader._links.cancel).toBeUndefined();
    expect(seenByReader._links.self).toBeDefined();
  });

  it('refuses a token signed with another secret', async () => {
    const forged = jwt.sign({ scope: 'orders:read' }, 'x'.repeat(40), {
      subject: 'writer',
      issuer: 'orders-sample',
      audience: 'orders-api',
    });
    const response = await fetch(`${running.baseUrl}/orders`, {
      headers: { authorization: `Bearer ${forged}` },
    });
    expect(response.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="orders", error="invalid_token"/,
    );
    await expectProblem(response, 401);
  });
});

describe.each(ADAPTERS)(
  'sample reports belong to their client on %s',
  (adapter) => {
    let running: RunningApp;
    beforeAll(async () => {
      running = await startSample(adapter, {
        REPORT_DELAY_MS: '10',
        OAUTH_CLIENTS:
          'writer:writer-secret:orders:read reports:write,other:other-secret:reports:write',
      });
    });
    afterAll(() => running.close());

    it("answers another client's monitor and result with the 404 of an unknown id", async () => {
      const writer = authorized(
        running.baseUrl,
        await tokenFor(running.baseUrl),
      );
      const other = authorized(
        running.baseUrl,
        await tokenFor(running.baseUrl, 'other'),
      );
      const monitor = (
        await writer('/reports', { method: 'POST' })
      ).headers.get('location')!;
      let state: { status?: string; _links?: any } = {};
      for (let tries = 0; tries < 200 && state.status !== 'done'; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        state = (await (await writer(monitor)).json()) as typeof state;
      }
      expect(state.status).toBe('done');
      const result = state._links.result.href as string;
      expect((await writer(result)).status).toBe(200);
      const unknown = await expectProblem(
        await other('/reports/00000000-0000-4000-8000-000000000000'),
        404,
      );
      const refused = await expectProblem(await other(monitor), 404);
      expect(refused.type).toBe(unknown.type);
      expect(refused.title).toBe(unknown.title);
      const refusedResult = await expectProblem(await other(result), 404);
      expect(refusedResult.type).toMatch(/report-not-found$/);
    });
  },
);

describe.each(ADAPTERS)('sample throttling on %s', (adapter) => {
  it('limits per client with RateLimit headers, never /health', async () => {
    const running = await startSample(adapter, {
      THROTTLE_LIMIT: '3',
      THROTTLE_TTL_MS: '60000',
    });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) {
        const response = await fetch(`${running.baseUrl}/`);
        statuses.push(response.status);
        if (i === 0)
          expect(response.headers.get('ratelimit-policy')).toBe(
            '"default";q=3;w=60',
          );
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      const health = await fetch(`${running.baseUrl}/health`);
      expect(health.status).toBe(200);
      expect(health.headers.get('ratelimit')).toBeNull();
    } finally {
      await running.close();
    }
  });
});

describeWithRedis.each(ADAPTERS)('sample with REDIS_URL on %s', (adapter) => {
  it('shares the limit and report operations between two instances', async () => {
    const server = await OwnRedisServer.start();
    const env = {
      REDIS_URL: `redis://127.0.0.1:${server.port}`,
      THROTTLE_LIMIT: '4',
      REPORT_DELAY_MS: '10',
    };
    const first = await startSample(adapter, env);
    const second = await startSample(adapter, env);
    try {
      const responses = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          fetch(`${(i % 2 ? first : second).baseUrl}/`),
        ),
      );
      expect(
        responses.filter((response) => response.status === 200),
      ).toHaveLength(4);
    } finally {
      await first.close();
      await second.close();
      await server.stop();
    }
  });

  it('answers /health with 503 and Retry-After while Redis is down, 200 once it is back', async () => {
    const server = await OwnRedisServer.start();
    const running = await startSample(adapter, {
      REDIS_URL: `redis://127.0.0.1:${server.port}`,
    });
    try {
      expect((await fetch(`${running.baseUrl}/health`)).status).toBe(200);
      const api = authorized(
        running.baseUrl,
        await tokenFor(running.baseUrl, 'writer'),
      );
      const report = await api('/reports', { method: 'POST' });
      expect(report.status).toBe(202);
      const monitor = report.headers.get('location')!;
      await server.stop();
      const down = await fetch(`${running.baseUrl}/health`);
      expect(down.headers.get('retry-after')).toBe('5');
      await expectProblem(down, 503);
      // Report operations live in Redis: unavailable, not a server fault.
      for (const response of [
        await api('/reports', { method: 'POST' }),
        await api(monitor),
      ]) {
        expect(response.headers.get('retry-after')).toBe('5');
        await expectProblem(response, 503);
      }
      await server.start();
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = (await fetch(`${running.baseUrl}/health`)).status;
      }
      expect(status).toBe(200);
    } finally {
      await running.close();
      await server.stop();
    }
  });
});
