import {
  All,
  Controller,
  Get,
  NotFoundException,
  Param,
  Post,
  Query,
  Module,
} from '@nestjs/common';
import { Throttle, ThrottlerModule } from '@nestjs/throttler';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import {
  HalEmbedded,
  HalLink,
  HalPage,
  HalProblemModule,
  HalResource,
  Idempotent,
  Public,
} from 'nestjs-hal-problem';
import {
  ADAPTERS,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';
import { socketRequest } from './support/raw-http';
import { AUTH_OPTIONS } from './fixtures/auth-fixture.module';

class ShelfQuery {
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(5) size: number = 2;
}

@HalLink('self', () => [ShelfController, 'book'])
class BookResource {}

let appended = 0;

@Controller('shelf')
@Public()
class ShelfController {
  @Get('books/:id')
  @HalResource(BookResource)
  book(@Param('id') id: string): { id: string; title: string } {
    if (id !== '1') throw new NotFoundException(`There is no book ${id}.`);
    return { id, title: 'On HEAD' };
  }

  @Post('books')
  @HalResource(BookResource)
  add(): { id: string; title: string } {
    return { id: '1', title: 'On HEAD' };
  }

  @Get('books')
  @HalEmbedded('books', { type: () => BookResource })
  books(@Query() query: ShelfQuery): HalPage<{ id: string }> {
    return new HalPage([{ id: '1' }], { page: 1, size: query.size, total: 1 });
  }

  @Post('returns')
  giveBack(): { ok: true } {
    return { ok: true };
  }

  @Get('limited')
  @Throttle({ default: { limit: 2, ttl: 60_000 } })
  limited(): { ok: true } {
    return { ok: true };
  }

  @All('log')
  @Idempotent()
  append(): { entries: number } {
    return { entries: ++appended };
  }
}

/** Not `@Public()`: no token is a 401. */
@Controller('vault')
class VaultController {
  @Get()
  open(): { secret: true } {
    return { secret: true };
  }
}

@Module({
  imports: [
    ThrottlerModule.forRoot({ throttlers: [{ ttl: 60_000, limit: 1000 }] }),
    HalProblemModule.forRoot({
      ...AUTH_OPTIONS,
      throttle: {},
      hal: { relations: ['books'] },
    }),
  ],
  controllers: [ShelfController, VaultController],
})
class ShelfModule {}

type RawResponse = Awaited<ReturnType<typeof socketRequest>>;

/** One request on its own connection, read to its close: extra bytes after a HEAD's headers would show in `body`. */
function send(
  running: RunningApp,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const lines = Object.entries(headers).map(
    ([name, value]) => `${name}: ${value}\r\n`,
  );
  return socketRequest(
    running.baseUrl,
    `${method} ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${lines.join('')}\r\n`,
  );
}

/** Fields a HEAD must send exactly as GET would (RFC 9110 §9.3.2). */
const SAME_VALUE = [
  'content-type',
  'content-length',
  'vary',
  'allow',
  'www-authenticate',
  'ratelimit-policy',
  'cache-control',
];

function expectHeadLikeGet(head: RawResponse, get: RawResponse): void {
  expect(head.status).toBe(get.status);
  expect(head.body).toBe('');
  // The same fields; values that differ per request (the id, the date,
  // the remaining quota, Express's tag of a problem naming its request
  // id) are there on both.
  expect(Object.keys(head.headers).sort()).toEqual(
    Object.keys(get.headers).sort(),
  );
  for (const name of SAME_VALUE)
    expect([name, head.headers[name]]).toEqual([name, get.headers[name]]);
  expect(head.headers['x-request-id']).toBeTruthy();
}

describe.each(ADAPTERS)('HTTP semantics on %s', (adapter) => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [ShelfModule] }),
    );
  });
  afterAll(() => running.close());

  describe('HEAD', () => {
    it.each([
      ['a HAL resource', '/shelf/books/1', 200],
      ['a HAL page', '/shelf/books?size=1', 200],
      ['a 404 problem', '/shelf/books/2', 404],
      ['a validation problem', '/shelf/books?size=9', 400],
      ['a 401', '/vault', 401],
      ['a 405', '/shelf/returns', 405],
      ['an unknown path', '/nowhere', 404],
    ])(
      'of %s sends what GET sends, without a body',
      async (_what, path, status) => {
        const get = await send(running, 'GET', path);
        const head = await send(running, 'HEAD', path);
        expect(get.status).toBe(status);
        expect(get.body.length).toBeGreaterThan(0);
        expectHeadLikeGet(head, get);
      },
    );

    it('is counted by the rate limit as GET is, and its 429 is the same', async () => {
      expect((await send(running, 'HEAD', '/shelf/limited')).status).toBe(200);
      expect((await send(running, 'HEAD', '/shelf/limited')).status).toBe(200);
      const head = await send(running, 'HEAD', '/shelf/limited');
      const get = await send(running, 'GET', '/shelf/limited');
      expect(head.status).toBe(429);
      expect(head.headers['retry-after']).toMatch(/^\d+$/);
      expectHeadLikeGet(head, get);
    });

    it('is never stored or replayed by an idempotent @All() route', async () => {
      const key = { 'Idempotency-Key': '"head-log"' };
      const first = await send(running, 'HEAD', '/shelf/log', key);
      const second = await send(running, 'HEAD', '/shelf/log', key);
      expect(first.status).toBe(200);
      expect(second.headers['idempotent-replayed']).toBeUndefined();
      const post = await send(running, 'POST', '/shelf/log', key);
      expect(post.headers['idempotent-replayed']).toBeUndefined();
      expect(JSON.parse(post.body)).toMatchObject({ entries: appended });
    });
  });

  describe('conditional requests', () => {
    it.each([
      ['a 404', '/shelf/books/2', 404],
      ['a 401', '/vault', 401],
      ['a validation problem', '/shelf/books?size=9', 400],
    ])('never turn %s into a 304 or 412', async (_what, path, status) => {
      const preconditions: Record<string, string>[] = [
        { 'If-None-Match': '*' },
        { 'If-Match': '"other"' },
        { 'If-Modified-Since': 'Thu, 01 Jan 2099 00:00:00 GMT' },
      ];
      for (const conditions of preconditions) {
        const response = await send(running, 'GET', path, conditions);
        expect(response.status).toBe(status);
        expect(response.headers['content-type']).toMatch(
          /^application\/problem\+json/,
        );
        expect(JSON.parse(response.body)).toMatchObject({ status });
      }
    });

    // Express tags bodies and answers If-None-Match (its `etag` setting,
    // on by default); Fastify tags nothing and evaluates no precondition
    // without a plugin, so a client always gets the whole resource there.
    it('revalidate a HAL resource as the platform does', async () => {
      const first = await send(running, 'GET', '/shelf/books/1');
      const etag = first.headers.etag ?? '"none"';
      const again = await send(running, 'GET', '/shelf/books/1', {
        'If-None-Match': etag,
        'X-Request-Id': 'revalidation-1',
      });
      expect(again.headers['x-request-id']).toBe('revalidation-1');
      expect(again.headers.vary).toBe(first.headers.vary);
      if (adapter === 'fastify') {
        expect(first.headers.etag).toBeUndefined();
        expect(again.status).toBe(200);
        expect(again.body).toBe(first.body);
        return;
      }
      expect(etag).toMatch(/^W\/"/);
      expect(again.status).toBe(304);
      expect(again.body).toBe('');
      expect(again.headers.etag).toBe(etag);
      expect(again.headers['content-type']).toBeUndefined();
      expect(again.headers['content-length']).toBeUndefined();
    });
  });
});

describe('HEAD on Fastify created with exposeHeadRoutes: false', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startTestingApp(
      'fastify',
      Test.createTestingModule({ imports: [ShelfModule] }),
      undefined,
      { fastify: { exposeHeadRoutes: false } },
    );
  });
  afterAll(() => running.close());

  it('is a 405 naming GET where only GET is served, not a 404', async () => {
    const head = await send(running, 'HEAD', '/shelf/books/1');
    expect(head.status).toBe(405);
    expect(head.headers.allow).toBe('GET, OPTIONS');
    expect(head.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(head.body).toBe('');
  });

  it('is not offered by Allow', async () => {
    const deleted = await send(running, 'DELETE', '/shelf/books/1');
    expect(deleted.status).toBe(405);
    expect(deleted.headers.allow).toBe('GET, OPTIONS');
    const options = await send(running, 'OPTIONS', '/shelf/books');
    expect(options.status).toBe(204);
    expect(options.headers.allow).toBe('GET, POST, OPTIONS');
  });
});
