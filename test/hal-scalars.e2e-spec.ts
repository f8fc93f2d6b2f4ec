import {
  Controller,
  Get,
  Header,
  HttpCode,
  Module,
  Post,
} from '@nestjs/common';
import { HalProblemModule, Idempotent } from 'nestjs-hal-problem';
import {
  ADAPTERS,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';
import { expectProblem } from './support/problem-assertions';

const SECRET = 'SECRET-in-source';

@Controller('scalars')
class ScalarsController {
  private counted = 0;

  @Get('function')
  fn(): unknown {
    return () => SECRET;
  }

  @Get('symbol')
  symbol(): unknown {
    return Symbol(SECRET);
  }

  @Get('bigint')
  bigint(): unknown {
    return 10n ** 20n;
  }

  @Get('string')
  string(): string {
    return '<script>alert(1)</script>';
  }

  @Get('html')
  @Header('Content-Type', 'text/html; charset=utf-8')
  html(): string {
    return '<p>chosen</p>';
  }

  @Get('number')
  number(): number {
    return 42;
  }

  @Get('boolean')
  boolean(): boolean {
    return false;
  }

  @Post('nothing')
  @HttpCode(200)
  nothing(): void {}

  @Post('count')
  @Idempotent()
  count(): number {
    return ++this.counted;
  }
}

@Module({
  imports: [HalProblemModule.forRoot({})],
  controllers: [ScalarsController],
})
class ScalarsModule {}

describe.each(ADAPTERS)('results that are no object on %s', (adapter) => {
  let running: RunningApp;
  const get = (path: string) => fetch(`${running.baseUrl}${path}`);

  beforeAll(async () => {
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [ScalarsModule] }),
    );
  });
  afterAll(() => running.close());

  it.each(['function', 'symbol', 'bigint'])(
    'answers a %s with a 500 problem, never its source',
    async (kind) => {
      const response = await get(`/scalars/${kind}`);
      const text = await response.text();
      expect(text).not.toContain(SECRET);
      await expectProblem(
        new Response(text, {
          status: response.status,
          headers: response.headers,
        }),
        500,
      );
    },
  );

  it('sends a string as text/plain, not as markup', async () => {
    const response = await get('/scalars/string');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(
      'text/plain; charset=utf-8',
    );
    expect(await response.text()).toBe('<script>alert(1)</script>');
  });

  it("keeps the handler's own Content-Type for a string", async () => {
    const response = await get('/scalars/html');
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toBe('<p>chosen</p>');
  });

  it.each([
    ['number', '42'],
    ['boolean', 'false'],
  ])('sends a %s as JSON', async (kind, text) => {
    const response = await get(`/scalars/${kind}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.text()).toBe(text);
  });

  it('labels no type on an empty body with a declared status', async () => {
    const response = await fetch(`${running.baseUrl}/scalars/nothing`, {
      method: 'POST',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBeNull();
    expect(await response.text()).toBe('');
  });

  it('replays a number result as it was first sent', async () => {
    const post = () =>
      fetch(`${running.baseUrl}/scalars/count`, {
        method: 'POST',
        headers: { 'idempotency-key': `"scalar-${adapter}"` },
      });
    const first = await post();
    const replay = await post();
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('content-type')).toBe(
      first.headers.get('content-type'),
    );
    expect(await replay.text()).toBe(await first.text());
  });
});
