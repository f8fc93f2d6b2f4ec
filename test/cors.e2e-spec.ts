import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import type { CorsOptions } from '@nestjs/common/interfaces/external/cors-options.interface';
import { IsInt } from 'class-validator';
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
