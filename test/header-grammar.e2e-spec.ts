import { Body, Controller, Param, Post, Get } from '@nestjs/common';
import {
  bearerChallenge,
  HalLink,
  HalProblemModule,
  HalResource,
  ProblemException,
} from 'nestjs-hal-problem';
import {
  ADAPTERS,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';
import { socketRequest } from './support/raw-http';

/**
 * Routes whose paths are not ASCII: links to them and `Location` must still
 * be URIs. (Created from ASCII routes: Express's router matches a path as
 * the client encoded it, so it never serves `/grammar/caf%C3%A9s/1`.)
 */
@HalLink('self', () => [GrammarController, 'findCafe'])
class CafeResource {}

@HalLink('self', () => [GrammarController, 'findSmile'])
class SmileResource {}

@Controller('grammar')
class GrammarController {
  @Get('cafés/:id')
  @HalResource(() => CafeResource)
  findCafe(@Param('id') id: string) {
    return { id };
  }

  @Post('cafe')
  @HalResource(() => CafeResource)
  createCafe() {
    return { id: 'a b' };
  }

  @Get('😀/:id')
  @HalResource(() => SmileResource)
  findSmile(@Param('id') id: string) {
    return { id };
  }

  @Post('smile')
  @HalResource(() => SmileResource)
  createSmile() {
    return { id: 'x' };
  }

  @Post('problems')
  fail(@Body() body: { kind: string }): never {
    switch (body.kind) {
      case 'retry-after':
        throw new ProblemException(503, { retryAfter: 1e300 });
      case 'challenge':
        throw new ProblemException(401, {
          headers: {
            'WWW-Authenticate': bearerChallenge('api', 'invalid_token', {
              description: 'token "x" for café\\',
            }),
          },
        });
      default:
        throw new ProblemException(409, {
          headers: { 'X-Note': 'café', 'X-Kept': 'plain' },
        });
    }
  }
}

describe.each(ADAPTERS)('header grammar (%s)', (adapter) => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({
        imports: [HalProblemModule.forRoot()],
        controllers: [GrammarController],
      }),
    );
  });
  afterAll(() => running.close());

  /** The response as its bytes came, each header byte read as one character. */
  const send = (method: string, path: string, body = '') =>
    socketRequest(
      running.baseUrl,
      `${method} ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
  const problem = (kind: string) =>
    send('POST', '/grammar/problems', JSON.stringify({ kind }));

  it('a Retry-After too large for digits is capped, never written as 1e+300', async () => {
    const response = await problem('retry-after');
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('999999999999999');
  });

  it('a problem header beyond ASCII is dropped: Express and Fastify wrote different bytes', async () => {
    const response = await problem('note');
    expect(response.status).toBe(409);
    expect(response.headers['x-note']).toBeUndefined();
    expect(response.headers['x-kept']).toBe('plain');
  });

  it('bearerChallenge keeps error_description to RFC 6750 §3 characters', async () => {
    const response = await problem('challenge');
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_token", error_description="token ?x? for caf??"',
    );
  });

  it.each([
    ['cafe', '/grammar/caf%C3%A9s/a%20b'],
    ['smile', '/grammar/%F0%9F%98%80/x'],
  ])(
    'a link to a route with a non-ASCII path is percent-encoded (POST /grammar/%s)',
    async (path, location) => {
      const response = await send('POST', `/grammar/${path}`);
      expect(response.status).toBe(201);
      expect(response.headers.location).toBe(location);
      expect(JSON.parse(response.body)._links.self.href).toBe(location);
    },
  );
});
