import {
  BadGatewayException,
  BadRequestException,
  ConflictException,
  HttpException,
  Logger,
  NotFoundException,
  PayloadTooLargeException,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { HalProblemModuleOptions } from '../hal-problem-module-options.interface';
import { ProblemConfig } from './problem.config';
import {
  ProblemException,
  ValidationProblemException,
} from './problem.exception';
import { ProblemMapper } from './problem.mapper';
import { defineProblemType } from './problem-type';
import { ProblemTypeCatalog } from './problem-type.catalog';

const context = { method: 'GET', path: '/things/1', requestId: 'req-1' };

function mapper(options: HalProblemModuleOptions = {}): ProblemMapper {
  const config = new ProblemConfig(options);
  return new ProblemMapper(config, new ProblemTypeCatalog(config, options));
}

function httpError(
  props: Record<string, unknown>,
  ctor: ErrorConstructor = Error,
): Error {
  return Object.assign(new ctor('parser said: secret body'), props);
}

describe('ProblemMapper', () => {
  it('maps every HttpException status 400–505 with its reason phrase', () => {
    for (let status = 400; status <= 505; status++) {
      const { body } = mapper().map(new HttpException('x', status), context);
      expect(body.status).toBe(status);
      expect(body.type).toBe('about:blank');
      expect(body.title.length).toBeGreaterThan(0);
    }
    expect(
      mapper().map(new PayloadTooLargeException(), context).body.title,
    ).toBe('Content Too Large');
  });

  it('replaces Nest default messages with a generic detail', () => {
    const { body } = mapper().map(new NotFoundException(), context);
    expect(body.detail).toBe('The requested resource does not exist.');
  });

  it('never sends the message of a 5xx HttpException', () => {
    const result = mapper().map(
      new ServiceUnavailableException('redis at 10.0.0.3 refused'),
      context,
    );
    expect(result.body.detail).not.toContain('redis');
    expect(result.logLevel).toBe('warn');
  });

  it('answers a non-error status HttpException as a 500', () => {
    expect(mapper().map(new HttpException('moved', 302), context).status).toBe(
      500,
    );
  });

  it('keeps every message of Nest’s own ValidationPipe', () => {
    const { body } = mapper().map(
      new BadRequestException(['a must be x', 'b must be y']),
      context,
    );
    expect(body.errors).toEqual([
      { title: 'invalid_value', detail: 'a must be x' },
      { title: 'invalid_value', detail: 'b must be y' },
    ]);
  });

  it.each([
    [
      { type: 'entity.parse.failed', status: 400, statusCode: 400 },
      400,
      SyntaxError,
    ],
    [
      { type: 'entity.too.large', status: 413, statusCode: 413, limit: 1024 },
      413,
      Error,
    ],
    [{ type: 'charset.unsupported', status: 415, statusCode: 415 }, 415, Error],
    [
      { type: 'encoding.unsupported', status: 415, statusCode: 415 },
      415,
      Error,
    ],
    [{ type: 'request.aborted', status: 400, statusCode: 400 }, 400, Error],
    [{ code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', statusCode: 415 }, 415, Error],
    [{ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }, 413, Error],
    [{ code: 'FST_ERR_CTP_EMPTY_JSON_BODY', statusCode: 400 }, 400, Error],
    [{ code: 'FST_ERR_CTP_SOMETHING_NEW', statusCode: 400 }, 400, Error],
  ])(
    'maps platform error %j by type or code, never by message',
    (props, status, ctor) => {
      const cause = httpError(props, ctor);
      for (const thrown of [
        cause,
        new HttpException('parser said: secret body', status, { cause }),
      ]) {
        const result = mapper().map(thrown, context);
        expect(result.status).toBe(status);
        expect(result.body.detail).not.toContain('secret');
      }
      if (status === 413 && 'limit' in props) {
        expect(mapper().map(cause, context).body.limit).toBe(1024);
      }
    },
  );

  it.each([
    [{ type: 'entity.parse.failed' }],
    [{ type: 'entity.too.large', limit: 10 }],
    [{ code: 'FST_ERR_CTP_BODY_TOO_LARGE' }],
    [{ type: 'entity.parse.failed', status: 502 }],
  ])(
    'takes an error named like the platform but without its 4xx status (%j) for the server fault it is',
    (props) => {
      const result = mapper().map(httpError(props, Error), context);
      expect(result.status).toBe(500);
      expect(result.logLevel).toBe('error');
    },
  );

  it.each([
    [{ type: 'constructor', status: 400, statusCode: 400 }],
    [{ code: 'toString', statusCode: 409 }],
    [{ code: '__proto__', statusCode: 400 }],
  ])(
    'answers an error named after Object.prototype (%j) as one with a name no platform uses',
    (props) => {
      const result = mapper().map(httpError(props, Error), context);
      const unknown = mapper().map(
        httpError({ ...props, type: undefined, code: 'E_APP' }, Error),
        context,
      );
      expect(result.status).toBe(unknown.status);
      expect(result.body.status).toBe(result.status);
    },
  );

  it('reports the configured body limit on a 413 that does not carry one', () => {
    const cause = httpError({
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
      statusCode: 413,
    });
    expect(mapper({ bodyLimit: 2048 }).map(cause, context).body.limit).toBe(
      2048,
    );
  });

  it.each([
    ['FST_REQ_FILE_TOO_LARGE', 413, 413],
    ['FST_FILES_LIMIT', 413, 413],
    ['FST_PROTO_VIOLATION', 400, 400],
    ['FST_INVALID_MULTIPART_CONTENT_TYPE', 406, 415],
  ])(
    "maps @fastify/multipart's %s (status %d) to %d, without a body limit",
    (code, statusCode, status) => {
      const result = mapper({ bodyLimit: 2048 }).map(
        httpError({ code, statusCode }),
        context,
      );
      expect(result.status).toBe(status);
      expect(result.body).not.toHaveProperty('limit');
      expect(result.logLevel).toBe('debug');
    },
  );

  it("answers multer's count limits with 413 as Fastify's are, keeping its other 400s", () => {
    // As Nest's FileInterceptor throws them: multer's error as the cause.
    const multer = (code: string) =>
      Object.assign(new Error('Too many files'), { name: 'MulterError', code });
    const count = mapper().map(
      new BadRequestException('Too many files', {
        cause: multer('LIMIT_FILE_COUNT'),
      }),
      context,
    );
    expect(count.status).toBe(413);
    expect(count.body.detail).toBe(
      'The request has more files than the server accepts.',
    );
    expect(count.body).not.toHaveProperty('limit');
    const unexpected = mapper().map(
      new BadRequestException('Unexpected file field - other', {
        cause: multer('LIMIT_UNEXPECTED_FILE'),
      }),
      context,
    );
    expect(unexpected.status).toBe(400);
    // An app's own error with such a code is not multer's.
    const own = mapper().map(
      new BadRequestException('Too many files', {
        cause: Object.assign(new Error('x'), { code: 'LIMIT_FILE_COUNT' }),
      }),
      context,
    );
    expect(own.status).toBe(400);
  });

  it("answers the multipart parser's bare errors with 400, and only those", () => {
    const parser = new Error('Unexpected end of multipart data');
    expect(mapper().map(parser, context).status).toBe(400);
    // The same message on an app's own error class, or another message.
    class AppError extends Error {}
    for (const other of [
      new AppError('Unexpected end of multipart data'),
      new Error('Unexpected end of multipart data!'),
    ])
      expect(mapper().map(other, context).status).toBe(500);
  });

  it('answers a malformed URI with 400', () => {
    // As the router raises it: a URIError with status 400.
    const cause = Object.assign(new URIError('URI malformed'), { status: 400 });
    expect(
      mapper().map(new BadRequestException('URI malformed', { cause }), context)
        .body.detail,
    ).toBe('The request URI is malformed.');
  });

  it("sends a fixed detail for zlib's errors, and keeps the message of an app's own http-errors", () => {
    // zlib's, passed on by Express's parser for a body that does not inflate,
    // and wrapped by Nest's Express adapter with zlib's message.
    const zlib = httpError({
      status: 400,
      statusCode: 400,
      expose: true,
      code: 'Z_DATA_ERROR',
    });
    expect(
      mapper().map(
        new HttpException(zlib.message, 400, { cause: zlib }),
        context,
      ).body.detail,
    ).toBe('The request body could not be decoded with its Content-Encoding.');
    // An app's `next(createError(403, 'API key revoked'))`: exposed on purpose.
    const revoked = Object.assign(new Error('API key revoked'), {
      status: 403,
      statusCode: 403,
      expose: true,
    });
    expect(
      mapper().map(
        new HttpException(revoked.message, 403, { cause: revoked }),
        context,
      ).body.detail,
    ).toBe('API key revoked');
  });

  it('sends nothing of an Error given as a 4xx body', () => {
    const dbError = Object.assign(
      new Error('duplicate key value violates unique constraint "users_pkey"'),
      { code: '23505', table: 'users', constraint: 'users_pkey' },
    );
    const problem = mapper().map(new BadRequestException(dbError), context);
    expect(problem.status).toBe(400);
    expect(JSON.stringify(problem.body)).not.toMatch(/users|23505|duplicate/);
  });

  it("takes any other URIError for the server's own fault", () => {
    const problem = mapper().map(new URIError('URI malformed'), context);
    expect(problem.status).toBe(500);
    expect(problem.logLevel).toBe('error');
  });

  it("never lets an app's error with a type and a 4xx status decide the status", () => {
    const sdkError = { type: 'StripeInvalidRequestError', statusCode: 400 };
    expect(
      mapper().map(
        new BadGatewayException('Payment failed', { cause: sdkError }),
        context,
      ).status,
    ).toBe(502);
    expect(
      mapper().map(new ConflictException('Taken', { cause: sdkError }), context)
        .status,
    ).toBe(409);
    const thrown = mapper().map(
      Object.assign(new Error('card declined'), sdkError),
      context,
    );
    expect(thrown.status).toBe(500);
    expect(thrown.logLevel).toBe('error');
  });

  it('turns unknown errors into a generic 500 logged at error level', () => {
    const error = new Error('SELECT * FROM secrets');
    const result = mapper().map(error, context);
    expect(result.status).toBe(500);
    expect(JSON.stringify(result.body)).not.toContain('secrets');
    expect(result.logLevel).toBe('error');
    expect(result.logError).toBe(error);
  });

  it('lets mapError translate foreign errors', () => {
    const mapError = jest.fn((error: unknown) =>
      error instanceof RangeError
        ? new ProblemException(409, { detail: 'Duplicate key.' })
        : undefined,
    );
    const m = mapper({ mapError });
    expect(m.map(new RangeError('dup'), context).body).toMatchObject({
      status: 409,
      detail: 'Duplicate key.',
    });
    expect(m.map(new Error('other'), context).status).toBe(500);
    expect(mapError).toHaveBeenCalledWith(expect.any(RangeError), context);
  });

  it('answers 500 when mapError itself throws', () => {
    const m = mapper({
      mapError: () => {
        throw new Error('mapper bug');
      },
    });
    expect(m.map(new Error('x'), context).status).toBe(500);
  });

  it('resolves declared types against the base URI and keeps absolute ones', () => {
    const relative = defineProblemType({
      slug: 'mapper-spec',
      title: 'Mapper spec',
      status: 422,
    });
    const absolute = defineProblemType({
      slug: 'mapper-spec-abs',
      title: 'Abs',
      status: 409,
      uri: 'https://example.org/abs',
    });
    const m = mapper({ problemTypeBaseUri: 'https://api.test/problems/' });
    expect(m.map(new ProblemException(relative), context).body).toMatchObject({
      type: 'https://api.test/problems/mapper-spec',
      title: 'Mapper spec',
      status: 422,
    });
    expect(m.map(new ProblemException(absolute), context).body.type).toBe(
      'https://example.org/abs',
    );
    expect(
      mapper().map(new ProblemException(relative), context).body.type,
    ).toBe('urn:problem-type:mapper-spec');
  });

  it('protects the standard members from extensions and drops unsafe names', () => {
    const { body } = mapper().map(
      new ProblemException(409, {
        detail: 'd',
        extensions: {
          type: 'x',
          status: 200,
          instance: 'y',
          'bad name': 1,
          ok_name: 2,
          'dash-ok': 3,
          constructor: 4,
          prototype: 5,
        },
      }),
      context,
    );
    expect(body).toMatchObject({
      type: 'about:blank',
      status: 409,
      instance: '/things/1',
      ok_name: 2,
      'dash-ok': 3,
    });
    expect(body).not.toHaveProperty('bad name');
    expect(Object.hasOwn(body, 'constructor')).toBe(false);
    expect(Object.hasOwn(body, 'prototype')).toBe(false);
  });

  it('sends Retry-After as whole delta seconds, from a number or a date', () => {
    expect(
      mapper().map(
        ProblemException.serviceUnavailable('x', { retryAfter: 1.2 }),
        context,
      ).headers,
    ).toEqual({
      'Retry-After': '2',
    });
    const inAMinute = new Date(Date.now() + 60_000);
    const seconds = Number(
      mapper().map(
        ProblemException.serviceUnavailable('x', { retryAfter: inAMinute }),
        context,
      ).headers['Retry-After'],
    );
    expect(seconds).toBeGreaterThanOrEqual(59);
    expect(seconds).toBeLessThanOrEqual(60);
  });

  it('drops header values that could split a response', () => {
    const { headers } = mapper().map(
      new ProblemException(401, {
        headers: { 'WWW-Authenticate': 'a\r\nSet-Cookie: x' },
      }),
      context,
    );
    expect(headers).toEqual({});
  });

  it('keeps a 400 whose body has members or items it cannot read', () => {
    const throwing = (): never => {
      throw new Error('unreadable');
    };
    const getter = mapper().map(
      new BadRequestException({
        message: 'g',
        kept: 1,
        get boom(): never {
          return throwing();
        },
      }),
      context,
    );
    expect(getter.status).toBe(400);
    expect(getter.body).toMatchObject({ detail: 'g', kept: 1 });
    expect(getter.body).not.toHaveProperty('boom');
    const items = mapper().map(
      new BadRequestException({
        message: [
          'fine',
          Object.create(null) as object,
          { toString: throwing },
        ],
      }),
      context,
    );
    expect(items.status).toBe(400);
    expect(items.body.errors).toEqual([
      { title: 'invalid_value', detail: 'fine' },
    ]);
  });

  it('drops the framing, media type and request id headers a problem sets, warning once per name', () => {
    const warn = jest
      .spyOn(Logger.prototype, 'warn')
      .mockImplementation(() => undefined);
    const dropping = mapper({ requestIdHeader: 'X-Correlation-Id' });
    const { headers } = dropping.map(
      new ProblemException(400, {
        headers: {
          'Transfer-Encoding': 'chunked',
          'content-length': '5',
          Connection: 'upgrade',
          'Keep-Alive': 'timeout=5',
          Upgrade: 'h2c',
          TE: 'trailers',
          Trailer: 'X-Sum',
          'Proxy-Connection': 'close',
          'Content-Type': 'text/html',
          'x-correlation-id': 'forged',
          'X-Request-Id': 'an app header now',
          Allow: 'GET',
        },
      }),
      context,
    );
    expect(headers).toEqual({
      'X-Request-Id': 'an app header now',
      Allow: 'GET',
    });
    expect(warn).toHaveBeenCalledTimes(10);
    dropping.map(
      new ProblemException(400, { headers: { 'Transfer-Encoding': 'x' } }),
      context,
    );
    expect(warn).toHaveBeenCalledTimes(10);
    warn.mockRestore();
  });

  it('lists at most 100 errors and counts the rest', () => {
    const errors = Array.from({ length: 250 }, (_, i) => ({
      title: 'invalid_value',
      detail: `e${i}`,
    }));
    const { body } = mapper().map(
      new ValidationProblemException(errors),
      context,
    );
    expect(body.errors).toHaveLength(100);
    expect(body.errorsOmitted).toBe(150);
  });

  it('uses urn:uuid instances when configured', () => {
    expect(
      mapper({ instance: 'urn-uuid' }).map(new NotFoundException(), context)
        .body.instance,
    ).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
  });

  it('refuses bad configuration at bootstrap', () => {
    expect(
      () => new ProblemConfig({ problemTypeBaseUri: '/problems/' }),
    ).toThrow(/absolute URI/);
    expect(() => new ProblemConfig({ requestIdHeader: 'bad header' })).toThrow(
      /header name/,
    );
  });
});
