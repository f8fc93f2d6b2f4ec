import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { Throttle, ThrottlerModule } from '@nestjs/throttler';
import type { CorsOptions } from '@nestjs/common/interfaces/external/cors-options.interface';
import { IsInt } from 'class-validator';
import {
  HAL_PROBLEM_EXPOSED_HEADERS,
  HalLink,
  HalProblemModule,
  HalResource,
  Idempotent,
  ProblemException,
  Public,
} from 'nestjs-hal-problem';
import {
  ADAPTERS,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';
import { expectProblem } from './support/problem-assertions';
import { AUTH_OPTIONS } from './fixtures/auth-fixture.module';

/** A single-page app on another origin, sending its cookies. */
const SPA = 'https://spa.example';
const CORS: CorsOptions = { origin: SPA, credentials: true };

class QuantityDto {
  @IsInt()
  quantity: number;
}

@HalLink('self', '/cors/items/{id}')
class ItemResource {}

@Controller('cors')
class CorsController {
  @Post('items')
  create(@Body() body: QuantityDto): QuantityDto {
    return body;
  }

  @Post('orders')
  @Idempotent()
  @HalResource(ItemResource)
  order(@Body() body: QuantityDto): QuantityDto & { id: string } {
    return { id: '7', ...body };
  }

  @Get('translated')
  translated(): never {
    throw new ProblemException(404, {
      detail: 'No such page in your language.',
      headers: { Vary: 'Accept-Language' },
    });
  }
}

@Module({
  imports: [HalProblemModule.forRoot()],
  controllers: [CorsController],
})
class CorsModule {}

function expectCors(response: Response): void {
  expect(response.headers.get('access-control-allow-origin')).toBe(SPA);
  expect(response.headers.get('access-control-allow-credentials')).toBe('true');
}

// `useStrictBodyParsing` runs before either (startTestingApp calls it first).
const ENABLED_BY = {
  'app.enableCors()': (adapter: (typeof ADAPTERS)[number]) =>
    startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [CorsModule] }),
      (app) => app.enableCors(CORS),
    ),
  'the cors option of create': (adapter: (typeof ADAPTERS)[number]) =>
    startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [CorsModule] }),
      undefined,
      { cors: CORS },
    ),
};

describe.each(
  ADAPTERS.flatMap((adapter) =>
    (Object.keys(ENABLED_BY) as (keyof typeof ENABLED_BY)[]).map(
      (by) => [adapter, by] as const,
    ),
  ),
)('CORS with strict body parsing on %s, enabled by %s', (adapter, by) => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await ENABLED_BY[by](adapter);
  });
  afterAll(() => running.close());

  const post = (body: string, contentType = 'application/json') =>
    fetch(`${running.baseUrl}/cors/items`, {
      method: 'POST',
      headers: { origin: SPA, 'content-type': contentType },
      body,
    });

  // The parsers' problems: without the header a browser hides them from
  // the script, which sees a network error instead of the problem.
  it.each([
    ['malformed JSON', 400, () => post('{')],
    [
      'a body over the limit',
      413,
      () => post(JSON.stringify({ quantity: 1, pad: 'x'.repeat(200_000) })),
    ],
    [
      'a charset other than UTF-8',
      415,
      () => post('{}', 'application/json; charset=utf-16'),
    ],
  ])('answers %s with a problem the page may read', async (_, status, send) => {
    const response = await send();
    expectCors(response);
    await expectProblem(response, status);
  });

  it('still parses the body for the handler', async () => {
    const response = await post('{"quantity":2}');
    expect(response.status).toBe(201);
    expectCors(response);
    expect(await response.json()).toMatchObject({ quantity: 2 });
  });
});

/** Allows the SPA alone: CORS then varies on Origin, and says so. */
const ALLOWLIST: CorsOptions = {
  origin: (origin, callback) => callback(null, origin === SPA),
  credentials: true,
};

describe.each(ADAPTERS)('Vary with CORS on %s', (adapter) => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [CorsModule] }),
      (app) => app.enableCors(ALLOWLIST),
    );
  });
  afterAll(() => running.close());

  const varies = (response: Response) =>
    (response.headers.get('vary') ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase());

  it("adds a problem's own Vary to CORS's Origin", async () => {
    const response = await fetch(`${running.baseUrl}/cors/translated`, {
      headers: { origin: SPA },
    });
    expectCors(response);
    expect(varies(response)).toEqual(['origin', 'accept-language']);
    await expectProblem(response, 404);
  });

  it("keeps this request's Vary: Origin on a replay of one sent without it", async () => {
    const order = (headers: Record<string, string>) =>
      fetch(`${running.baseUrl}/cors/orders`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': '"cors-replay"',
          ...headers,
        },
        body: '{"quantity":1}',
      });
    // A server-side client first: no Origin, so CORS adds nothing.
    const first = await order({});
    expect(first.status).toBe(201);
    expect(first.headers.get('access-control-allow-origin')).toBeNull();
    const replay = await order({ origin: SPA });
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expectCors(replay);
    expect(varies(replay)).toEqual(
      expect.arrayContaining(['origin', 'accept']),
    );
  });
});

@Controller('exposed')
class ExposedController {
  @Post('orders')
  @Public()
  @Idempotent()
  @HalResource(ItemResource)
  order(@Body() body: QuantityDto): QuantityDto & { id: string } {
    return { id: '7', ...body };
  }

  @Get('limited')
  @Public()
  @Throttle({ default: { limit: 1, ttl: 60_000 } })
  limited(): { ok: true } {
    return { ok: true };
  }

  @Get('private')
  secret(): { ok: true } {
    return { ok: true };
  }
}

@Module({
  imports: [
    ThrottlerModule.forRoot({ throttlers: [{ ttl: 60_000, limit: 100 }] }),
    HalProblemModule.forRoot({ ...AUTH_OPTIONS, throttle: {} }),
  ],
  controllers: [ExposedController],
})
class ExposedModule {}

/** What a script reads without CORS exposing it (Fetch). */
const SAFELISTED = new Set([
  'cache-control',
  'content-language',
  'content-length',
  'content-type',
  'expires',
  'last-modified',
  'pragma',
]);
/** The platform's and CORS's own (Express's ETag and X-Powered-By, on by default). */
const NOT_THE_MODULES =
  /^(access-control-|vary$|date$|connection$|keep-alive$|transfer-encoding$|etag$|x-powered-by$)/;

describe.each(ADAPTERS)(
  'HAL_PROBLEM_EXPOSED_HEADERS as exposedHeaders on %s',
  (adapter) => {
    let running: RunningApp;
    beforeAll(async () => {
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [ExposedModule] }),
        (app) =>
          app.enableCors({
            ...CORS,
            exposedHeaders: [...HAL_PROBLEM_EXPOSED_HEADERS],
          }),
      );
    });
    afterAll(() => running.close());

    const send = (path: string, init: RequestInit = {}) =>
      fetch(`${running.baseUrl}${path}`, {
        ...init,
        headers: { origin: SPA, ...(init.headers as Record<string, string>) },
      });

    /** The headers a browser lets the page read, as it decides. */
    function readable(response: Response): Set<string> {
      expectCors(response);
      const exposed = (
        response.headers.get('access-control-expose-headers') ?? ''
      )
        .split(',')
        .map((name) => name.trim().toLowerCase());
      return new Set([...SAFELISTED, ...exposed]);
    }

    /** Every header the module sent is readable, the ones named included. */
    function expectReadable(response: Response, names: string[]): void {
      const visible = readable(response);
      const sent = [...response.headers.keys()].filter(
        (name) => !NOT_THE_MODULES.test(name),
      );
      expect(sent).toEqual(expect.arrayContaining(names));
      expect(sent.filter((name) => !visible.has(name))).toEqual([]);
    }

    it('lets the page read a 201 and its replay: Location, the request id, the rate limits', async () => {
      const order = () =>
        send('/exposed/orders', {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': '"exposed-1"',
          },
          body: '{"quantity":1}',
        });
      const created = await order();
      expect(created.status).toBe(201);
      expectReadable(created, [
        'location',
        'x-request-id',
        'ratelimit',
        'ratelimit-policy',
      ]);
      const replay = await order();
      expect(replay.status).toBe(200);
      expectReadable(replay, ['location', 'idempotent-replayed']);
    });

    it('lets the page read a 429: Retry-After and the rate limits', async () => {
      expect((await send('/exposed/limited')).status).toBe(200);
      const limited = await send('/exposed/limited');
      expectReadable(limited, [
        'retry-after',
        'ratelimit',
        'ratelimit-policy',
        'x-request-id',
      ]);
      await expectProblem(limited, 429);
    });

    it('lets the page read a 401 challenge and a 405 Allow', async () => {
      const unauthorized = await send('/exposed/private');
      expectReadable(unauthorized, ['www-authenticate', 'x-request-id']);
      await expectProblem(unauthorized, 401);
      const notAllowed = await send('/exposed/private', { method: 'PUT' });
      expectReadable(notAllowed, ['allow', 'x-request-id']);
      await expectProblem(notAllowed, 405);
    });
  },
);

describe.each(ADAPTERS)('preflights with CORS on %s', (adapter) => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [ExposedModule] }),
      (app) => app.enableCors(CORS),
    );
  });
  afterAll(() => running.close());

  const preflight = (path: string, method: string, headers: string) =>
    fetch(`${running.baseUrl}${path}`, {
      method: 'OPTIONS',
      headers: {
        origin: SPA,
        'access-control-request-method': method,
        'access-control-request-headers': headers,
      },
    });

  // The browser sends no credentials with a preflight: answered before the
  // module's guards, they need no token or key and count against no limit.
  it.each([
    ['a protected route', '/exposed/private', 'GET', 'authorization'],
    ['a rate-limited route', '/exposed/limited', 'GET', 'authorization'],
    [
      'an idempotent POST',
      '/exposed/orders',
      'POST',
      'content-type,idempotency-key',
    ],
    ['a path no route serves', '/nowhere', 'GET', 'authorization'],
    ['a method the route does not take', '/exposed/private', 'PUT', 'x-a'],
  ])('answers one to %s as CORS does', async (_, path, method, headers) => {
    const response = await preflight(path, method, headers);
    expect(response.status).toBe(204);
    expectCors(response);
    expect(response.headers.get('access-control-allow-headers')).toBe(headers);
    expect(response.headers.get('x-request-id')).toBeNull();
  });

  it('spends none of the rate limit', async () => {
    for (let i = 0; i < 3; i++)
      expect(
        (await preflight('/exposed/limited', 'GET', 'authorization')).status,
      ).toBe(204);
    const first = await fetch(`${running.baseUrl}/exposed/limited`, {
      headers: { origin: SPA },
    });
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit')).toMatch(/^"default";r=0;/);
  });
});
