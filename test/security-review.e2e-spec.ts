import {
  Body,
  Controller,
  Get,
  HttpException,
  InternalServerErrorException,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import {
  Consumes,
  HalLink,
  HalProblemModule,
  HalResource,
  Idempotent,
  ProblemException,
  RedisIdempotencyStore,
  RedisThrottlerStorage,
} from 'nestjs-hal-problem';
import { ThrottlerModule } from '@nestjs/throttler';
import type { Redis } from 'ioredis';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  ADAPTERS,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';
import { rawRequest, socketRequest } from './support/raw-http';

/**
 * An adversarial pass over what a client controls (paths, queries, headers,
 * body values) and what an app's handler may hand back, on both platforms:
 * nothing a client sends is echoed without bound or unencoded into a header,
 * and nothing internal reaches a 5xx body.
 */
const MARKER = 'SECRET-MARKER-5e1f';

@HalLink('self', '/review/items/{id}')
@HalLink('search', '/review/search{?q}')
class ItemResource {}

/** Results the writer cannot serialize, each carrying the marker. */
const UNRENDERABLE: Record<string, () => unknown> = {
  'throwing toJSON': () => ({
    id: '1',
    x: {
      toJSON(): never {
        throw new Error(MARKER);
      },
    },
  }),
  'throwing getter': () => ({
    id: '1',
    get x(): never {
      throw new Error(MARKER);
    },
  }),
  circular: () => {
    const value: Record<string, unknown> = { id: '1', note: MARKER };
    value.self = value;
    return value;
  },
  'rejected promise': () => Promise.reject(new Error(MARKER)),
};

/** Errors an app throws whose message is not for the client. */
const INTERNAL_ERRORS: Record<string, () => unknown> = {
  InternalServerErrorException: () => new InternalServerErrorException(MARKER),
  'HttpException 500 object': () =>
    new HttpException({ message: MARKER, detail: MARKER, error: MARKER }, 500),
  'HttpException 502 with cause': () =>
    new HttpException('x', 502, { cause: new Error(MARKER) }),
  'a Redis error': () =>
    Object.assign(new Error(`connect ECONNREFUSED 10.0.0.7:6379 ${MARKER}`), {
      code: 'ECONNREFUSED',
    }),
  'an error claiming status 400': () =>
    Object.assign(new Error(MARKER), { status: 400, expose: true }),
};

@Controller('review')
class ReviewController {
  @Post('items')
  @HalResource(ItemResource)
  create(@Body() body: { id: unknown; q: unknown }) {
    return { id: body.id, q: body.q };
  }

  @Post('render/:kind')
  @HalResource(ItemResource)
  render(@Param('kind') kind: string): unknown {
    return UNRENDERABLE[kind]();
  }

  @Post('plain/:kind')
  plain(@Param('kind') kind: string): unknown {
    return UNRENDERABLE[kind]();
  }

  @Post('throw/:kind')
  throwIt(@Param('kind') kind: string): never {
    throw INTERNAL_ERRORS[kind]();
  }

  @Post('problem-headers')
  problemHeaders(): never {
    throw new ProblemException(409, {
      headers: {
        'X-Split': 'a\r\nX-Injected: 1',
        'X-Nul': 'a\u0000b',
        'X-Kept': 'plain',
      },
    });
  }

  @Get('query')
  query(@Query() query: Record<string, unknown>) {
    return {
      keys: Object.keys(query),
      polluted: ({} as Record<string, unknown>).polluted ?? null,
    };
  }

  /** Data with an own `__proto__` key, as JSON.parse gives it (a stored document, say). */
  @Get('parsed/:links')
  @HalResource(ItemResource)
  parsed(@Param('links') links: string): unknown {
    const data = JSON.parse('{"id":"1","__proto__":{"x":1}}') as object;
    // A `_links` key of its own (as embedded properties do) makes the
    // renderer copy the members one by one rather than spread them.
    return links === 'own' ? { _links: undefined, ...data } : data;
  }

  @Get('things/:id')
  thing(@Param('id') id: string) {
    return { id };
  }

  @Post('json-only')
  @Consumes('application/json')
  jsonOnly() {
    return { ok: true };
  }
}

/** The response as its bytes came: header values exactly as written. */
function send(
  running: RunningApp,
  method: string,
  target: string,
  headers: Record<string, string> = {},
  body = '',
) {
  const lines = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return socketRequest(
    running.baseUrl,
    `${method} ${target} HTTP/1.1\r\nHost: x\r\n${lines}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };

describe.each(ADAPTERS)('security review on %s', (adapter) => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({
        imports: [
          HalProblemModule.forRoot({
            validation: false,
            acceptedContentTypes: ['application/json', 'application/*+json'],
          }),
        ],
        controllers: [ReviewController],
      }),
      undefined,
      // A path parameter as long as Express takes one, for the 405 below.
      { fastify: { maxParamLength: 8000 } },
    );
  });
  afterAll(() => running.close());

  describe('5xx bodies', () => {
    it.each(Object.keys(UNRENDERABLE))(
      'a HAL result with a %s is a bare 500',
      async (kind) => {
        for (const route of ['render', 'plain']) {
          const response = await send(
            running,
            'POST',
            `/review/${route}/${encodeURIComponent(kind)}`,
          );
          expect(response.status).toBe(500);
          expect(response.body).not.toContain(MARKER);
          expect(response.body).not.toMatch(/\bat \S+ \(|\.[jt]s:\d+/);
          expect(JSON.parse(response.body)).toMatchObject({
            detail:
              'The server encountered an unexpected condition and could not complete the request.',
          });
        }
      },
    );

    it.each(Object.keys(INTERNAL_ERRORS))(
      '%s never reaches the body',
      async (kind) => {
        const response = await send(
          running,
          'POST',
          `/review/throw/${encodeURIComponent(kind)}`,
        );
        expect(response.status).toBeGreaterThanOrEqual(500);
        expect(response.body).not.toContain(MARKER);
        expect(response.body).not.toContain('6379');
      },
    );
  });

  describe('response headers from client data', () => {
    it('percent-encodes CR, LF, NUL and non-ASCII of a created id in Location and links', async () => {
      const response = await send(
        running,
        'POST',
        '/review/items',
        JSON_HEADERS,
        JSON.stringify({ id: 'a\r\nX-Injected: 1\u0000é', q: 'x\r\ny' }),
      );
      expect(response.status).toBe(201);
      expect(response.headers['x-injected']).toBeUndefined();
      expect(response.headers.location).toBe(
        '/review/items/a%0D%0AX-Injected%3A%201%00%C3%A9',
      );
      expect(JSON.parse(response.body)._links.search.href).toBe(
        '/review/search?q=x%0D%0Ay',
      );
    });

    it('drops a problem header with CR, LF or NUL and keeps the others', async () => {
      const response = await send(running, 'POST', '/review/problem-headers');
      expect(response.status).toBe(409);
      expect(response.headers['x-injected']).toBeUndefined();
      expect(response.headers['x-split']).toBeUndefined();
      expect(response.headers['x-nul']).toBeUndefined();
      expect(response.headers['x-kept']).toBe('plain');
    });

    it('never echoes a request id it did not accept', async () => {
      for (const sent of ['a'.repeat(129), 'a b', 'a"b', '-a']) {
        const response = await send(running, 'GET', '/review/query', {
          'X-Request-Id': sent,
        });
        expect(response.headers['x-request-id']).not.toBe(sent);
        expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      }
    });
  });

  describe('what a problem repeats of the request', () => {
    it("names an unknown expectation's path in the 417, never its query", async () => {
      // The query may carry a token (RFC 6750 §2.3): no other problem repeats it.
      const response = await rawRequest(
        running.baseUrl,
        '/review/query?access_token=SECRET-TOKEN&x=1',
        { expect: 'teapot' },
      );
      expect(response.status).toBe(417);
      expect(response.body).not.toContain('SECRET-TOKEN');
      expect(JSON.parse(response.body)).toMatchObject({
        instance: '/review/query',
      });
    });

    it('shortens a long path in the detail of a 404 and a 405, and keeps it whole in instance', async () => {
      const path = `/review/${'a'.repeat(4000)}`;
      const notFound = await send(running, 'GET', path);
      expect(notFound.status).toBe(404);
      const body = JSON.parse(notFound.body) as Record<string, string>;
      expect(body.instance).toBe(path);
      expect(body.detail).toBe(`Nothing is served at ${path.slice(0, 128)}….`);

      const file = `/review/things/${'b'.repeat(4000)}`;
      const refused = await send(running, 'PUT', file);
      expect(refused.status).toBe(405);
      expect(JSON.parse(refused.body)).toMatchObject({
        detail: `PUT is not supported by ${file.slice(0, 128)}…; use GET, HEAD, OPTIONS.`,
        instance: file,
      });
    });

    it("shortens a long media type in a 415's detail", async () => {
      const type = `application/${'a'.repeat(4000)}+json`;
      const response = await send(
        running,
        'POST',
        '/review/json-only',
        { 'Content-Type': type },
        '{}',
      );
      expect(response.status).toBe(415);
      const { detail } = JSON.parse(response.body) as { detail: string };
      expect(detail.length).toBeLessThan(200);
      expect(detail).not.toContain('a'.repeat(200));
    });

    it("names a short media type in a 415's detail as it was sent", async () => {
      const response = await send(
        running,
        'POST',
        '/review/json-only',
        { 'Content-Type': 'application/vnd.acme+json' },
        '{}',
      );
      expect(response.status).toBe(415);
      expect(JSON.parse(response.body).detail).toBe(
        'The media type application/vnd.acme+json is not accepted here.',
      );
    });
  });

  describe('prototype keys', () => {
    it('keeps __proto__ and constructor query keys as plain names and pollutes nothing', async () => {
      const response = await send(
        running,
        'GET',
        '/review/query?__proto__[polluted]=1&constructor[prototype][polluted]=1&__proto__=x',
      );
      expect(response.status).toBe(200);
      expect(JSON.parse(response.body)).toMatchObject({
        keys: [
          '__proto__[polluted]',
          'constructor[prototype][polluted]',
          '__proto__',
        ],
        polluted: null,
      });
    });

    it.each(['own', 'none'])(
      'renders an own __proto__ member of a result as data (_links: %s)',
      async (links) => {
        const response = await send(running, 'GET', `/review/parsed/${links}`);
        expect(response.status).toBe(200);
        expect(response.body).toContain('"__proto__":{"x":1}');
        expect(({} as Record<string, unknown>).x).toBeUndefined();
      },
    );

    it.each([
      ['__proto__', '{"id":"1","__proto__":{"polluted":1}}'],
      ['escaped __proto__', '{"id":"1","\\u005f_proto__":{"polluted":1}}'],
      ['constructor.prototype', '{"constructor":{"prototype":{"polluted":1}}}'],
    ])('refuses a JSON body with %s', async (_name, body) => {
      const response = await send(
        running,
        'POST',
        '/review/items',
        JSON_HEADERS,
        body,
      );
      expect(response.status).toBe(400);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });
});

describe.each(ADAPTERS)("instance: 'urn-uuid' on %s", (adapter) => {
  it('holds for the 417 of an unknown expectation too', async () => {
    const running = await startTestingApp(
      adapter,
      Test.createTestingModule({
        imports: [HalProblemModule.forRoot({ instance: 'urn-uuid' })],
        controllers: [ReviewController],
      }),
    );
    try {
      const response = await rawRequest(running.baseUrl, '/review/query?x=1', {
        expect: 'teapot',
      });
      expect(response.status).toBe(417);
      expect(JSON.parse(response.body).instance).toMatch(
        /^urn:uuid:[0-9a-f-]{36}$/,
      );
    } finally {
      await running.close();
    }
  });
});

/** Takes JSON and raw bytes (an upload), each under one idempotency key. */
@Controller('blobs')
class BlobsController {
  @Post()
  @Idempotent()
  store(@Body() body: unknown) {
    return { bytes: Buffer.isBuffer(body) ? body.length : null };
  }
}

describe.each(ADAPTERS)('idempotency fingerprints on %s', (adapter) => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({
        imports: [
          HalProblemModule.forRoot({
            validation: false,
            acceptedContentTypes: [
              'application/json',
              'application/octet-stream',
            ],
          }),
        ],
        controllers: [BlobsController],
      }),
      (app) => {
        // Raw bytes as each platform's own parser hands them over: a Buffer.
        if (adapter === 'express')
          (app as NestExpressApplication).useBodyParser('raw', {
            type: 'application/octet-stream',
          });
        else
          (app as NestFastifyApplication).useBodyParser(
            'application/octet-stream',
          );
      },
    );
  });
  afterAll(() => running.close());

  const post = (key: string, contentType: string, body: Uint8Array | string) =>
    fetch(`${running.baseUrl}/blobs`, {
      method: 'POST',
      headers: { 'content-type': contentType, 'idempotency-key': key },
      body,
    });

  it('tells a byte body from the JSON object of its indices', async () => {
    // A Buffer was fingerprinted as the object {"0":1,"1":2}, index by index.
    const first = await post('k1', 'application/json', '{"0":1,"1":2}');
    expect(first.status).toBe(201);
    const bytes = await post(
      'k1',
      'application/octet-stream',
      Uint8Array.of(1, 2),
    );
    expect(bytes.status).toBe(422);
    expect(bytes.headers.get('idempotent-replayed')).toBeNull();
  });

  it('replays the same bytes and refuses other bytes under one key', async () => {
    const body = new Uint8Array(64 * 1024).fill(7);
    const created = await post('k2', 'application/octet-stream', body);
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ bytes: 64 * 1024 });
    const replayed = await post('k2', 'application/octet-stream', body);
    expect(replayed.status).toBe(200);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    const other = body.slice();
    other[100] = 8;
    expect((await post('k2', 'application/octet-stream', other)).status).toBe(
      422,
    );
  });
});

/** A Redis client whose every command fails as an unreachable server's does. */
function unreachableRedis(): Redis {
  return new Proxy({} as Redis, {
    get: (_target, name) =>
      name === 'then'
        ? undefined
        : name === 'defineCommand'
          ? () => undefined
          : () =>
              Promise.reject(
                Object.assign(
                  new Error(
                    `connect ECONNREFUSED 10.0.0.7:6379 (password ${MARKER})`,
                  ),
                  { code: 'ECONNREFUSED' },
                ),
              ),
  });
}

describe.each(ADAPTERS)('Redis unreachable on %s', (adapter) => {
  it("answers 503 without the client's error text, for the throttler and the idempotency store", async () => {
    const redis = unreachableRedis();
    for (const throttled of [true, false]) {
      const running = await startTestingApp(
        adapter,
        Test.createTestingModule({
          imports: [
            ...(throttled
              ? [
                  ThrottlerModule.forRoot({
                    throttlers: [{ ttl: 60_000, limit: 10 }],
                    storage: new RedisThrottlerStorage(redis),
                  }),
                ]
              : []),
            HalProblemModule.forRoot({
              validation: false,
              throttle: { onStorageError: 'fail-closed' },
              idempotency: { store: new RedisIdempotencyStore(redis) },
            }),
          ],
          controllers: [BlobsController],
        }),
      );
      try {
        const response = await fetch(`${running.baseUrl}/blobs`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': 'k',
          },
          body: '{}',
        });
        const text = await response.text();
        expect(response.status).toBe(503);
        expect(text).not.toMatch(/ECONNREFUSED|6379|10\.0\.0\.7|password/);
        expect(text).not.toContain(MARKER);
      } finally {
        await running.close();
      }
    }
  });
});

describe.each(ADAPTERS)('forwarded headers in links on %s', (adapter) => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({
        imports: [
          HalProblemModule.forRoot({
            validation: false,
            hal: { links: 'request', trustProxy: 1 },
          }),
        ],
        controllers: [ReviewController],
      }),
    );
  });
  afterAll(() => running.close());

  it.each([
    ['a host that is not one', { 'X-Forwarded-Host': 'évil.example' }],
    ['a host with a path', { 'X-Forwarded-Host': 'evil.example/x' }],
    ['a host with userinfo', { 'X-Forwarded-Host': 'a@evil.example' }],
    ['a scheme that is not http(s)', { 'X-Forwarded-Proto': 'javascript' }],
    ['a prefix beyond ASCII', { 'X-Forwarded-Prefix': '/évil' }],
    [
      'a prefix naming another host',
      { 'X-Forwarded-Prefix': '//evil.example' },
    ],
    ['a prefix with a quote', { 'X-Forwarded-Prefix': '/"evil' }],
  ])('ignores %s in Location and links', async (_name, headers) => {
    const response = await send(
      running,
      'POST',
      '/review/items',
      { ...JSON_HEADERS, ...headers },
      JSON.stringify({ id: '1' }),
    );
    expect(response.status).toBe(201);
    expect(response.headers.location).toBe('http://x/review/items/1');
    expect(response.body).not.toMatch(/evil|javascript/);
  });
});
