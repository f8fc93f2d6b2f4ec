import { Controller, Get, Module, Res } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { HalProblemModule, RouteTable } from 'nestjs-hal-problem';
import {
  ADAPTERS,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';
import { expectProblem } from './support/problem-assertions';
import { rawRequest, socketRequest } from './support/raw-http';
import {
  problemFixtureModule,
  SECRET,
} from './fixtures/problem-fixture.module';

@Module(
  problemFixtureModule({
    problemTypeBaseUri: 'https://problems.test/',
    bodyLimit: 100 * 1024,
  }),
)
class FixtureAppModule {}

describe.each(ADAPTERS)('Problem Details on %s', (adapter) => {
  let running: RunningApp;
  const url = (path: string) => `${running.baseUrl}${path}`;

  beforeAll(async () => {
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [FixtureAppModule] }),
    );
  });
  afterAll(() => running.close());

  describe('HttpExceptions', () => {
    it('maps a NotFoundException with the developer message as detail', async () => {
      const body = await expectProblem(
        await fetch(url('/fixture/not-found?x=1')),
        404,
      );
      expect(body).toMatchObject({
        type: 'about:blank',
        title: 'Not Found',
        detail: 'Widget 7 does not exist',
        instance: '/fixture/not-found',
      });
    });

    it('keeps safe members of an object response as extensions', async () => {
      const body = await expectProblem(
        await fetch(url('/fixture/object-response')),
        402,
      );
      expect(body).toMatchObject({
        title: 'Payment Required',
        detail: 'Quota reached',
        reason: 'quota',
        nested: { plan: 'free' },
      });
      expect(JSON.stringify(body)).not.toContain(SECRET);
    });

    it('keeps the detail of an HttpException whose body is shaped as a problem', async () => {
      const body = await expectProblem(
        await fetch(url('/fixture/problem-shaped-response')),
        403,
      );
      expect(body).toMatchObject({
        detail: 'Your balance is 30, but that costs 50.',
        balance: 30,
      });
    });

    it("carries Nest 12's errorCode as an extension", async () => {
      const body = await expectProblem(
        await fetch(url('/fixture/error-code')),
        400,
      );
      expect(body).toMatchObject({
        detail: 'Bad thing',
        errorCode: 'E_BAD_THING',
      });
    });

    it('survives cyclic bodies and throwing toJSON', async () => {
      const body = await expectProblem(
        await fetch(url('/fixture/cyclic')),
        400,
      );
      expect(body).toMatchObject({ detail: 'Cyclic body', hint: 'kept' });
      expect(JSON.stringify(body)).not.toContain(SECRET);
    });
  });

  describe('ProblemException', () => {
    it('sends a declared type with its stable title and extensions', async () => {
      const body = await expectProblem(
        await fetch(url('/fixture/problem')),
        409,
      );
      expect(body).toMatchObject({
        type: 'https://problems.test/out-of-stock',
        title: 'Item is out of stock',
        detail: 'Only 2 of sku-1 left.',
        sku: 'sku-1',
        available: 2,
      });
    });

    it('closes the connection when a handler fails after its response began: a cut body must not look whole', async () => {
      const response = await socketRequest(
        running.baseUrl,
        'GET /fixture/cut-short HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n',
      );
      expect(response.status).toBe(200);
      expect(response.body).toContain('{"partial":');
      // No last chunk: the client can tell the body was cut short.
      expect(response.body).not.toMatch(/(^|\r\n)0\r\n\r\n$/);
    });

    it('leaves the connection of a response that was already whole to the next request', async () => {
      const { hostname, port } = new URL(running.baseUrl);
      const text = await new Promise<string>((resolve, reject) => {
        let received = '';
        const socket = connect(Number(port), hostname, () => {
          socket.write(
            'GET /fixture/done-then-fail HTTP/1.1\r\nHost: x\r\n\r\n',
          );
          // After the handler failed: the same connection, a second request.
          setTimeout(
            () =>
              socket.write(
                'GET /fixture/widgets HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
              ),
            150,
          );
        });
        socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
        socket.on('error', reject);
        socket.on('close', () => resolve(received));
      });
      expect(text.match(/HTTP\/1\.1 200 /g)).toHaveLength(2);
    });

    it('answers a file that cannot be read with a 500 problem, naming no path', async () => {
      const response = await fetch(url('/fixture/missing-file'));
      const body = await expectProblem(response, 500);
      expect(JSON.stringify(body)).not.toMatch(/secret-dir|ENOENT/);
      // The download's headers are not the problem's: no cache keeps the 500.
      expect(response.headers.get('cache-control')).toBeNull();
      expect(response.headers.get('content-disposition')).toBeNull();
    });

    it('drops headers Node would refuse to send, keeping the problem', async () => {
      const response = await fetch(url('/fixture/unsendable-headers'));
      const body = await expectProblem(response, 409);
      expect(body.detail).toBe('Conflicting.');
      expect(response.headers.get('x-fine')).toBe('fine');
      expect(response.headers.get('content-location')).toBeNull();
      expect(response.headers.get('x-control')).toBeNull();
    });

    it('sends 503 with Retry-After in delta seconds', async () => {
      const response = await fetch(url('/fixture/maintenance'));
      expect(response.headers.get('retry-after')).toBe('120');
      const body = await expectProblem(response, 503);
      expect(body).toMatchObject({
        title: 'Service Unavailable',
        detail: 'Down for maintenance.',
      });
    });

    it('sends 501', async () => {
      const body = await expectProblem(
        await fetch(url('/fixture/not-implemented')),
        501,
      );
      expect(body).toMatchObject({
        title: 'Not Implemented',
        detail: 'Partial updates are not supported.',
      });
    });
  });

  describe('500s never leak', () => {
    it.each([
      ['a plain Error', '/fixture/plain-error'],
      ['a thrown string', '/fixture/string'],
      ['a thrown null', '/fixture/null'],
      ['an async rejection', '/fixture/async'],
      ['an Observable error', '/fixture/observable'],
      ['an InternalServerErrorException message', '/fixture/internal-http'],
      ['a crashing guard', '/fixture/guard-crash'],
      ['a crashing interceptor', '/fixture/intercepted'],
      ['a crashing middleware', '/fixture/middleware'],
    ])('%s becomes a generic 500', async (_name, path) => {
      const response = await fetch(url(path));
      const text = await response.clone().text();
      const body = await expectProblem(response, 500);
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('crashed');
      expect(body).toMatchObject({
        type: 'about:blank',
        title: 'Internal Server Error',
        detail:
          'The server encountered an unexpected condition and could not complete the request.',
      });
    });
  });

  describe('every layer', () => {
    it('maps a guard exception', async () => {
      const body = await expectProblem(
        await fetch(url('/fixture/guarded')),
        403,
      );
      expect(body.detail).toBe('Widgets are off limits');
    });

    it('maps a pipe exception', async () => {
      const body = await expectProblem(
        await fetch(url('/fixture/items/abc')),
        400,
      );
      expect(body.detail).toMatch(/numeric string is expected/);
    });
  });

  describe('routing', () => {
    it('answers an unknown path with 404', async () => {
      const body = await expectProblem(
        await fetch(url('/nowhere/at/all')),
        404,
      );
      expect(body.instance).toBe('/nowhere/at/all');
    });

    it("names the path of an unknown one, never its query (Nest's message echoed both)", async () => {
      const body = await expectProblem(
        await fetch(url('/nowhere?access_token=s3cret&api_key=k3y')),
        404,
      );
      expect(body.detail).toBe('Nothing is served at /nowhere.');
      expect(JSON.stringify(body)).not.toMatch(/s3cret|k3y/);
    });

    it('answers what the router refuses itself with a problem: a malformed path, an over-long parameter', async () => {
      const malformed = await rawRequest(
        running.baseUrl,
        '/fixture/widgets/%E0%A4%A',
        {},
      );
      expect(malformed.status).toBe(400);
      expect(malformed.headers['content-type']).toMatch(
        /^application\/problem\+json/,
      );
      expect(malformed.headers['x-request-id']).toBeDefined();
      expect(JSON.parse(malformed.body)).toMatchObject({
        status: 400,
        detail: 'The request URI is malformed.',
      });
      // Fastify refuses a parameter over maxParamLength (100) with 414
      // (Express has no such limit).
      if (adapter !== 'fastify') return;
      const long = await rawRequest(
        running.baseUrl,
        `/fixture/widgets/${'x'.repeat(120)}`,
        {},
        'DELETE',
      );
      expect(long.status).toBe(414);
      expect(long.headers['content-type']).toMatch(
        /^application\/problem\+json/,
      );
      expect(long.headers['x-request-id']).toBeDefined();
      expect(JSON.parse(long.body)).not.toHaveProperty('message');
    });

    it('answers an unknown expectation with a 417 problem, not a bare one', async () => {
      // Node answers it before any framework runs; `100-continue` is served.
      const response = await rawRequest(
        running.baseUrl,
        '/fixture/widgets?x=1',
        { expect: 'teapot', 'x-request-id': 'expect-1' },
      );
      expect(response.status).toBe(417);
      expect(response.headers['content-type']).toBe('application/problem+json');
      expect(response.headers['x-request-id']).toBe('expect-1');
      expect(JSON.parse(response.body)).toEqual({
        type: 'about:blank',
        title: 'Expectation Failed',
        status: 417,
        detail: 'The only expectation this server meets is 100-continue.',
        // The path, as every other problem's: never the query.
        instance: '/fixture/widgets',
        requestId: 'expect-1',
      });
      const served = await rawRequest(running.baseUrl, '/fixture/widgets', {
        expect: '100-continue',
      });
      expect(served.status).toBe(200);
    });

    it("answers what Node's parser refuses as problems too", async () => {
      const cases: [string, number, string][] = [
        [
          'FOO /fixture/widgets HTTP/1.1\r\nHost: x\r\n\r\n',
          501,
          'Not Implemented',
        ],
        ['GET /fixture/widgets HTTP/1.1\r\nHost x\r\n\r\n', 400, 'Bad Request'],
        [
          `GET /fixture/widgets HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
          431,
          'Request Header Fields Too Large',
        ],
        // RFC 9110's phrase, not Node's older "Payload Too Large".
        [
          `POST /fixture/widgets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n1;${'e'.repeat(20_000)}\r\na\r\n0\r\n\r\n`,
          413,
          'Content Too Large',
        ],
      ];
      for (const [bytes, status, title] of cases) {
        const response = await socketRequest(running.baseUrl, bytes);
        expect(response.status).toBe(status);
        expect(response.headers['content-type']).toBe(
          'application/problem+json',
        );
        const id = response.headers['x-request-id'];
        expect(id).toMatch(/^[0-9a-f-]{36}$/);
        expect(JSON.parse(response.body)).toEqual({
          type: 'about:blank',
          title,
          status,
          detail: expect.any(String),
          instance: `urn:uuid:${id}`,
          requestId: id,
        });
      }
    });

    it('answers a known path with an unserved method with 405 and Allow', async () => {
      const response = await fetch(url('/fixture/widgets'), { method: 'PUT' });
      expect(response.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS');
      const body = await expectProblem(response, 405);
      expect(body.title).toBe('Method Not Allowed');
    });

    it('matches route parameters for 405', async () => {
      const response = await fetch(url('/fixture/widgets/42'), {
        method: 'GET',
      });
      expect(response.headers.get('allow')).toBe('DELETE, OPTIONS');
      await expectProblem(response, 405);
    });

    it('answers 405 only where the platform would route the path', async () => {
      // Express matches case-insensitively with an optional trailing slash,
      // Fastify exactly (its defaults): an unserved method is 405 only where
      // GET is served.
      for (const path of ['/FIXTURE/widgets', '/fixture/widgets/']) {
        const get = await fetch(url(path));
        expect(get.status).toBe(adapter === 'express' ? 200 : 404);
        const put = await fetch(url(path), { method: 'PUT' });
        await expectProblem(put, get.status === 200 ? 405 : 404);
      }
    });

    it('answers other methods on a percent-encoded spelling as the platform routes GET there', async () => {
      // Fastify's router decodes `%77` to `w` and serves GET there; Express's
      // matches the path as sent and serves nothing. The other methods must
      // follow GET: a 405 and an OPTIONS answer, or a 404 for all.
      const path = '/fixture/%77idgets';
      const get = await fetch(url(path));
      expect(get.status).toBe(adapter === 'fastify' ? 200 : 404);
      const put = await fetch(url(path), { method: 'PUT' });
      const options = await fetch(url(path), { method: 'OPTIONS' });
      if (adapter === 'fastify') {
        expect(put.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS');
        await expectProblem(put, 405);
        expect(options.status).toBe(204);
        expect(options.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS');
      } else {
        expect(put.headers.get('allow')).toBeNull();
        // Named as sent: `/fixture/widgets`, its normal form, is served.
        expect((await expectProblem(put, 404)).detail).toBe(
          `Nothing is served at ${path}.`,
        );
        await expectProblem(options, 404);
      }
      // Neither router decodes an encoded `/`, nor the `%` of `%2577`.
      for (const other of ['/fixture%2Fwidgets', '/fixture/%2577idgets']) {
        expect((await fetch(url(other))).status).toBe(404);
        await expectProblem(await fetch(url(other), { method: 'PUT' }), 404);
      }
    });

    it('answers other methods as GET is routed with a fragment or a leading //', async () => {
      const status = async (method: string, target: string) =>
        (
          await socketRequest(
            running.baseUrl,
            `${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
          )
        ).status;
      // Node lets `#` through; both routers cut the path there.
      expect(await status('GET', '/fixture/widgets#x')).toBe(200);
      expect(await status('PUT', '/fixture/widgets#x')).toBe(405);
      expect(await status('OPTIONS', '/fixture/widgets#x')).toBe(204);
      // Neither router serves `//fixture/widgets`: a 404 for every method.
      for (const target of ['//fixture/widgets', '/\\fixture/widgets']) {
        expect(await status('GET', target)).toBe(404);
        expect(await status('PUT', target)).toBe(404);
        expect(await status('OPTIONS', target)).toBe(404);
      }
      // And the 404 names the path so, not `/fixture/widgets`, which is served.
      const doubled = await socketRequest(
        running.baseUrl,
        'GET //fixture/widgets HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      );
      expect(doubled.headers['content-length']).toBeDefined();
      expect((JSON.parse(doubled.body) as { detail: string }).detail).toBe(
        'Nothing is served at //fixture/widgets.',
      );
    });

    it('offers no other method where a parameter is longer than the platform routes', async () => {
      // Fastify routes no `:param` over maxParamLength (100): its DELETE
      // route answers 414 there, so GET may not be told DELETE is allowed.
      const long = `/fixture/widgets/${'x'.repeat(120)}`;
      const get = await fetch(url(long));
      const options = await fetch(url(long), { method: 'OPTIONS' });
      if (adapter === 'fastify') {
        expect(
          (await rawRequest(running.baseUrl, long, {}, 'DELETE')).status,
        ).toBe(414);
        expect(get.headers.get('allow')).toBeNull();
        await expectProblem(get, 404);
        await expectProblem(options, 404);
      } else {
        expect(get.headers.get('allow')).toBe('DELETE, OPTIONS');
        await expectProblem(get, 405);
        expect(options.status).toBe(204);
      }
    });

    it('measures a parameter as the router does, escapes of / decoded', async () => {
      // 40 escaped slashes: 120 characters as sent, 40 once decoded, which
      // is what Fastify compares with maxParamLength (100). Express routes
      // it as sent too.
      const escaped = `/fixture/widgets/${'%2F'.repeat(40)}`;
      // The platform routes it (no 414): so must the table.
      expect(
        (await rawRequest(running.baseUrl, escaped, {}, 'DELETE')).status,
      ).not.toBe(414);
      const get = await fetch(url(escaped));
      expect(get.headers.get('allow')).toBe('DELETE, OPTIONS');
      await expectProblem(get, 405);
    });

    it('answers OPTIONS on a known path with 204 and Allow', async () => {
      const response = await fetch(url('/fixture/widgets'), {
        method: 'OPTIONS',
      });
      expect(response.status).toBe(204);
      expect(response.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS');
      expect(await response.text()).toBe('');
    });

    it('answers OPTIONS on an unknown path with 404', async () => {
      await expectProblem(
        await fetch(url('/nowhere'), { method: 'OPTIONS' }),
        404,
      );
    });

    it('answers HEAD like GET without a body', async () => {
      const ok = await fetch(url('/fixture/widgets'), { method: 'HEAD' });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toBe('');
      const missing = await fetch(url('/fixture/not-found'), {
        method: 'HEAD',
      });
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toMatch(
        /^application\/problem\+json/,
      );
      expect(await missing.text()).toBe('');
    });
  });

  describe('request bodies', () => {
    const post = (
      path: string,
      body: string | Uint8Array,
      contentType?: string,
    ) =>
      fetch(url(path), {
        method: 'POST',
        body,
        headers: contentType ? { 'content-type': contentType } : {},
      });

    it('answers malformed JSON with 400 without echoing it', async () => {
      const response = await post(
        '/fixture/widgets',
        '{"name": "x", oops',
        'application/json',
      );
      const text = await response.clone().text();
      const body = await expectProblem(response, 400);
      expect(body.detail).toBe(
        'The request body is malformed and could not be parsed.',
      );
      expect(text).not.toContain('oops');
    });

    it('answers a body over the limit with 413 and the limit', async () => {
      const big = JSON.stringify({ name: 'x'.repeat(200 * 1024) });
      const response = await post('/fixture/widgets', big, 'application/json');
      const body = await expectProblem(response, 413);
      expect(body.title).toBe('Content Too Large');
      expect(body.limit).toBe(100 * 1024);
    });

    it('answers invalid UTF-8 with 400', async () => {
      const bytes = Buffer.concat([
        Buffer.from('{"name":"'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}'),
      ]);
      const body = await expectProblem(
        await post('/fixture/widgets', bytes, 'application/json'),
        400,
      );
      expect(body.detail).toBe(
        'The request body is not valid in its declared charset.',
      );
    });

    it('answers JSON nested deeper than the limit with 400, not a stack overflow', async () => {
      const deep = '['.repeat(20_000) + ']'.repeat(20_000);
      const body = await expectProblem(
        await post('/fixture/widgets', deep, 'application/json'),
        400,
      );
      expect(body.detail).toBe(
        'The request body is nested deeper than the server accepts.',
      );
    });

    it('answers an empty JSON body on a validated route with a problem', async () => {
      const response = await post('/fixture/widgets', '', 'application/json');
      expect([400]).toContain(response.status);
      await expectProblem(response, 400);
    });

    it('refuses __proto__ keys without polluting prototypes', async () => {
      const response = await post(
        '/fixture/widgets',
        '{"name":"ok","__proto__":{"polluted":true}}',
        'application/json',
      );
      expect(response.status).toBe(400);
      await expectProblem(response, 400);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('answers an unsupported charset or content encoding with 415', async () => {
      const latin1 = await post(
        '/fixture/widgets',
        '{"name":"x"}',
        'application/json; charset=latin1',
      );
      expect((await expectProblem(latin1, 415)).detail).toBe(
        'The charset of the request body is not supported.',
      );
      // A charset body-parser decodes itself (Express) must not get past
      // the depth and key checks, which read UTF-8.
      const deep = '['.repeat(20_000) + ']'.repeat(20_000);
      const utf16 = await post(
        '/fixture/widgets',
        Buffer.from(deep, 'utf16le'),
        'application/json; charset=utf-16le',
      );
      expect((await expectProblem(utf16, 415)).detail).toBe(
        'The charset of the request body is not supported.',
      );
      const zipped = await fetch(url('/fixture/widgets'), {
        method: 'POST',
        body: '{"name":"x"}',
        headers: {
          'content-type': 'application/json',
          'content-encoding': 'x-unknown',
        },
      });
      expect((await expectProblem(zipped, 415)).detail).toBe(
        'The content encoding of the request body is not supported.',
      );
    });

    it('parses structured-syntax JSON types (+json) as JSON, with the same checks', async () => {
      // Accepted by default, so parsed: Express used to hand the handler no
      // body (a validation 400 for a valid body), Fastify answered 415.
      for (const type of [
        'application/merge-patch+json',
        'application/hal+json; charset=utf-8',
        'application/vnd.example.widget+json',
        'application/vnd.a+b+json',
      ]) {
        const ok = await post('/fixture/widgets', '{"name":"plus"}', type);
        expect(ok.status).toBe(201);
        expect(await ok.json()).toMatchObject({ name: 'plus' });
        await expectProblem(
          await post('/fixture/widgets', '{"name":', type),
          400,
        );
      }
      const deep = '['.repeat(20_000) + ']'.repeat(20_000);
      expect(
        (
          await expectProblem(
            await post('/fixture/widgets', deep, 'application/hal+json'),
            400,
          )
        ).detail,
      ).toBe('The request body is nested deeper than the server accepts.');
      await expectProblem(
        await post(
          '/fixture/widgets',
          '{"name":"ok","__proto__":{"polluted":true}}',
          'application/merge-patch+json',
        ),
        400,
      );
    });

    it('answers a media type the route does not take with 415', async () => {
      const body = await expectProblem(
        await post('/fixture/widgets', 'name=x', 'text/plain'),
        415,
      );
      expect(body.title).toBe('Unsupported Media Type');
    });

    it('honours @Consumes per route', async () => {
      const ok = await post(
        '/fixture/form',
        'a=1',
        'application/x-www-form-urlencoded',
      );
      expect(ok.status).toBe(201);
      await expectProblem(
        await post('/fixture/form', '{"a":1}', 'application/json'),
        415,
      );
    });
  });

  describe('validation', () => {
    const create = (body: unknown) =>
      fetch(url('/fixture/widgets'), {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });

    it('reports a missing value as the contract example does', async () => {
      const body = await expectProblem(await create({}), 400);
      expect(body).toMatchObject({
        title: 'Bad Request',
        detail: 'Request failed validation',
      });
      expect(body.errors).toEqual([
        {
          title: 'invalid_type',
          detail: '`body.name` is `undefined`, but `string` is expected.',
          pointer: '#/name',
        },
      ]);
    });

    // Express's JSON parser refuses a top-level string or number before
    // validation (a 400 of its own); Fastify's parses them.
    it.each(
      adapter === 'fastify' ? ['[1, 2]', 'null', '"abc"', '7'] : ['[1, 2]'],
    )(
      'answers a body that is no object (%s) with one invalid_type at the root',
      async (json) => {
        const response = await fetch(url('/fixture/widgets'), {
          method: 'POST',
          body: json,
          headers: { 'content-type': 'application/json' },
        });
        const body = await expectProblem(response, 400);
        expect(body.errors).toEqual([
          {
            title: 'invalid_type',
            detail: expect.stringMatching(
              /^`body` is `\w+`, but `object` is expected\.$/,
            ),
            pointer: '#',
          },
        ]);
      },
    );

    it("points into the member @Body('widget') validates", async () => {
      const response = await fetch(url('/fixture/wrapped-widgets'), {
        method: 'POST',
        body: JSON.stringify({
          widget: { name: 'ok', parts: [{ quantity: 0 }] },
        }),
        headers: { 'content-type': 'application/json' },
      });
      const body = await expectProblem(response, 400);
      expect(body.errors).toEqual([
        expect.objectContaining({
          pointer: '#/widget/parts/0/quantity',
          detail: expect.stringContaining('`body.widget.parts.0.quantity`'),
        }),
      ]);
    });

    it('lists every violated constraint, walking nested arrays', async () => {
      const body = await expectProblem(
        await create({
          name: 'far-too-long-name',
          contact: 'not-an-email',
          color: 'green',
          tags: ['a', 'b', 'c', 'd'],
          parts: [{ quantity: 1 }, { quantity: 0 }],
          extra: true,
        }),
        400,
      );
      expect(body.errors).toEqual(
        expect.arrayContaining([
          {
            title: 'too_big',
            detail: expect.stringMatching(
              /^`body\.name` must be shorter than or equal to 10 characters\.$/,
            ),
            pointer: '#/name',
          },
          {
            title: 'invalid_format',
            detail: expect.stringMatching(
              /^`body\.contact` must be an email\.$/,
            ),
            pointer: '#/contact',
          },
          {
            title: 'invalid_value',
            detail: expect.stringMatching(/^`body\.color` /),
            pointer: '#/color',
          },
          {
            title: 'too_big',
            detail: expect.stringMatching(/^`body\.tags` /),
            pointer: '#/tags',
          },
          {
            title: 'too_small',
            detail: '`body.parts.1.quantity` must not be less than 1.',
            pointer: '#/parts/1/quantity',
          },
          {
            title: 'unrecognized_key',
            detail: '`body.extra` is not allowed.',
            pointer: '#/extra',
          },
        ]),
      );
      expect(body.errors).toHaveLength(6);
    });

    it('reports wrong types', async () => {
      const body = await expectProblem(
        await create({ name: 42, parts: [{ quantity: 1.5 }] }),
        400,
      );
      expect(body.errors).toEqual(
        expect.arrayContaining([
          {
            title: 'invalid_type',
            detail: '`body.name` is `number`, but `string` is expected.',
            pointer: '#/name',
          },
          {
            title: 'invalid_type',
            detail:
              '`body.parts.0.quantity` is `number`, but `integer` is expected.',
            pointer: '#/parts/0/quantity',
          },
        ]),
      );
    });

    it('reports only the type of a value of the wrong kind', async () => {
      // Not also "must not be less than 1" and "greater than 100".
      const query = await expectProblem(
        await fetch(url('/fixture/search?size=abc')),
        400,
      );
      expect(query.errors).toEqual([
        {
          title: 'invalid_type',
          detail: '`query.size` is not a number, but `integer` is expected.',
          parameter: 'size',
        },
      ]);
      const body = await expectProblem(
        await create({
          name: 'ok',
          parts: [{ quantity: '7' }, { quantity: 0.5 }],
        }),
        400,
      );
      expect(body.errors).toEqual([
        {
          title: 'invalid_type',
          detail:
            '`body.parts.0.quantity` is `string`, but `integer` is expected.',
          pointer: '#/parts/0/quantity',
        },
        // A number that is no integer is of the right kind: its range counts.
        {
          title: 'too_small',
          detail: '`body.parts.1.quantity` must not be less than 1.',
          pointer: '#/parts/1/quantity',
        },
        {
          title: 'invalid_type',
          detail:
            '`body.parts.1.quantity` is `number`, but `integer` is expected.',
          pointer: '#/parts/1/quantity',
        },
      ]);
    });

    it('validates query parameters', async () => {
      const body = await expectProblem(
        await fetch(url('/fixture/search?size=101')),
        400,
      );
      expect(body.errors).toEqual([
        {
          title: 'too_big',
          detail: '`query.size` must not be greater than 100.',
          parameter: 'size',
        },
      ]);
    });

    it('refuses keys named after what every object has, at any depth', async () => {
      // class-transformer drops such keys without a word, so the whitelist
      // never saw them: they passed as if the body had not sent them.
      const body = await expectProblem(
        await create({
          name: 'ok',
          constructor: 1,
          hasOwnProperty: 2,
          label: 'mine',
          parts: [{ quantity: 1, toString: 'x' }],
        }),
        400,
      );
      expect(body.errors).toEqual([
        {
          title: 'unrecognized_key',
          detail: '`body.constructor` is not allowed.',
          pointer: '#/constructor',
        },
        {
          title: 'unrecognized_key',
          detail: '`body.hasOwnProperty` is not allowed.',
          pointer: '#/hasOwnProperty',
        },
        {
          title: 'unrecognized_key',
          detail: '`body.label` is not allowed.',
          pointer: '#/label',
        },
        {
          title: 'unrecognized_key',
          detail: '`body.parts.0.toString` is not allowed.',
          pointer: '#/parts/0/toString',
        },
      ]);
      const query = await expectProblem(
        await fetch(url('/fixture/search?size=5&valueOf=1')),
        400,
      );
      expect(query.errors).toEqual([
        {
          title: 'unrecognized_key',
          detail: '`query.valueOf` is not allowed.',
          parameter: 'valueOf',
        },
      ]);
    });

    it('leaves free-form objects to the client, and keeps array checks beside item types', async () => {
      const free = await create({
        name: 'ok',
        labels: { valueOf: 'x', a: 'b' },
      });
      expect(free.status).toBe(201);
      const sizes = await create({
        name: 'ok',
        sizes: { size: 'L', get: 'M' },
      });
      expect(sizes.status).toBe(201);
      // A plain @IsString() given an array: its type, not its length.
      const scalar = await expectProblem(await create({ name: ['a'] }), 400);
      expect(scalar.errors).toEqual([
        {
          title: 'invalid_type',
          detail: '`body.name` is `array`, but `string` is expected.',
          pointer: '#/name',
        },
      ]);
      const body = await expectProblem(
        await create({ name: 'ok', tags: ['a', 'b', 'c', 5] }),
        400,
      );
      expect(body.errors).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ title: 'too_big', pointer: '#/tags' }),
          expect.objectContaining({ title: 'invalid_type', pointer: '#/tags' }),
        ]),
      );
    });

    it('passes valid input through', async () => {
      const response = await create({ name: 'ok', parts: [{ quantity: 2 }] });
      expect(response.status).toBe(201);
      // No declared self: the stand-in self (the posted URL) never becomes Location.
      expect(response.headers.get('location')).toBeNull();
      expect(await response.json()).toMatchObject({
        name: 'ok',
        parts: [{ quantity: 2 }],
      });
    });
  });

  describe('request id', () => {
    it('echoes a well-formed incoming id on success and error', async () => {
      const ok = await fetch(url('/fixture/widgets'), {
        headers: { 'x-request-id': 'abc-123' },
      });
      expect(ok.headers.get('x-request-id')).toBe('abc-123');
      const failed = await fetch(url('/fixture/not-found'), {
        headers: { 'x-request-id': 'abc-124' },
      });
      expect(failed.headers.get('x-request-id')).toBe('abc-124');
      expect((await expectProblem(failed, 404)).requestId).toBe('abc-124');
    });

    it('replaces a malformed id with a generated one', async () => {
      const response = await fetch(url('/fixture/widgets'), {
        headers: { 'x-request-id': 'bad id\twith junk' },
      });
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      const long = await fetch(url('/fixture/widgets'), {
        headers: { 'x-request-id': 'a'.repeat(200) },
      });
      expect(long.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('generates one when absent, also for body-parser errors', async () => {
      const response = await fetch(url('/fixture/widgets'), {
        method: 'POST',
        body: '{bad',
        headers: { 'content-type': 'application/json' },
      });
      const id = response.headers.get('x-request-id');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect((await expectProblem(response, 400)).requestId).toBe(id);
    });
  });
});

describe.each(ADAPTERS)('routes served outside Nest on %s', (adapter) => {
  let running: RunningApp;
  const url = (path: string) => `${running.baseUrl}${path}`;

  beforeAll(async () => {
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [FixtureAppModule] }),
      (app) => {
        // Mounted on the platform directly, as SwaggerModule.setup() does.
        const platform = app.getHttpAdapter();
        for (const path of [
          '/platform/early',
          '/platform/late',
          '/platform/undeclared',
        ])
          platform.get(path, (_request: unknown, response: unknown) =>
            platform.reply(response, 'ok', 200),
          );
        app.get(RouteTable).declareExternalRoute('get', '/platform/early');
      },
    );
    // Declared once the table is built, as a late mount would.
    running.app.get(RouteTable).declareExternalRoute('GET', '/platform/late');
  });
  afterAll(() => running.close());

  it('answers other methods on a declared path with 405 and Allow', async () => {
    for (const path of ['/platform/early', '/platform/late']) {
      expect((await fetch(url(path))).status).toBe(200);
      const response = await fetch(url(path), { method: 'POST' });
      expect(response.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
      await expectProblem(response, 405);
      const options = await fetch(url(path), { method: 'OPTIONS' });
      expect(options.status).toBe(204);
      expect(options.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    }
  });

  it('knows nothing of an undeclared one', async () => {
    await expectProblem(
      await fetch(url('/platform/undeclared'), { method: 'POST' }),
      404,
    );
  });

  it('refuses a declared path it cannot parse, when it is declared', () => {
    expect(() =>
      running.app.get(RouteTable).declareExternalRoute('GET', '/bad/{open'),
    ).toThrow();
  });
});

@Controller('stream')
class StreamController {
  /** A response that takes a while: headers and a first chunk now, the rest later. */
  @Get()
  stream(@Res() response: { raw?: ServerResponse; hijack?: () => void }) {
    const raw = (response.raw ?? response) as ServerResponse;
    response.hijack?.();
    raw.writeHead(200, { 'content-type': 'text/plain' });
    raw.write('first-part\n');
    setTimeout(() => raw.end('second-part\n'), 300);
  }
}

describe.each(ADAPTERS)(
  'a refused request behind a response under way on %s',
  (adapter) => {
    it('does not write a problem into the body being sent', async () => {
      @Module({
        imports: [HalProblemModule.forRoot({})],
        controllers: [StreamController],
      })
      class StreamModule {}
      const running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [StreamModule] }),
      );
      try {
        // The unknown method arrives once the stream has begun.
        const { port } = new URL(running.baseUrl);
        const body = await new Promise<string>((resolve, reject) => {
          let text = '';
          const socket = connect(Number(port), '127.0.0.1', () =>
            socket.write('GET /stream HTTP/1.1\r\nHost: x\r\n\r\n'),
          );
          socket.on('data', (chunk: Buffer) => {
            const before = text.includes('first-part');
            text += chunk.toString();
            if (!before && text.includes('first-part'))
              socket.write('FOO / HTTP/1.1\r\nHost: x\r\n\r\n');
          });
          socket.on('error', (error: NodeJS.ErrnoException) => {
            if (error.code !== 'ECONNRESET') reject(error);
          });
          socket.on('close', () => resolve(text));
        });
        expect(body).toContain('first-part');
        expect(body).not.toContain('HTTP/1.1 501');
      } finally {
        await running.close();
      }
    });
  },
);

describe.each(ADAPTERS)(
  "the platform's own body parser, without useStrictBodyParsing, on %s",
  (adapter) => {
    let running: RunningApp;

    beforeAll(async () => {
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [FixtureAppModule] }),
        undefined,
        { strictBodies: false },
      );
    });
    afterAll(() => running.close());

    it('answers a __proto__ key with 400 and pollutes nothing', async () => {
      const body = await expectProblem(
        await fetch(`${running.baseUrl}/fixture/widgets`, {
          method: 'POST',
          body: '{"name":"ok","__proto__":{"polluted":true}}',
          headers: { 'content-type': 'application/json' },
        }),
        400,
      );
      // Fastify's parser refuses the body; Express's keeps the key as a
      // plain one, which validation names (docs/problem-details.md).
      if (adapter === 'express')
        expect(body.errors).toEqual([
          {
            title: 'unrecognized_key',
            detail: '`body.__proto__` is not allowed.',
            pointer: '#/__proto__',
          },
        ]);
      else
        expect(body.detail).toBe(
          'The request body is malformed and could not be parsed.',
        );
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('answers a body nested too deeply for validation with 400, not 500', async () => {
      // No depth limit without useStrictBodyParsing: class-transformer then
      // recurses into every level and runs out of stack.
      const depth = 10_000;
      const body = await expectProblem(
        await fetch(`${running.baseUrl}/fixture/widgets`, {
          method: 'POST',
          body: `{"name":"ok","labels":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`,
          headers: { 'content-type': 'application/json' },
        }),
        400,
      );
      expect(body.errors).toEqual([
        {
          title: 'too_deep',
          detail: '`body` is nested too deeply to be validated.',
          pointer: '#',
        },
      ]);
      expect(JSON.stringify(body)).not.toMatch(/call stack|RangeError/i);
    });

    it('answers a body of nested arrays up to the size limit with too_deep', async () => {
      // 49,000 levels in 98 kB. The unknown-key walks copied the path at
      // each level (d²/2 copies): 24 s of CPU, the event loop blocked, before
      // the 400 (measured; the test then ran past Jest's 5 s timeout).
      const depth = 49_000;
      const body = await expectProblem(
        await fetch(`${running.baseUrl}/fixture/widgets`, {
          method: 'POST',
          body: `{"name":"ok","labels":${'['.repeat(depth)}${']'.repeat(depth)}}`,
          headers: { 'content-type': 'application/json' },
        }),
        400,
      );
      expect((body.errors as { title: string }[])[0].title).toBe('too_deep');
    });

    it("never sends a decompression library's message", async () => {
      // Express's parser inflates gzip: garbage fails in zlib ("incorrect
      // header check"), which it passes on as a 400 with zlib's message.
      // Fastify does not inflate: the bytes are malformed JSON.
      const response = await fetch(`${running.baseUrl}/fixture/widgets`, {
        method: 'POST',
        body: 'not gzip at all',
        headers: {
          'content-type': 'application/json',
          'content-encoding': 'gzip',
        },
      });
      const text = await response.clone().text();
      const body = await expectProblem(response, 400);
      expect(text).not.toMatch(/header check|zlib|Z_DATA_ERROR/i);
      expect(body.detail).toBe(
        adapter === 'express'
          ? 'The request body could not be decoded with its Content-Encoding.'
          : 'The request body is malformed and could not be parsed.',
      );
    });
  },
);

// Router options Fastify reads at creation: the route table must match as
// its router does, so a 405 and OPTIONS answer where GET is served.
describe.each([
  [
    'ignoreDuplicateSlashes',
    { ignoreDuplicateSlashes: true },
    '//fixture//widgets',
  ],
  [
    'useSemicolonDelimiter',
    { useSemicolonDelimiter: true },
    '/fixture/widgets;v=1',
  ],
])('Fastify with %s', (_name, fastify, target) => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startTestingApp(
      'fastify',
      Test.createTestingModule({ imports: [FixtureAppModule] }),
      undefined,
      { fastify },
    );
  });
  afterAll(() => running.close());

  it(`offers the methods of ${target} as its router serves it`, async () => {
    const path = `${running.baseUrl}${target}`;
    expect((await fetch(path)).status).toBe(200);
    const put = await fetch(path, { method: 'PUT' });
    expect(put.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS');
    await expectProblem(put, 405);
    const options = await fetch(path, { method: 'OPTIONS' });
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS');
  });
});
