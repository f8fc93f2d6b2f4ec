import {
  type CallHandler,
  type CanActivate,
  Catch,
  Controller,
  type ExceptionFilter,
  type ExecutionContext,
  Get,
  InternalServerErrorException,
  type LoggerService,
  type MiddlewareConsumer,
  Module,
  type NestInterceptor,
  type NestMiddleware,
  type NestModule,
  Param,
  type PipeTransform,
  StreamableFile,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import { SkipThrottle } from '@nestjs/throttler';
import { Readable } from 'node:stream';
import { map, throwError } from 'rxjs';
import { Public } from 'nestjs-hal-problem';
import { throttleFixtureModule } from './fixtures/throttle-fixture.module';
import {
  ADAPTERS,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';

/** Every call an app's own logger gets (`app.useLogger()`). */
class Recorder implements LoggerService {
  readonly records: { level: string; message: unknown; args: unknown[] }[] = [];
  private record =
    (level: string) =>
    (message: unknown, ...args: unknown[]) =>
      void this.records.push({ level, message, args });
  log = this.record('log');
  error = this.record('error');
  warn = this.record('warn');
  debug = this.record('debug');
  verbose = this.record('verbose');
  fatal = this.record('fatal');
}

const fail = (where: string): never => {
  throw new Error(`${where} secret`);
};
class FailingMiddleware implements NestMiddleware {
  use = () => fail('middleware');
}
class FailingGuard implements CanActivate {
  canActivate = () => fail('guard');
}
class FailingBefore implements NestInterceptor {
  intercept = () => fail('before');
}
class FailingAfter implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler) {
    return next.handle().pipe(map(() => fail('after')));
  }
}
class FailingPipe implements PipeTransform {
  transform = () => fail('pipe');
}
@Catch()
class FailingFilter implements ExceptionFilter {
  catch = () => fail('filter');
}

/** A file whose stream fails after its first chunk went out. */
function failingMidway(): StreamableFile {
  let reads = 0;
  return new StreamableFile(
    new Readable({
      read() {
        if (reads++ === 0) this.push('first chunk\n');
        else setImmediate(() => this.destroy(new Error('stream secret')));
      },
    }),
  );
}

@Controller('layers')
@Public()
@SkipThrottle()
class LayersController {
  @Get('middleware') middleware() {}
  @Get('guard') @UseGuards(FailingGuard) guard() {}
  @Get('before') @UseInterceptors(FailingBefore) before() {}
  @Get('after') @UseInterceptors(FailingAfter) after() {}
  @Get('pipe') @UsePipes(FailingPipe) pipe(@Param('x') x: string) {
    return x;
  }
  @Get('sync') sync() {
    fail('sync');
  }
  @Get('async') async async() {
    await Promise.resolve();
    fail('async');
  }
  @Get('observable') observable() {
    return throwError(() => new Error('observable secret'));
  }
  @Get('filter') @UseFilters(FailingFilter) filter() {
    fail('handler');
  }
  @Get('cause') cause() {
    throw new InternalServerErrorException('cause secret', {
      cause: new Error('db secret', { cause: new TypeError('root secret') }),
    });
  }
  @Get('stream') stream() {
    return failingMidway();
  }
  @Get('unreadable') unreadable() {
    return new StreamableFile(
      new Readable({
        read() {
          this.destroy(new Error('unreadable secret'));
        },
      }),
    );
  }
  @Get('echo/:x') echo(@Param('x') x: string) {
    throw new Error(`no ${x}`);
  }
}

const fixture = throttleFixtureModule(1);
@Module({
  ...fixture,
  controllers: [LayersController, ...fixture.controllers!],
})
class LoggingModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply(FailingMiddleware).forRoutes('layers/middleware');
  }
}

/** What a console would show as a new line or a color. */
// eslint-disable-next-line no-control-regex -- detecting them is the point
const FORGING = /[\r\n\u001b]/;

describe.each(ADAPTERS)('problem logging on %s', (adapter) => {
  let running: RunningApp;
  const logger = new Recorder();
  let sequence = 0;

  beforeAll(async () => {
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [LoggingModule] }),
      (app) => app.useLogger(logger),
    );
  });
  afterAll(() => running.close());

  /** The logger's records for one request, once the response is over. */
  async function call(path: string, init: RequestInit = {}) {
    const id = `log-${adapter}-${++sequence}`;
    const before = logger.records.length;
    const response = await fetch(`${running.baseUrl}${path}`, {
      ...init,
      headers: { 'x-request-id': id },
    });
    const body = await response.text().catch(() => '(cut off)');
    // The stream's error comes after the first chunk: wait for its record.
    for (let i = 0; i < 100 && logger.records.length === before; i++)
      await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setImmediate(resolve));
    return { id, response, body, records: logger.records.slice(before) };
  }

  it.each([
    ['middleware', 'Error: middleware secret'],
    ['guard', 'Error: guard secret'],
    ['before', 'Error: before secret'],
    ['after', 'Error: after secret'],
    ['pipe', 'Error: pipe secret'],
    ['sync', 'Error: sync secret'],
    ['async', 'Error: async secret'],
    ['observable', 'Error: observable secret'],
    // Nest passes the app filter's own error on; the handler's is lost.
    ['filter', 'Error: filter secret'],
    ['cause', 'InternalServerErrorException: cause secret'],
    ['unreadable', 'Error: unreadable secret'],
    ['stream', 'Error: stream secret'],
  ])(
    'logs a failure in the %s once, at error level, with the request id and stack',
    async (layer, error) => {
      const { id, response, body, records } = await call(`/layers/${layer}`);
      expect(records).toEqual([
        {
          level: 'error',
          message: `GET /layers/${layer} -> 500 (requestId=${id}): ${error}`,
          args: [expect.stringContaining(`${error}\n    at `), 'HalProblem'],
        },
      ]);
      expect(response.headers.get('x-request-id')).toBe(id);
      if (layer === 'stream') return; // 200 and a cut body: no problem follows
      expect(response.status).toBe(500);
      expect(JSON.parse(body)).toMatchObject({ requestId: id });
      expect(body).not.toContain('secret');
    },
  );

  it('logs the whole cause chain', async () => {
    const { records } = await call('/layers/cause');
    expect(records[0].args[0]).toMatch(
      /cause secret\n[\s\S]*\nCaused by: Error: db secret\n[\s\S]*\nCaused by: TypeError: root secret\n/,
    );
  });

  it.each([
    ['/limited/private', 'GET', 401],
    ['/nowhere', 'GET', 404],
    ['/layers/sync', 'POST', 405],
    ['/limited/open', 'GET', 429],
  ])(
    'logs %s (%s) at most once, at debug level',
    async (path, method, status) => {
      const { response, records } = await call(path, { method });
      expect(response.status).toBe(status);
      expect(records.length).toBeLessThanOrEqual(1);
      for (const record of records) expect(record.level).toBe('debug');
    },
  );

  it('logs what a client sent as one uncolored line', async () => {
    const { records } = await call('/layers/echo/a%0d%0aFORGED%1b%5b31m');
    expect(records).toHaveLength(1);
    const [stack] = records[0].args as [string];
    expect(records[0].message).not.toMatch(FORGING);
    expect(stack.split('\n    at ')[0]).not.toMatch(FORGING);
  });
});
