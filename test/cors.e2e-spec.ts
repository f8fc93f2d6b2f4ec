import { Body, Controller, Module, Post } from '@nestjs/common';
import type { CorsOptions } from '@nestjs/common/interfaces/external/cors-options.interface';
import { IsInt } from 'class-validator';
import { HalProblemModule } from 'nestjs-hal-problem';
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

@Controller('cors')
class CorsController {
  @Post('items')
  create(@Body() body: QuantityDto): QuantityDto {
    return body;
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
