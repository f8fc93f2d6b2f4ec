import {
  Controller,
  Get,
  type LoggerService,
  Module,
  VersioningType,
} from '@nestjs/common';
import { HalProblemModule } from 'nestjs-hal-problem';
import {
  ADAPTERS,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';
import { expectProblem } from './support/problem-assertions';
import {
  FixtureController,
  problemFixtureModule,
  SECRET,
} from './fixtures/problem-fixture.module';

class RecordingLogger implements LoggerService {
  readonly entries: { level: string; message: string; extra: unknown[] }[] = [];
  private record(level: string, message: unknown, extra: unknown[]) {
    this.entries.push({ level, message: String(message), extra });
  }
  log(message: unknown, ...extra: unknown[]) {
    this.record('log', message, extra);
  }
  error(message: unknown, ...extra: unknown[]) {
    this.record('error', message, extra);
  }
  warn(message: unknown, ...extra: unknown[]) {
    this.record('warn', message, extra);
  }
  debug(message: unknown, ...extra: unknown[]) {
    this.record('debug', message, extra);
  }
  verbose(message: unknown, ...extra: unknown[]) {
    this.record('verbose', message, extra);
  }
}

@Controller('health')
class HealthController {
  @Get()
  health() {
    return { status: 'ok' };
  }
}

@Module({ ...problemFixtureModule(), controllers: [HealthController] })
class PrefixedAppModule {}

describe.each(ADAPTERS)('module options on %s', (adapter) => {
  describe('global prefix and URI versioning', () => {
    let running: RunningApp;
    beforeAll(async () => {
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [PrefixedAppModule] }),
        (app) => {
          app.setGlobalPrefix('api', { exclude: ['health'] });
          app.enableVersioning({
            type: VersioningType.URI,
            defaultVersion: '1',
          });
        },
      );
    });
    afterAll(() => running.close());

    it('answers 405 with Allow on prefixed, versioned paths', async () => {
      const response = await fetch(
        `${running.baseUrl}/api/v1/fixture/widgets`,
        { method: 'PATCH' },
      );
      expect(response.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS');
      await expectProblem(response, 405);
    });

    it('serves the route itself', async () => {
      expect(
        (await fetch(`${running.baseUrl}/api/v1/fixture/widgets`)).status,
      ).toBe(200);
    });

    it('answers 404 for the unprefixed path', async () => {
      await expectProblem(
        await fetch(`${running.baseUrl}/fixture/widgets`, { method: 'PATCH' }),
        404,
      );
    });

    it('honours prefix exclusions', async () => {
      const response = await fetch(`${running.baseUrl}/v1/health`, {
        method: 'DELETE',
      });
      expect(response.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
      await expectProblem(response, 405);
    });
  });

  describe('forRootAsync, validation off, urn:uuid instances', () => {
    let running: RunningApp;
    beforeAll(async () => {
      @Module({
        imports: [
          HalProblemModule.forRootAsync({
            useFactory: async () => {
              await Promise.resolve();
              return {
                validation: false,
                instance: 'urn-uuid' as const,
                requestIdHeader: 'X-Correlation-Id',
              };
            },
          }),
        ],
        controllers: [FixtureController],
      })
      class AsyncAppModule {}
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [AsyncAppModule] }),
      );
    });
    afterAll(() => running.close());

    it('lets unvalidated bodies through when validation is off', async () => {
      const response = await fetch(`${running.baseUrl}/fixture/widgets`, {
        method: 'POST',
        body: JSON.stringify({ anything: 1 }),
        headers: { 'content-type': 'application/json' },
      });
      expect(response.status).toBe(201);
      expect(await response.json()).toMatchObject({ anything: 1 });
    });

    it('uses urn:uuid instances and the configured request-id header', async () => {
      const response = await fetch(`${running.baseUrl}/fixture/not-found`, {
        headers: { 'x-correlation-id': 'corr-1' },
      });
      expect(response.headers.get('x-correlation-id')).toBe('corr-1');
      expect(response.headers.get('x-request-id')).toBeNull();
      const text = await response.text();
      const body = JSON.parse(text) as Record<string, unknown>;
      expect(body.instance).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
      expect(body.requestId).toBe('corr-1');
    });
  });

  describe('logging', () => {
    let running: RunningApp;
    const logger = new RecordingLogger();
    beforeAll(async () => {
      @Module(problemFixtureModule())
      class LoggedAppModule {}
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [LoggedAppModule] }),
        (app) => app.useLogger(logger),
      );
    });
    afterAll(() => running.close());

    it('logs a 500 once at error level, with the stack and the request id', async () => {
      logger.entries.length = 0;
      await fetch(`${running.baseUrl}/fixture/plain-error`, {
        headers: { 'x-request-id': 'log-500' },
      });
      const errors = logger.entries.filter((entry) => entry.level === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0].message).toContain('requestId=log-500');
      expect(errors[0].message).toContain(SECRET); // the log has the internals the client never sees
      expect(String(errors[0].extra[0])).toMatch(
        /at .*problem-fixture\.module\.ts/,
      );
    });

    it('keeps what a client sent on one log line, without terminal escapes', async () => {
      logger.entries.length = 0;
      const forged = encodeURIComponent('x\n\u001b[32mFORGED admin login ok');
      await fetch(`${running.baseUrl}/fixture/named/${forged}`);
      await fetch(`${running.baseUrl}/fixture/named-error/${forged}`);
      const lines = logger.entries.flatMap((entry) => [
        entry.message,
        typeof entry.extra[0] === 'string' ? entry.extra[0].split('\n')[0] : '',
      ]);
      expect(lines.filter((line) => line.includes('FORGED'))).toHaveLength(3);
      for (const line of lines)
        expect(line.includes('\n') || line.includes('\u001b')).toBe(false);
      expect(lines).toContainEqual(
        expect.stringContaining(
          'No widget is named x\\u000a\\u001b[32mFORGED admin login ok.',
        ),
      );
    });

    it('logs a 4xx at debug level only', async () => {
      logger.entries.length = 0;
      await fetch(`${running.baseUrl}/fixture/not-found`, {
        headers: { 'x-request-id': 'log-404' },
      });
      expect(
        logger.entries.filter(
          (entry) => entry.level === 'error' || entry.level === 'warn',
        ),
      ).toEqual([]);
      expect(
        logger.entries.some(
          (entry) =>
            entry.level === 'debug' && entry.message.includes('log-404'),
        ),
      ).toBe(true);
    });
  });
});
