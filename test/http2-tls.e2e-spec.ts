import {
  Body,
  Controller,
  Get,
  HttpCode,
  type INestApplication,
  Module,
  Param,
  Post,
  Query,
  Res,
  StreamableFile,
} from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { SkipThrottle, Throttle, ThrottlerModule } from '@nestjs/throttler';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Min } from 'class-validator';
import { once } from 'node:events';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import { Readable } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import {
  Consumes,
  HalLink,
  HalOperation,
  HalProblemModule,
  HalResource,
  Idempotent,
  Operation,
  OperationsService,
  type ProblemDetails,
  problemClientErrors,
  problemFrameworkErrors,
  Public,
  SkipHal,
  useStrictBodyParsing,
} from 'nestjs-hal-problem';
import { AUTH_OPTIONS } from './fixtures/auth-fixture.module';
import { TEST_TLS_CERT, TEST_TLS_KEY } from './fixtures/test-tls';
import { Test } from './support/adapters';

/** How a client reaches the app: the platform, TLS or not, HTTP/2 or HTTP/1.1. */
interface Transport {
  readonly name: string;
  readonly adapter: 'express' | 'fastify';
  readonly tls: boolean;
  readonly http2: boolean;
}

// Every combination that exists: Express 5 cannot serve HTTP/2 (it patches
// Node's HTTP/1 request and response, not node:http2's compat objects), so
// HTTP/2 is Fastify's only, over TLS (with HTTP/1.1 allowed beside it) or
// cleartext (h2c).
const TRANSPORTS: readonly Transport[] = [
  { name: 'Express over HTTPS', adapter: 'express', tls: true, http2: false },
  { name: 'Fastify over HTTPS', adapter: 'fastify', tls: true, http2: false },
  {
    name: 'Fastify over HTTP/2 with TLS',
    adapter: 'fastify',
    tls: true,
    http2: true,
  },
  { name: 'Fastify over h2c', adapter: 'fastify', tls: false, http2: true },
];

class ItemQuery {
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) page?: number;
}

class CreateItemBody {
  @IsString() name: string;
}

@HalLink('self', '/items/{id}')
@HalLink('collection', '/items')
class ItemResource {}

@HalOperation(() => [JobsController, 'status'])
class JobOperation extends Operation {}

/** A request the test holds open while another fails beside it. */
const gate = {
  entered: (): void => undefined,
  release: (): void => undefined,
};

/** A file whose stream fails after its first chunk went out. */
function failingMidway(): StreamableFile {
  let reads = 0;
  return new StreamableFile(
    new Readable({
      read() {
        if (reads++ === 0) this.push('first chunk\n');
        else setImmediate(() => this.destroy(new Error('stream failed')));
      },
    }),
  );
}

type RawResponse = {
  writeHead(status: number, headers: Record<string, string>): void;
  write(chunk: string): void;
};

@Controller()
@SkipThrottle()
class ItemsController {
  private count = 0;

  @Get('items')
  @Public()
  @SkipHal()
  list(@Query() query: ItemQuery): { page: number } {
    return { page: query.page ?? 1 };
  }

  @Get('items/:id')
  @Public()
  @HalResource(ItemResource)
  findOne(@Param('id') id: string): { id: string } {
    return { id };
  }

  @Post('items')
  @Public()
  @Idempotent()
  @HalResource(ItemResource)
  create(@Body() body: CreateItemBody): { id: number; name: string } {
    return { id: ++this.count, name: body.name };
  }

  @Post('forms')
  @Public()
  @SkipHal()
  @Consumes('application/x-www-form-urlencoded')
  @HttpCode(200)
  form(@Body() body: unknown): unknown {
    return body;
  }

  @Get('boom')
  @Public()
  boom(): never {
    throw new Error('database password=hunter2 unavailable');
  }

  /** Headers and part of a body out, then a failure: the filter cuts it off. */
  @Get('cut-short')
  @Public()
  async cutShort(
    @Res() response: { raw?: RawResponse } & RawResponse,
  ): Promise<never> {
    // The test's own reach for the Node response on either platform.
    const raw = response.raw ?? response;
    raw.writeHead(200, { 'content-type': 'application/json' });
    raw.write('{"partial":');
    await new Promise((resolve) => setImmediate(resolve));
    throw new Error('the data source failed mid-stream');
  }

  @Get('stream')
  @Public()
  stream(): StreamableFile {
    return failingMidway();
  }

  @Get('slow')
  @Public()
  @SkipHal()
  async slow(): Promise<{ done: true }> {
    await new Promise<void>((resolve) => {
      gate.release = resolve;
      gate.entered();
    });
    return { done: true };
  }

  @Get('private')
  @SkipHal()
  secret(): { secret: true } {
    return { secret: true };
  }

  @Get('limited')
  @Public()
  @SkipThrottle({ default: false })
  @SkipHal()
  limited(): { ok: true } {
    return { ok: true };
  }

  @Get('counted')
  @Public()
  @SkipThrottle({ default: false })
  @Throttle({ default: { limit: 1, ttl: 60_000 } })
  @SkipHal()
  counted(): { ok: true } {
    return { ok: true };
  }
}

@Controller('jobs')
@Public()
@SkipThrottle()
class JobsController {
  constructor(private readonly operations: OperationsService) {}

  @Post()
  @HttpCode(202)
  @HalResource(JobOperation)
  start(): Promise<Operation> {
    return this.operations.start('job', () => Promise.resolve(), {
      retryAfter: 1,
    });
  }

  @Get(':id')
  @HalResource(JobOperation)
  status(@Param('id') id: string): Promise<Operation> {
    return this.operations.get(id);
  }
}

@Module({
  imports: [
    ThrottlerModule.forRoot({ throttlers: [{ ttl: 60_000, limit: 2 }] }),
    HalProblemModule.forRoot({
      ...AUTH_OPTIONS,
      hal: { links: 'request' },
      throttle: {},
    }),
  ],
  controllers: [ItemsController, JobsController],
})
class TransportModule {}

/** Starts the app on the transport, as docs/problem-details.md tells users to create it. */
async function startOver(
  transport: Transport,
): Promise<{ app: INestApplication; port: number }> {
  const tls = { key: TEST_TLS_KEY, cert: TEST_TLS_CERT };
  const moduleRef = await Test.createTestingModule({
    imports: [TransportModule],
  }).compile();
  const fastifyOptions = {
    ...(transport.http2
      ? {
          http2: true as const,
          ...(transport.tls ? { https: { ...tls, allowHTTP1: true } } : {}),
        }
      : { https: tls }),
    frameworkErrors: problemFrameworkErrors,
    clientErrorHandler: problemClientErrors,
  };
  const app =
    transport.adapter === 'express'
      ? moduleRef.createNestApplication(new ExpressAdapter(), {
          logger: false,
          bodyParser: false,
          httpsOptions: tls,
        })
      : moduleRef.createNestApplication(
          new FastifyAdapter(
            fastifyOptions as ConstructorParameters<typeof FastifyAdapter>[0],
          ),
          { logger: false, bodyParser: false },
        );
  useStrictBodyParsing(app);
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer() as { address(): { port: number } };
  return { app, port: server.address().port };
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  /** The body ended as a whole one (HTTP/1.1: its length or last chunk; HTTP/2: END_STREAM). */
  readonly whole: boolean;
  /** HTTP/2: the RST_STREAM code the stream was closed with (0: none, or NO_ERROR). */
  readonly resetCode?: number;
}

interface RequestOptions {
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** The client's own address (any of 127.0.0.0/8 reaches the loopback server). */
  readonly from?: string;
}

/** An HTTP/1.1 request over TLS, trusting the test certificate. */
function http1Request(
  port: number,
  method: string,
  path: string,
  { headers = {}, body, from }: RequestOptions = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers,
        ca: TEST_TLS_CERT,
        localAddress: from,
        agent: false,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        const answer = (whole: boolean) => ({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: text,
          whole,
        });
        response.on('end', () => resolve(answer(true)));
        // The connection closed before the body was whole.
        response.on('aborted', () => resolve(answer(false)));
        response.on('error', () => resolve(answer(false)));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** A request on an HTTP/2 session (its own, or one made for it from `from`). */
function http2Request(
  session: http2.ClientHttp2Session,
  method: string,
  path: string,
  { headers = {}, body }: RequestOptions = {},
): Promise<Answer> {
  return new Promise((resolve) => {
    // Like most HTTP/2 clients, Node's sends no Content-Length of its own:
    // the end of the body is the stream's END_STREAM flag.
    const stream = session.request(
      { ':method': method, ':path': path, ...headers },
      { endStream: body === undefined },
    );
    let status = 0;
    let responseHeaders: Answer['headers'] = {};
    let text = '';
    let whole = false;
    stream.setEncoding('utf8');
    stream.on('response', (received) => {
      status = Number(received[':status']);
      responseHeaders = received;
    });
    stream.on('data', (chunk: string) => (text += chunk));
    stream.on('end', () => (whole = true));
    // A reset stream: its code is read on close.
    stream.on('error', () => undefined);
    stream.on('close', () =>
      resolve({
        status,
        headers: responseHeaders,
        body: text,
        whole,
        resetCode: stream.rstCode,
      }),
    );
    if (body !== undefined) stream.end(body);
  });
}

/** An answer that must be a problem of `status`, with the contract's invariants. */
function problemOf(answer: Answer, status: number): ProblemDetails {
  expect({ status: answer.status, body: answer.body }).toMatchObject({
    status,
  });
  expect(answer.whole).toBe(true);
  expect(answer.headers['content-type']).toMatch(
    /^application\/problem\+json(;|$)/,
  );
  const body = JSON.parse(answer.body) as ProblemDetails;
  expect(body).toEqual(
    expect.objectContaining({
      type: expect.any(String),
      title: expect.any(String),
      status,
      detail: expect.any(String),
      instance: expect.any(String),
      requestId: answer.headers['x-request-id'],
    }),
  );
  return body;
}

/** Fields HTTP/2 forbids (RFC 9113 §8.2.2); Node drops them with a warning. */
const CONNECTION_SPECIFIC = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
];

/** Writes bytes on a TLS connection speaking HTTP/1.1, and reads until it closes. */
function tlsSocketRequest(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      {
        host: '127.0.0.1',
        port,
        ca: TEST_TLS_CERT,
        ALPNProtocols: ['http/1.1'],
      },
      () => socket.write(bytes),
    );
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
  });
}

describe.each(TRANSPORTS)('the module on $name', (transport) => {
  let app: INestApplication;
  let port: number;
  let session: http2.ClientHttp2Session | undefined;
  const origin = () =>
    `${transport.tls ? 'https' : 'http'}://127.0.0.1:${port}`;

  /** An HTTP/2 session of its own, from another client address if `from` is set. */
  async function openSession(from?: string) {
    const opened = http2.connect(origin(), {
      ca: TEST_TLS_CERT,
      localAddress: from,
    } as http2.SecureClientSessionOptions);
    await once(opened, 'connect');
    return opened;
  }

  beforeAll(async () => {
    ({ app, port } = await startOver(transport));
    if (transport.http2) session = await openSession();
  });
  afterAll(async () => {
    session?.close();
    await app.close();
  });

  /** A request as this transport's clients make it: over the suite's session on HTTP/2. */
  async function call(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<Answer> {
    if (!transport.http2) return http1Request(port, method, path, options);
    if (options.from === undefined)
      return http2Request(session!, method, path, options);
    const own = await openSession(options.from);
    try {
      return await http2Request(own, method, path, options);
    } finally {
      own.close();
    }
  }

  describe('HAL links in request mode', () => {
    it('are absolute, with the scheme and authority the request came over', async () => {
      const answer = await call('GET', '/items/7');
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({
        _links: {
          self: { href: `${origin()}/items/7` },
          collection: { href: `${origin()}/items` },
        },
      });
    });

    it('point Location at the created resource, and a replay at the same one', async () => {
      const create = () =>
        call('POST', '/items', {
          headers: {
            'content-type': 'application/json',
            'idempotency-key': `create-${transport.adapter}-${transport.tls}-${transport.http2}`,
          },
          body: '{"name":"first"}',
        });
      const created = await create();
      expect(created.status).toBe(201);
      const self = (JSON.parse(created.body) as { id: number; _links: unknown })
        ._links;
      expect(created.headers.location).toMatch(
        new RegExp(`^${origin()}/items/\\d+$`),
      );
      expect(self).toMatchObject({ self: { href: created.headers.location } });
      const replayed = await create();
      expect(replayed.status).toBe(200);
      expect(replayed.headers['idempotent-replayed']).toBe('true');
      expect(replayed.headers.location).toBe(created.headers.location);
      expect(replayed.body).toBe(created.body);
    });

    it("point a 202's Location at the operation's monitor", async () => {
      const answer = await call('POST', '/jobs');
      expect(answer.status).toBe(202);
      const monitor = JSON.parse(answer.body) as { id: string };
      expect(answer.headers.location).toBe(`${origin()}/jobs/${monitor.id}`);
      expect(answer.headers['retry-after']).toBe('1');
    });

    if (transport.http2)
      it('take the authority from :authority, not from a Host header beside it', async () => {
        // RFC 9113 §8.3.1: a client must not send a Host that differs, and
        // :authority is what it asked for.
        const answer = await call('GET', '/items/8', {
          headers: {
            ':authority': `127.0.0.1:${port}`,
            host: 'other.example.test',
          },
        });
        expect(JSON.parse(answer.body)).toMatchObject({
          _links: { self: { href: `${origin()}/items/8` } },
        });
      });
  });

  describe('problems', () => {
    it('404 for a path nothing serves', async () => {
      problemOf(await call('GET', '/nowhere'), 404);
    });

    it('405 with Allow for a method the path does not take', async () => {
      const answer = await call('DELETE', '/items/1');
      problemOf(answer, 405);
      expect(answer.headers.allow).toBe('GET, HEAD, OPTIONS');
    });

    it('415 for a body in a media type the route does not take, with or without Content-Length', async () => {
      const withoutLength = await call('POST', '/items', {
        headers: { 'content-type': 'text/plain' },
        body: 'a name',
      });
      expect(problemOf(withoutLength, 415).detail).toBe(
        'The media type text/plain is not accepted here.',
      );
      const withLength = await call('POST', '/items', {
        headers: { 'content-type': 'text/plain', 'content-length': '6' },
        body: 'a name',
      });
      problemOf(withLength, 415);
    });

    it("415 for a body a route's @Consumes() does not name", async () => {
      const answer = await call('POST', '/forms', {
        headers: { 'content-type': 'application/json' },
        body: '{"a":1}',
      });
      problemOf(answer, 415);
      // And a bodiless request is no body of the wrong type.
      const bodiless = await call('POST', '/forms', {
        headers: { 'content-type': 'application/json' },
      });
      expect(bodiless.status).toBe(200);
    });

    it('400 with the violations for a failed validation', async () => {
      const body = problemOf(await call('GET', '/items?page=0'), 400);
      expect(body).toMatchObject({
        errors: [expect.objectContaining({ parameter: 'page' })],
      });
    });

    it('401 with a bearer challenge without a token', async () => {
      const answer = await call('GET', '/private');
      problemOf(answer, 401);
      expect(answer.headers['www-authenticate']).toBe('Bearer realm="test"');
    });

    it('429 with RateLimit and Retry-After once the limit is spent', async () => {
      await call('GET', '/limited');
      await call('GET', '/limited');
      const answer = await call('GET', '/limited');
      problemOf(answer, 429);
      expect(answer.headers.ratelimit).toBe('"default";r=0;t=60');
      expect(answer.headers['ratelimit-policy']).toBe('"default";q=2;w=60');
      expect(answer.headers['retry-after']).toBe('60');
    });

    it('500 naming nothing of the error', async () => {
      const answer = await call('GET', '/boom');
      problemOf(answer, 500);
      expect(answer.body).not.toContain('hunter2');
    });

    it('417 for an expectation other than 100-continue', async () => {
      const answer = await call('GET', '/items/1', {
        headers: { expect: 'a-teapot' },
      });
      expect(problemOf(answer, 417).instance).toBe('/items/1');
    });

    if (transport.http2)
      it('carry no connection-specific header, which HTTP/2 forbids', async () => {
        for (const [method, path] of [
          ['GET', '/nowhere'],
          ['DELETE', '/items/1'],
          ['GET', '/private'],
          ['GET', '/boom'],
          ['GET', '/items/1'],
        ]) {
          const answer = await call(method, path);
          for (const name of CONNECTION_SPECIFIC)
            expect(answer.headers[name]).toBeUndefined();
        }
      });
  });

  describe('a response that fails after its headers went out', () => {
    it.each([
      ['a handler that wrote part of it (the filter)', '/cut-short'],
      ['a StreamableFile', '/stream'],
    ])(
      'is cut off, %s, so the cut body never looks whole, and a request beside it completes',
      async (_what, path) => {
        const entered = new Promise<void>(
          (resolve) => (gate.entered = resolve),
        );
        // On HTTP/2 both requests share the suite's one connection.
        const beside = call('GET', '/slow');
        await entered;
        let cut: Answer;
        try {
          cut = await call('GET', path);
        } finally {
          gate.release();
        }
        expect(cut.status).toBe(200);
        expect(cut.body.length).toBeGreaterThan(0);
        expect(cut.whole).toBe(false);
        // Only that stream is reset, with an error a client cannot miss.
        if (transport.http2)
          expect(cut.resetCode).toBe(http2.constants.NGHTTP2_INTERNAL_ERROR);
        const healthy = await beside;
        expect(healthy).toMatchObject({
          status: 200,
          body: '{"done":true}',
          whole: true,
        });
        if (session) expect(session.destroyed).toBe(false);
      },
    );
  });

  describe('the client address', () => {
    it('keys the rate limit: another address has a bucket of its own', async () => {
      expect((await call('GET', '/counted')).status).toBe(200);
      problemOf(await call('GET', '/counted'), 429);
      expect(
        (await call('GET', '/counted', { from: '127.0.0.2' })).status,
      ).toBe(200);
    });

    it("scopes an anonymous idempotency key: another address's key is its own", async () => {
      const create = (from?: string) =>
        call('POST', '/items', {
          headers: {
            'content-type': 'application/json',
            'idempotency-key': `scoped-${transport.adapter}-${transport.tls}-${transport.http2}`,
          },
          body: '{"name":"scoped"}',
          from,
        });
      const first = await create();
      expect(first.status).toBe(201);
      expect((await create()).headers['idempotent-replayed']).toBe('true');
      const other = await create('127.0.0.3');
      expect(other.status).toBe(201);
      expect(other.headers.location).not.toBe(first.headers.location);
    });
  });

  if (transport.tls)
    describe('HTTP/1.1 over TLS', () => {
      it("answers a request Node's parser refuses with a problem", async () => {
        const text = await tlsSocketRequest(
          port,
          'GET / HTTP/1.1\r\nHost: x\r\nNot a header\r\n\r\n',
        );
        expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
        expect(text).toContain('Content-Type: application/problem+json\r\n');
        expect(
          JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)),
        ).toMatchObject({
          status: 400,
          instance: expect.stringMatching(/^urn:uuid:/),
        });
      });

      if (transport.http2)
        it('is served beside HTTP/2 (allowHTTP1), with problems and absolute links', async () => {
          problemOf(await http1Request(port, 'GET', '/nowhere'), 404);
          const answer = await http1Request(port, 'GET', '/items/3');
          expect(JSON.parse(answer.body)).toMatchObject({
            _links: { self: { href: `${origin()}/items/3` } },
          });
        });
    });
});
