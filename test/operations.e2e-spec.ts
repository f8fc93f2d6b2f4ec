import {
  Controller,
  Get,
  Global,
  HttpCode,
  HttpException,
  Module,
  Param,
  Post,
} from '@nestjs/common';
import {
  HalOperation,
  HalProblemModule,
  HalResource,
  Idempotent,
  InMemoryOperationStore,
  Operation,
  OPERATION_STORE,
  OperationsService,
} from 'nestjs-hal-problem';
import {
  ADAPTERS,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';
import { expectProblem } from './support/problem-assertions';

type Json = Record<string, any>;

/** Small, so that filling it with unfinished operations is cheap. */
const MAX_RECORDS = 20;

@Global()
@Module({
  providers: [
    {
      provide: OPERATION_STORE,
      useFactory: () => new InMemoryOperationStore({ maxRecords: MAX_RECORDS }),
    },
  ],
  exports: [OPERATION_STORE],
})
class OperationStoreModule {}

const executions = new Map<string, number>();

@HalOperation(() => [JobsController, 'status'])
class JobOperation extends Operation {}

/** `POST /api/jobs/{how}` starts work that ends as `how` says. */
@Controller('jobs')
class JobsController {
  constructor(private readonly operations: OperationsService) {}

  @Post(':how')
  @HttpCode(202)
  @HalResource(JobOperation)
  @Idempotent()
  start(@Param('how') how: string): Promise<Operation> {
    return this.operations.start(
      'job',
      async () => {
        executions.set(how, (executions.get(how) ?? 0) + 1);
        if (how === 'error') throw new Error('db password=hunter2 on 10.0.0.7');
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- the point: not an Error
        if (how === 'non-error') throw 'secret rejection text';
        if (how === 'http')
          throw new HttpException('The widget is locked.', 409);
        if (how === 'never') return new Promise<never>(() => undefined);
        return { resultHref: '/api/jobs/results/1' };
      },
      how === 'short' ? { ttlMs: 20 } : {},
    );
  }

  @Get(':id')
  @HalResource(JobOperation)
  status(@Param('id') id: string): Promise<Operation> {
    return this.operations.get(id);
  }
}

describe.each(ADAPTERS)('Operations over HTTP on %s', (adapter) => {
  let running: RunningApp;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  const url = (path: string) => `${running.baseUrl}${path}`;
  const start = async (how: string, headers: Record<string, string> = {}) => {
    const accepted = await fetch(url(`/api/jobs/${how}`), {
      method: 'POST',
      headers,
    });
    const text = await accepted.text();
    expect({ status: accepted.status, text }).toMatchObject({ status: 202 });
    return { accepted, text, monitor: accepted.headers.get('location')! };
  };
  /** Polls until the operation is finished; a bounded number of tries. */
  const settled = async (monitor: string) => {
    for (let tries = 0; tries < 200; tries++) {
      const response = await fetch(url(monitor));
      const body = (await response.json()) as Json;
      if (body.status === 'done' || body.status === 'failed')
        return { response, body };
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`${monitor} never finished`);
  };

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({
        imports: [
          OperationStoreModule,
          HalProblemModule.forRoot({ hal: { trustProxy: true } }),
        ],
        controllers: [JobsController],
      }),
      (app) => void app.setGlobalPrefix('api'),
    );
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await running.close();
  });

  it('answers 202 with the monitor as Location, then points it at the result', async () => {
    const { accepted, text, monitor } = await start('ok', {
      'x-forwarded-prefix': '/gateway',
    });
    const body = JSON.parse(text) as Json;
    expect(monitor).toBe(`/gateway/api/jobs/${body.id}`);
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(accepted.headers.get('retry-after')).toBe('1');
    const { response, body: done } = await settled(`/api/jobs/${body.id}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('retry-after')).toBeNull();
    expect(done._links.result).toEqual({ href: '/api/jobs/results/1' });
  });

  it('reports a running operation with Retry-After, on HEAD too', async () => {
    const { monitor } = await start('never');
    for (const method of ['GET', 'HEAD']) {
      const response = await fetch(url(monitor), { method });
      expect(response.status).toBe(200);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(response.headers.get('content-type')).toMatch(/hal\+json/);
      if (method === 'GET')
        expect(((await response.json()) as Json).status).toMatch(
          /^(pending|running)$/,
        );
    }
  });

  it('stores a failure as a problem without internals, and none escapes the process', async () => {
    for (const how of ['error', 'non-error']) {
      const { monitor } = await start(how);
      const { response, body } = await settled(monitor);
      expect(response.status).toBe(200);
      expect(body.problem).toMatchObject({ status: 500, type: 'about:blank' });
      expect(JSON.stringify(body)).not.toMatch(/hunter2|10\.0\.0\.7|secret/);
    }
    const { body } = await settled((await start('http')).monitor);
    expect(body.problem).toMatchObject({
      status: 409,
      detail: 'The widget is locked.',
    });
    expect(unhandled).toEqual([]);
  });

  it('answers 404 operation-not-found once the operation has expired', async () => {
    const { monitor } = await start('short');
    for (let tries = 0; tries < 200; tries++) {
      const response = await fetch(url(monitor));
      if (response.status === 404) {
        const problem = await expectProblem(response, 404);
        expect(problem.type).toMatch(/operation-not-found$/);
        return;
      }
      await response.text();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`${monitor} never expired`);
  });

  it('answers an id no operation can have with a clean 404 that does not echo it', async () => {
    const known = await expectProblem(
      await fetch(url('/api/jobs/00000000-0000-4000-8000-000000000000')),
      404,
    );
    // Fastify's router refuses a parameter over maxParamLength first (documented).
    const huge = await fetch(url(`/api/jobs/${'x'.repeat(8_000)}`));
    await expectProblem(huge, adapter === 'fastify' ? 414 : 404);
    for (const id of [
      'y'.repeat(90),
      'a%0D%0AX-Injected:%201',
      '%00',
      '%E2%80%AEtxt.exe',
      '__proto__',
    ]) {
      const problem = await expectProblem(
        await fetch(url(`/api/jobs/${id}`)),
        404,
      );
      expect(problem.type).toBe(known.type);
      expect(problem.detail).toBe('There is no operation with this id.');
    }
  });

  it('replays an idempotent start with the same monitor, and runs the work once', async () => {
    executions.delete('once');
    const headers = { 'idempotency-key': `"start-once-${adapter}"` };
    const first = await start('once', headers);
    await settled(first.monitor);
    const retry = await start('once', headers);
    expect(retry.accepted.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.monitor).toBe(first.monitor);
    expect(retry.text).toBe(first.text);
    expect(executions.get('once')).toBe(1);
  });

  it('refuses a new operation with 503 and Retry-After while the store is full of unfinished ones', async () => {
    for (let started = 0; started <= MAX_RECORDS; started++) {
      const response = await fetch(url('/api/jobs/never'), { method: 'POST' });
      if (response.status === 202) {
        await response.text();
        continue;
      }
      await expectProblem(response, 503);
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
      return;
    }
    throw new Error('the store took more than maxRecords operations');
  });
});
