import {
  BadRequestException,
  Controller,
  Get,
  Header,
  Module,
  Post,
  UnauthorizedException,
} from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyCompress from '@fastify/compress';
import fastifyHelmet from '@fastify/helmet';
import compression from 'compression';
import helmet from 'helmet';
import { request } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
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

@HalLink('self', '/mw/thing')
class ThingResource {}

@Controller('mw')
class MiddlewareController {
  @Get('thing')
  @HalResource(ThingResource)
  thing() {
    return { name: 'thing' };
  }

  @Get('401')
  unauthorized(): never {
    throw new UnauthorizedException();
  }

  @Get('400')
  bad(): never {
    throw new BadRequestException('Nope.');
  }

  @Get('500')
  fault(): never {
    throw new Error('secret internals');
  }

  @Get('429')
  slow(): never {
    throw new ProblemException(429, { detail: 'Slow.', retryAfter: 30 });
  }

  /** A pre-compressed download that fails: its coding is dropped, compression sets its own. */
  @Get('encoded')
  @Header('Content-Encoding', 'gzip')
  encoded(): never {
    throw new BadRequestException('Encoded.');
  }

  @Post('things')
  @Idempotent()
  @HalResource(ThingResource)
  create() {
    return { name: 'created' };
  }
}

@Module({
  imports: [HalProblemModule.forRoot()],
  controllers: [MiddlewareController],
})
class MiddlewareModule {}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** fetch decodes bodies itself: read the bytes as sent, and decode them here. */
function send(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
  method = 'GET',
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const length = res.headers['content-length'];
        if (length !== undefined) expect(Number(length)).toBe(raw.length);
        const coding = res.headers['content-encoding'];
        const decoded =
          coding === 'gzip'
            ? gunzipSync(raw)
            : coding === 'br'
              ? brotliDecompressSync(raw)
              : raw;
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: decoded.toString(),
        });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function varyOf(response: RawResponse): string[] {
  return String(response.headers.vary ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase());
}

describe.each(ADAPTERS)('compression and helmet on %s', (adapter) => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [MiddlewareModule] }),
      async (app) => {
        if (adapter === 'fastify') {
          const fastify = app as NestFastifyApplication;
          await fastify.register(fastifyHelmet);
          await fastify.register(fastifyCompress, { threshold: 0 });
        } else {
          app.use(helmet());
          (app as NestExpressApplication).use(compression({ threshold: 0 }));
        }
      },
    );
  });
  afterAll(() => running.close());

  const expectHelmet = (response: RawResponse) => {
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toBeDefined();
    expect(response.headers['x-request-id']).toBeDefined();
  };

  it.each(['gzip', 'br'])(
    'encodes a HAL body with %s, varying on Accept and Accept-Encoding',
    async (coding) => {
      const response = await send(running.baseUrl, '/mw/thing', {
        'accept-encoding': coding,
      });
      expect(response.status).toBe(200);
      expect(response.headers['content-encoding']).toBe(coding);
      expect(varyOf(response)).toEqual(
        expect.arrayContaining(['accept', 'accept-encoding']),
      );
      expect(JSON.parse(response.text)).toMatchObject({
        _links: { self: { href: '/mw/thing' } },
        name: 'thing',
      });
      expectHelmet(response);
    },
  );

  it.each([
    ['/mw/401', 401],
    ['/mw/400', 400],
    ['/mw/500', 500],
    ['/mw/429', 429],
    ['/mw/encoded', 400],
  ])(
    'encodes the problem of %s, keeping security headers',
    async (path, status) => {
      for (const coding of ['gzip', 'br']) {
        const response = await send(running.baseUrl, path, {
          'accept-encoding': coding,
        });
        expect(response.status).toBe(status);
        expect(response.headers['content-type']).toMatch(
          /^application\/problem\+json/,
        );
        expect(response.headers['content-encoding']).toBe(coding);
        expect(varyOf(response)).toContain('accept-encoding');
        expect(JSON.parse(response.text)).toMatchObject({ status });
        expect(response.text).not.toContain('secret');
        expectHelmet(response);
      }
    },
  );

  it.each([
    ['/nowhere', 'GET', 404],
    ['/mw/thing', 'DELETE', 405],
  ])(
    'answers %s (%s) with a decodable %d problem and security headers',
    async (path, method, status) => {
      const response = await send(
        running.baseUrl,
        path,
        { 'accept-encoding': 'gzip' },
        method,
      );
      expect(response.status).toBe(status);
      expect(JSON.parse(response.text)).toMatchObject({ status });
      expectHelmet(response);
      // @fastify/compress hooks each route as it is declared, and Nest's
      // not-found handler (which answers 404 and 405) is no route.
      expect(response.headers['content-encoding']).toBe(
        adapter === 'fastify' ? undefined : 'gzip',
      );
    },
  );

  it('replays an idempotent response from the uncompressed body', async () => {
    const headers = {
      'accept-encoding': 'gzip',
      'idempotency-key': `"mw-${adapter}"`,
    };
    const first = await send(running.baseUrl, '/mw/things', headers, 'POST');
    const replay = await send(running.baseUrl, '/mw/things', headers, 'POST');
    expect(first.status).toBe(201);
    expect(replay.status).toBe(200);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(replay.text)).toEqual(JSON.parse(first.text));
  });
});
