import {
  type ArgumentsHost,
  HttpException,
  InternalServerErrorException,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import { ApplicationConfig, type HttpAdapterHost } from '@nestjs/core';
import { ProblemConfig } from './problem.config';
import { ProblemExceptionFilter } from './problem-exception.filter';
import { ProblemMapper } from './problem.mapper';
import { ProblemTypeCatalog } from './problem-type.catalog';
import { ValidationProblemException } from './problem.exception';
import type { RouteTable } from '../routing/route-table';

function setup(options: { headersSent?: boolean; lookup?: () => never } = {}) {
  const calls: string[] = [];
  const adapter = {
    getRequestMethod: () => 'GET',
    getRequestUrl: () => '/x?y=1',
    isHeadersSent: () => options.headersSent ?? false,
    end: () => calls.push('end'),
    setHeader: (_res: unknown, name: string, value: string) =>
      calls.push(`header ${name}: ${value}`),
    reply: (_res: unknown, body: unknown, status: number) =>
      calls.push(`reply ${status} ${String(body)}`),
  };
  const config = new ProblemConfig({});
  const routes = {
    lookup: options.lookup ?? (() => ({ served: new Set(), allow: [] })),
  } as unknown as RouteTable;
  const filter = new ProblemExceptionFilter(
    { httpAdapter: adapter } as unknown as HttpAdapterHost,
    new ProblemMapper(config, new ProblemTypeCatalog(config, {})),
    routes,
    config,
    new ApplicationConfig(),
  );
  const host = (type: string): ArgumentsHost =>
    ({
      getType: () => type,
      switchToHttp: () => ({
        getRequest: () => ({ headers: { 'x-request-id': 'req-42' } }),
        getResponse: () => ({}),
      }),
    }) as unknown as ArgumentsHost;
  return { filter, host, calls };
}

describe('ProblemExceptionFilter', () => {
  it('stands aside outside HTTP: nothing returned, so the transport answers as without it', () => {
    const { filter, host, calls } = setup();
    // An observable (even a re-throwing one) would be the RPC answer itself.
    expect(filter.catch(new Error('rpc failure'), host('rpc'))).toBeUndefined();
    expect(filter.catch(new Error('ws failure'), host('ws'))).toBeUndefined();
    expect(calls).toEqual([]);
  });

  it('stands aside for GraphQL, replacing only a problem with errors', () => {
    const { filter, host, calls } = setup();
    const plain = new Error('resolver failure');
    expect(filter.catch(plain, host('graphql'))).toBeUndefined();
    const failed = new ValidationProblemException([
      { title: 'too_small', detail: 'too small', pointer: '#/input/n' },
    ]);
    let thrown: unknown;
    try {
      filter.catch(failed, host('graphql'));
    } catch (error) {
      thrown = error;
    }
    // Mercurius reads an `errors` array on the error as GraphQL errors.
    expect(thrown).toBeInstanceOf(HttpException);
    expect(thrown).not.toHaveProperty('errors');
    expect((thrown as HttpException).getStatus()).toBe(400);
    expect((thrown as HttpException).message).toBe('Request failed validation');
    expect((thrown as HttpException).getResponse()).toMatchObject({
      errors: failed.errors,
    });
    expect(calls).toEqual([]);
  });

  it('writes a problem through the adapter', () => {
    const { filter, host, calls } = setup();
    filter.catch(new NotFoundException('gone'), host('http'));
    expect(calls).toContain('header Content-Type: application/problem+json');
    expect(calls.find((call) => call.startsWith('reply 404'))).toContain(
      '"instance":"/x"',
    );
  });

  it('only ends the response when headers were already sent', () => {
    const { filter, host, calls } = setup({ headersSent: true });
    expect(() => filter.catch(new Error('late'), host('http'))).not.toThrow();
    expect(calls).toEqual(['end']);
  });

  it('answers a bare 500 when it fails itself', () => {
    const { filter, host, calls } = setup({
      lookup: () => {
        throw new Error('index broken');
      },
    });
    // The router's own 404, the one the route table is consulted for.
    filter.catch(new NotFoundException('Cannot GET /x?y=1'), host('http'));
    expect(calls.find((call) => call.startsWith('reply'))).toMatch(
      /^reply 500 \{"type":"about:blank"/,
    );
  });

  it('gives its fallback the request id, and logs what was thrown', () => {
    const logged = jest
      .spyOn(Logger.prototype, 'error')
      .mockImplementation(() => undefined);
    const { filter, host, calls } = setup({
      lookup: () => {
        throw new Error('index broken');
      },
    });
    filter.catch(new NotFoundException('Cannot GET /x?y=1'), host('http'));
    expect(calls).toContain('header X-Request-Id: req-42');
    const reply = calls.find((call) => call.startsWith('reply 500'));
    expect(JSON.parse(reply!.slice('reply 500 '.length))).toMatchObject({
      status: 500,
      requestId: 'req-42',
    });
    const [line, stack] = logged.mock.calls[0] as [string, string];
    expect(line).toContain('requestId=req-42');
    expect(line).toContain('NotFoundException: Cannot GET /x?y=1');
    expect(line).toContain('index broken');
    expect(stack).toContain('index broken');
    logged.mockRestore();
  });

  it('logs a thrown string, and the cause of a 5xx HttpException', () => {
    const logged = jest
      .spyOn(Logger.prototype, 'error')
      .mockImplementation(() => undefined);
    const { filter, host } = setup();
    filter.catch('disk full\nFAKE LOG LINE', host('http'));
    expect(logged.mock.calls[0][0]).toContain(
      'non-Error value thrown (string): "disk full\\nFAKE LOG LINE"',
    );
    filter.catch(
      new InternalServerErrorException('failed', {
        cause: new Error('connection refused'),
      }),
      host('http'),
    );
    expect(logged.mock.calls[1][1]).toMatch(
      /Caused by: Error: connection refused\n\s+at /,
    );
    logged.mockRestore();
  });
});
