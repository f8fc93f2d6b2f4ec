import {
  BadRequestException,
  Body,
  Controller,
  Get,
  Header,
  type MiddlewareConsumer,
  Module,
  type NestMiddleware,
  type NestModule,
  NotFoundException,
  Param,
  Post,
  RequestMethod,
} from '@nestjs/common';
import { connect } from 'node:net';
import {
  HalLink,
  HalProblemModule,
  HalResource,
  Idempotent,
  ProblemException,
} from 'nestjs-hal-problem';
import {
  ADAPTERS,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';
import { expectProblem } from './support/problem-assertions';

/** Headers that describe a success representation or its caching. */
const SUCCESS_HEADERS: Record<string, string> = {
  'Cache-Control': 'public, max-age=86400',
  // Cache-Control for a CDN (RFC 9213), which then ignores the plain one:
  // left on a 500, the CDN serves it as fresh for a day.
  'CDN-Cache-Control': 'max-age=86400',
  'Cloudflare-CDN-Cache-Control': 'max-age=86400',
  'Surrogate-Control': 'max-age=86400',
  Expires: 'Thu, 01 Jan 2099 00:00:00 GMT',
  ETag: '"v1"',
  'Last-Modified': 'Thu, 01 Jan 2026 00:00:00 GMT',
  'Content-Disposition': 'attachment; filename="r.csv"',
  'Content-Location': '/hardening/report.csv',
  'Content-Language': 'en',
  'Content-Range': 'bytes 0-9/10',
  Location: '/hardening/report.csv',
  // A pre-compressed download's coding and digests: left on the problem,
  // a client inflates its plain JSON and fails (or rejects its digest).
  'Content-Encoding': 'gzip',
  'Content-Digest': 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:',
  'Repr-Digest': 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:',
  Digest: 'SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=',
};

/** Headers that still hold for the error response. */
const KEPT_HEADERS: Record<string, string> = {
  Vary: 'Accept-Language',
  'Access-Control-Expose-Headers': 'X-Trace',
  'X-Trace': 't1',
};

/** Renders, gets its Location, then cannot be serialized (a BigInt). */
@HalLink('self', '/hardening/items/{id}')
class UnserializableItemResource {}

function withHeaders(): MethodDecorator {
  return (target, key, descriptor) => {
    for (const [name, value] of Object.entries({
      ...SUCCESS_HEADERS,
      ...KEPT_HEADERS,
    }))
      Header(name, value)(target, key, descriptor);
  };
}

/** BadRequestException bodies that cannot be read without throwing. */
const UNREADABLE_BODIES: Record<string, () => object> = {
  'throwing-getter': () => ({
    message: 'g',
    get boom(): never {
      throw new Error('x');
    },
  }),
  'null-prototype-item': () => ({ message: [Object.create(null) as object] }),
  'throwing-to-string': () => ({
    message: [
      'fine',
      {
        toString(): never {
          throw new Error('x');
        },
      },
    ],
  }),
};

@Controller('hardening')
class HardeningController {
  @Get('report/:kind')
  @withHeaders()
  report(@Param('kind') kind: string): never {
    if (kind === 'bad') throw new BadRequestException('No such report.');
    if (kind === 'unavailable')
      throw ProblemException.serviceUnavailable('Down.', { retryAfter: 5 });
    if (kind === 'own')
      throw new ProblemException(503, {
        headers: { 'Cache-Control': 'no-store', 'Content-Language': 'de' },
      });
    throw new Error('disk on fire');
  }

  @Post('items')
  @Header('Vary', 'Accept-Language')
  @HalResource(UnserializableItemResource)
  createItem(): { id: number; total: bigint } {
    return { id: 1, total: BigInt(1) };
  }

  @Post('ledger')
  @Idempotent()
  @Header('Cache-Control', 'public, max-age=600')
  @Header('CDN-Cache-Control', 'max-age=600')
  @Header('ETag', '"ledger"')
  ledger(): never {
    throw new Error('ledger unavailable');
  }

  @Get('framing')
  framing(): never {
    throw new ProblemException(400, {
      detail: 'Framing headers.',
      headers: {
        'Transfer-Encoding': 'chunked',
        'Content-Length': '5',
        Connection: 'upgrade',
        'Keep-Alive': 'timeout=99',
        Upgrade: 'websocket',
        TE: 'trailers',
        Trailer: 'X-Sum',
        'Proxy-Connection': 'keep-alive',
        'Content-Type': 'text/html',
        'X-Request-Id': 'forged',
        'X-Kept': 'yes',
      },
    });
  }

  @Get('unreadable/:kind')
  unreadable(@Param('kind') kind: string): never {
    throw new BadRequestException(UNREADABLE_BODIES[kind]());
  }

  @Get('things')
  things(): { items: string[] } {
    return { items: [] };
  }

  @Post('forms')
  form(@Body() body: unknown): unknown {
    return { received: body };
  }
}

/** An app's own middleware that refuses some tenants with a 404. */
class TenantMiddleware implements NestMiddleware {
  use(
    request: { headers: Record<string, unknown> },
    _response: unknown,
    next: () => void,
  ): void {
    if (request.headers['x-tenant'] === 'bad')
      throw new NotFoundException('Tenant bad does not exist');
    next();
  }
}

/** Throws a value that even `instanceof` cannot look at. */
class HostileMiddleware implements NestMiddleware {
  use(): void {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the point: not an Error
    throw new Proxy(
      {},
      {
        getPrototypeOf() {
          throw new Error('no prototype for you');
        },
      },
    );
  }
}

@Module({
  imports: [
    HalProblemModule.forRoot({ idempotency: { storeServerErrors: true } }),
  ],
  controllers: [HardeningController],
})
class HardeningModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer
      .apply(TenantMiddleware)
      .forRoutes({ path: 'hardening/things', method: RequestMethod.ALL });
    consumer
      .apply(HostileMiddleware)
      .forRoutes({ path: 'hardening/hostile', method: RequestMethod.ALL });
  }
}

/** The status line and headers of a response, read off the socket: framing a client would refuse is still visible. */
function responseHead(
  baseUrl: string,
  path: string,
): Promise<{ status: number; headers: [string, string][] }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect(Number(port), hostname, () =>
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`,
      ),
    );
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const end = text.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.destroy();
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      resolve({
        status: Number(statusLine.split(' ')[1]),
        headers: lines.map((line) => {
          const colon = line.indexOf(':');
          return [
            line.slice(0, colon).trim().toLowerCase(),
            line.slice(colon + 1).trim(),
          ];
        }),
      });
    });
    socket.on('error', reject);
  });
}

describe.each(ADAPTERS)('problem hardening on %s', (adapter) => {
  let running: RunningApp;
  const url = (path: string) => `${running.baseUrl}${path}`;

  beforeAll(async () => {
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [HardeningModule] }),
      undefined,
      // The platforms' own body parsers, as an app that does not opt in has them.
      { strictBodies: false },
    );
  });
  afterAll(() => running.close());

  describe('headers of the success representation', () => {
    it.each([
      ['error', 500],
      ['bad', 400],
      ['unavailable', 503],
    ])(
      'are not sent on the %s problem, the others are',
      async (kind, status) => {
        const response = await fetch(url(`/hardening/report/${kind}`));
        await expectProblem(response, status);
        for (const name of Object.keys(SUCCESS_HEADERS))
          if (name !== 'ETag')
            expect([name, response.headers.get(name)]).toEqual([name, null]);
        // Express tags every body it sends, the problem's too: its own tag is fine.
        expect(response.headers.get('etag')).not.toBe(SUCCESS_HEADERS.ETag);
        for (const [name, value] of Object.entries(KEPT_HEADERS))
          expect(response.headers.get(name)).toBe(value);
        if (kind === 'unavailable')
          expect(response.headers.get('retry-after')).toBe('5');
      },
    );

    it("keep the problem's own headers of the same names", async () => {
      const response = await fetch(url('/hardening/report/own'));
      await expectProblem(response, 503);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('content-language')).toBe('de');
      expect(response.headers.get('etag')).not.toBe(SUCCESS_HEADERS.ETag);
    });

    it('drop Location when rendering a creation fails, and keep Vary', async () => {
      const response = await fetch(url('/hardening/items'), { method: 'POST' });
      await expectProblem(response, 500);
      expect(response.headers.get('location')).toBeNull();
      expect(response.headers.get('vary')).toContain('Accept-Language');
    });

    it('are not replayed with a stored 5xx either', async () => {
      const send = () =>
        fetch(url('/hardening/ledger'), {
          method: 'POST',
          headers: { 'idempotency-key': '"hardening-ledger"' },
        });
      const first = await send();
      await expectProblem(first, 500);
      expect(first.headers.get('cache-control')).toBeNull();
      const replay = await send();
      expect(replay.status).toBe(500);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.headers.get('content-type')).toMatch(
        /^application\/problem\+json/,
      );
      expect(replay.headers.get('cache-control')).toBeNull();
      expect(replay.headers.get('cdn-cache-control')).toBeNull();
      expect(replay.headers.get('etag')).not.toBe('"ledger"');
    });
  });

  describe("a ProblemException's headers", () => {
    it('never set the framing, the media type or the request id', async () => {
      const head = await responseHead(running.baseUrl, '/hardening/framing');
      expect(head.status).toBe(400);
      const names = head.headers.map(([name]) => name);
      for (const name of [
        'transfer-encoding',
        'keep-alive',
        'upgrade',
        'te',
        'trailer',
        'proxy-connection',
      ])
        expect([name, names.includes(name)]).toEqual([name, false]);
      const values = Object.fromEntries(head.headers);
      expect(values['content-length']).not.toBe('5');
      expect(values.connection).not.toMatch(/upgrade/i);
      expect(values['content-type']).toMatch(/^application\/problem\+json/);
      expect(values['x-kept']).toBe('yes');

      const response = await fetch(url('/hardening/framing'));
      const body = await expectProblem(response, 400);
      expect(body.requestId).not.toBe('forged');
    });
  });

  describe("an app middleware's NotFoundException", () => {
    it.each(['GET', 'OPTIONS', 'DELETE'])(
      'is answered as thrown on %s',
      async (method) => {
        const response = await fetch(url('/hardening/things'), {
          method,
          headers: { 'x-tenant': 'bad' },
        });
        const body = await expectProblem(response, 404);
        expect(body.detail).toBe('Tenant bad does not exist');
        expect(response.headers.get('allow')).toBeNull();
      },
    );

    it("leaves the router's own 404 its 405 and OPTIONS answers", async () => {
      const deleted = await fetch(url('/hardening/things'), {
        method: 'DELETE',
      });
      expect(deleted.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
      await expectProblem(deleted, 405);
      const options = await fetch(url('/hardening/things'), {
        method: 'OPTIONS',
      });
      expect(options.status).toBe(204);
      expect(options.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    });
  });

  describe('an HttpException body that cannot be read', () => {
    it.each(Object.keys(UNREADABLE_BODIES))(
      'still makes a 400 (%s)',
      async (kind) => {
        const body = await expectProblem(
          await fetch(url(`/hardening/unreadable/${kind}`)),
          400,
        );
        if (kind === 'throwing-getter') {
          expect(body.detail).toBe('g');
          expect(body).not.toHaveProperty('boom');
        }
        if (kind === 'throwing-to-string')
          expect(body.errors).toEqual([
            { title: 'invalid_value', detail: 'fine' },
          ]);
      },
    );
  });

  describe("the filter's own failure", () => {
    it('is answered with a 500 that carries the request id', async () => {
      const response = await fetch(url('/hardening/hostile'), {
        headers: { 'x-request-id': 'hostile-1' },
      });
      expect(response.status).toBe(500);
      expect(response.headers.get('x-request-id')).toBe('hostile-1');
      const body = await expectProblem(response, 500);
      expect(body.requestId).toBe('hostile-1');
    });
  });

  describe('a form nested deeper than the parser takes', () => {
    it('is a 400 with the module’s own detail, never the parser’s', async () => {
      const key = 'a' + '[b]'.repeat(40);
      const response = await fetch(url('/hardening/forms'), {
        method: 'POST',
        body: `${key}=1`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      // Fastify parses forms flat (node:querystring): the key is just a key.
      if (adapter === 'fastify') {
        expect(response.status).toBe(201);
        return;
      }
      const body = await expectProblem(response, 400);
      expect(body.detail).toBe(
        'The request body is nested deeper than the server accepts.',
      );
    });
  });
});
