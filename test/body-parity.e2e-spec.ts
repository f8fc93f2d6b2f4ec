import { Body, Controller, HttpCode, Module, Post } from '@nestjs/common';
import { gzipSync } from 'node:zlib';
import {
  HalProblemModule,
  SkipHal,
  useStrictBodyParsing,
} from 'nestjs-hal-problem';
import {
  ADAPTERS,
  startSample,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';
import { expectProblem } from './support/problem-assertions';
import { socketRequest } from './support/raw-http';
import { authorized, tokenFor } from './support/sample-client';

type Json = Record<string, any>;
const LIMIT = 4096;
const ORDER = JSON.stringify({
  items: [{ sku: 'book', quantity: 2, unitPrice: 12.5 }],
  currency: 'EUR',
});

/**
 * Bodies that Express and Fastify used to answer differently (found by a
 * review sending the same bytes to both): the same contract now holds.
 */
describe.each(ADAPTERS)('request bodies the same way on %s', (adapter) => {
  let running: RunningApp;
  let api: ReturnType<typeof authorized>;
  let token: string;
  const post = (
    path: string,
    body: string | Uint8Array | undefined,
    headers: Record<string, string>,
  ) => api(path, { method: 'POST', body, headers });

  beforeAll(async () => {
    running = await startSample(adapter, {
      BODY_LIMIT: `${LIMIT}b`,
      THROTTLE_LIMIT: '100000',
    });
    token = await tokenFor(running.baseUrl);
    api = authorized(running.baseUrl, token);
  });
  afterAll(() => running.close());

  it('takes an empty body labelled JSON on a route that reads none', async () => {
    const response = await post('/reports', '', {
      'content-type': 'application/json',
    });
    expect(response.status).toBe(202);
  });

  it.each([
    '{"__proto__":{"polluted":1}}',
    '{"\\u005f_proto__":{"polluted":1}}',
    '{"\\u0063onstructor":{"prototype":{"polluted":1}}}',
  ])(
    'refuses the poisoned key of %s with 400 even where no DTO reads the body',
    async (text) => {
      await expectProblem(
        await post('/reports', text, { 'content-type': 'application/json' }),
        400,
      );
      expect(({} as Json).polluted).toBeUndefined();
    },
  );

  it('reads an empty body labelled JSON as {} where a body is expected', async () => {
    const body = await expectProblem(
      await post('/orders', '', { 'content-type': 'application/json' }),
      400,
    );
    expect(body.detail).toBe('Request failed validation');
    expect((body.errors as Json[]).map((error) => error.pointer)).toEqual(
      expect.arrayContaining(['#/items', '#/currency']),
    );
  });

  it.each(['"x"', '1', 'null', 'true'])(
    'answers the JSON text %s as a body of the wrong type, with a pointer',
    async (text) => {
      const body = await expectProblem(
        await post('/orders', text, { 'content-type': 'application/json' }),
        400,
      );
      expect(body.errors).toEqual([
        expect.objectContaining({ title: 'invalid_type', pointer: '#' }),
      ]);
    },
  );

  it('refuses application/+json, which is no media type, with 415', async () => {
    await expectProblem(
      await post('/orders', ORDER, { 'content-type': 'application/+json' }),
      415,
    );
  });

  it('takes a structured-syntax JSON type', async () => {
    const response = await post('/orders', ORDER, {
      'content-type': 'application/vnd.orders+json',
    });
    expect(response.status).toBe(201);
  });

  it.each(['utf8', 'latin1'])(
    'refuses charset=%s with 415 (UTF-8 only)',
    async (charset) => {
      await expectProblem(
        await post('/orders', ORDER, {
          'content-type': `application/json; charset=${charset}`,
        }),
        415,
      );
    },
  );

  it('takes charset=UTF-8', async () => {
    const response = await post('/orders', ORDER, {
      'content-type': 'application/json; charset=UTF-8',
    });
    expect(response.status).toBe(201);
  });

  it('refuses a gzip-encoded body with 415, naming the coding it takes', async () => {
    const response = await post('/orders', gzipSync(ORDER), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    // RFC 9110 §12.5.3.
    expect(response.headers.get('accept-encoding')).toBe('identity');
    const body = await expectProblem(response, 415);
    expect(body.detail).toBe(
      'The content encoding of the request body is not supported.',
    );
  });

  it.each(['__proto__=x', '%5F%5Fproto%5F%5F=x'])(
    'refuses a form with a __proto__ key (%s) with 400',
    async (extra) => {
      const response = await fetch(`${running.baseUrl}/oauth/token`, {
        method: 'POST',
        body: `grant_type=client_credentials&client_id=writer&client_secret=writer-secret&${extra}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      await expectProblem(response, 400);
    },
  );

  it('answers a body declared over the limit with 413 at once, and closes the connection', async () => {
    // 1 byte sent of the 40 kB declared: an answer that waited for the rest
    // would never come (status 0 after 3 s without data).
    const response = await socketRequest(
      running.baseUrl,
      [
        'POST /orders HTTP/1.1',
        `Host: localhost`,
        `Authorization: Bearer ${token}`,
        'Content-Type: application/json',
        `Content-Length: ${LIMIT * 10}`,
        '',
        '{',
      ].join('\r\n'),
      3_000,
    );
    expect(response.status).toBe(413);
    expect(response.headers['content-type']).toMatch(
      /^application\/problem\+json/,
    );
    expect((JSON.parse(response.body) as Json).limit).toBe(LIMIT);
  });

  // GET and HEAD content has no meaning (RFC 9110 §9.3.1, §9.3.2), and
  // Fastify never reads it: Express answered these with 400 and 413.
  it.each([
    ['GET', 'malformed', '{oops', 5],
    ['HEAD', 'malformed', '{oops', 5],
    ['GET', 'declared over the limit', '{', LIMIT * 10],
  ])(
    'reads no content of a %s (%s JSON)',
    async (method, _what, body, length) => {
      const response = await socketRequest(
        running.baseUrl,
        [
          `${method} /orders HTTP/1.1`,
          `Host: localhost`,
          `Authorization: Bearer ${token}`,
          'Content-Type: application/json',
          `Content-Length: ${length}`,
          'Connection: close',
          '',
          body,
        ].join('\r\n'),
        3_000,
      );
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(
        /^application\/hal\+json/,
      );
    },
  );
});

@Controller('echo')
class EchoController {
  @Post()
  @HttpCode(200)
  @SkipHal()
  echo(@Body() body: unknown): unknown {
    return body;
  }
}

@Module({
  // No `bodyLimit` option: the 413 reports the limit the parsers enforce.
  imports: [HalProblemModule.forRoot({ validation: false })],
  controllers: [EchoController],
})
class NoReportedLimitModule {}

describe.each(ADAPTERS)('the limit a 413 reports on %s', (adapter) => {
  it('is the one useStrictBodyParsing enforces when the module sets none', async () => {
    const running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [NoReportedLimitModule] }),
    );
    try {
      // startTestingApp enforces 100 KiB on both platforms. Chunked, so
      // that Express's parser reaches its limit while reading (a declared
      // Content-Length over it is refused before the parser, with it).
      const response = await fetch(`${running.baseUrl}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new Blob([
          JSON.stringify({ pad: 'x'.repeat(150 * 1024) }),
        ]).stream(),
        duplex: 'half',
      });
      const body = await expectProblem(response, 413);
      expect(body.limit).toBe(100 * 1024);
    } finally {
      await running.close();
    }
  });
});

describe.each(ADAPTERS)(
  'useStrictBodyParsing after init() on %s',
  (adapter) => {
    // Express took the parsers silently behind the routes, which then read
    // no body at all (a malformed one answered 200); Fastify refused with
    // its own "already started". Both now say when to call it.
    it('refuses, saying to call it before app.init() or app.listen()', async () => {
      const running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [NoReportedLimitModule] }),
        undefined,
        { strictBodies: false },
      );
      try {
        expect(() =>
          useStrictBodyParsing(running.app, { limit: 1024 }),
        ).toThrow(
          'useStrictBodyParsing: call it before app.init() or app.listen(); this app is initialized already, so no route would get its parsers',
        );
      } finally {
        await running.close();
      }
    });
  },
);
