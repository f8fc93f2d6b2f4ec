import { type LoggerService, Module } from '@nestjs/common';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JwksClient, passportJwtSecret } from 'jwks-rsa';
import jwt from 'jsonwebtoken';
import {
  jwksFetcher,
  jwksKeyProvider,
  type JwtAuthOptions,
} from 'nestjs-hal-problem';
import {
  ADAPTERS,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';
import { expectProblem } from './support/problem-assertions';
import { TEST_AUDIENCE, TEST_ISSUER } from './support/tokens';
import {
  AUTH_OPTIONS,
  authFixtureModule,
} from './fixtures/auth-fixture.module';

/** The warnings an app's own logger gets (`app.useLogger()`). */
class WarningRecorder implements LoggerService {
  readonly warnings: string[] = [];
  log = () => undefined;
  error = () => undefined;
  warn = (message: unknown) => void this.warnings.push(String(message));
  debug = () => undefined;
  verbose = () => undefined;
  fatal = () => undefined;
}

async function listening(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function closing(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

const rsaKey = () => generateKeyPairSync('rsa', { modulusLength: 2048 });

/** A JWK of the key's public half, with the given members. */
const jwkOf = (
  key: ReturnType<typeof rsaKey>,
  members: Record<string, unknown>,
) => ({ ...key.publicKey.export({ format: 'jwk' }), ...members });

describe.each(ADAPTERS)(
  'a JWKS endpoint that answers no key set, on %s',
  (adapter) => {
    const key = rsaKey();
    const jwks = JSON.stringify({
      keys: [jwkOf(key, { kid: 'k1', use: 'sig', alg: 'RS256' })],
    });
    // What the endpoint answers with 200: a key set, until a test changes it.
    let answer = { type: 'application/json', body: jwks };
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': answer.type });
      response.end(answer.body);
    });
    const logger = new WarningRecorder();
    let running: RunningApp;
    const sign = (kid: string) =>
      jwt.sign({ sub: 'client-1' }, key.privateKey, {
        algorithm: 'RS256',
        keyid: kid,
        issuer: TEST_ISSUER,
        audience: TEST_AUDIENCE,
        expiresIn: 60,
      });
    const call = (kid: string) =>
      fetch(`${running.baseUrl}/secure/me`, {
        headers: { authorization: `Bearer ${sign(kid)}` },
      });

    beforeAll(async () => {
      const port = await listening(server);
      @Module(
        authFixtureModule({
          auth: {
            ...(AUTH_OPTIONS.auth as JwtAuthOptions),
            algorithms: ['RS256'],
            secretOrKey: undefined,
            secretOrKeyProvider: passportJwtSecret({
              jwksUri: `http://127.0.0.1:${port}/jwks.json`,
              cache: false,
            }),
          },
        }),
      )
      class JwksAnswersModule {}
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [JwksAnswersModule] }),
        (app) => app.useLogger(logger),
      );
    });
    afterAll(async () => {
      await running.close();
      await closing(server);
    });
    afterEach(() => {
      answer = { type: 'application/json', body: jwks };
    });

    it.each([
      [
        'an HTML page',
        'text/html',
        '<!doctype html><title>Sign in</title>',
        /SyntaxError/,
      ],
      ['null', 'application/json', 'null', /TypeError/],
      ['an empty object', 'application/json', '{}', /JwksError/],
      [
        'keys that is a string',
        'application/json',
        '{"keys":"x"}',
        /TypeError/,
      ],
      [
        'keys that is no array',
        'application/json',
        '{"keys":{"length":1}}',
        /TypeError/,
      ],
      [
        'keys that are not JWKs',
        'application/json',
        '{"keys":[null,1]}',
        /TypeError/,
      ],
      [
        'a JWK that is no key',
        'application/json',
        '{"keys":[{"kty":"RSA"}]}',
        /JwksError/,
      ],
    ])(
      'answers 503 with Retry-After when it answers %s, and logs the cause',
      async (_what, type, body, cause) => {
        answer = { type, body };
        const before = logger.warnings.length;
        const response = await call('k1');
        expect(response.headers.get('retry-after')).toBe('5');
        expect(response.headers.get('www-authenticate')).toBeNull();
        const problem = await expectProblem(response, 503);
        expect(problem).not.toHaveProperty('error');
        expect(JSON.stringify(problem)).not.toMatch(
          /jwks|keys|SyntaxError|TypeError|JSON/i,
        );
        // Logged once, as a server fault (warn) naming the cause.
        const warnings = logger.warnings.slice(before);
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatch(/^GET \/secure\/me -> 503 /);
        expect(warnings[0]).toMatch(cause);
      },
    );

    it('still answers 401 invalid_token for a kid a well-formed JWKS lacks', async () => {
      expect((await call('k1')).status).toBe(200);
      const response = await call('k-unknown');
      expect(response.headers.get('www-authenticate')).toContain(
        'error="invalid_token"',
      );
      expect((await expectProblem(response, 401)).error).toBe('invalid_token');
    });
  },
);

describe.each(ADAPTERS)(
  'jwksKeyProvider: each key only with its own algorithm, on %s',
  (adapter) => {
    const [rs, ps, any, enc, encryptOnly, verifyOnly] = Array.from(
      { length: 6 },
      rsaKey,
    );
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          keys: [
            jwkOf(rs, { kid: 'rs', use: 'sig', alg: 'RS256' }),
            jwkOf(ps, { kid: 'ps', alg: 'PS256' }),
            jwkOf(any, { kid: 'any' }),
            jwkOf(enc, { kid: 'enc', use: 'enc', alg: 'RS256' }),
            jwkOf(encryptOnly, { kid: 'encrypt', key_ops: ['encrypt'] }),
            jwkOf(verifyOnly, { kid: 'verify', key_ops: ['verify'] }),
          ],
        }),
      );
    });
    let running: RunningApp;
    const call = (
      key: ReturnType<typeof rsaKey>,
      kid: string,
      algorithm: 'RS256' | 'PS256',
    ) =>
      fetch(`${running.baseUrl}/secure/me`, {
        headers: {
          authorization: `Bearer ${jwt.sign(
            { sub: 'client-1' },
            key.privateKey,
            {
              algorithm,
              keyid: kid,
              issuer: TEST_ISSUER,
              audience: TEST_AUDIENCE,
              expiresIn: 60,
            },
          )}`,
        },
      });

    beforeAll(async () => {
      const port = await listening(server);
      @Module(
        authFixtureModule({
          auth: {
            ...(AUTH_OPTIONS.auth as JwtAuthOptions),
            algorithms: ['RS256', 'PS256'],
            secretOrKey: undefined,
            // As docs/auth-and-throttling.md configures it.
            secretOrKeyProvider: jwksKeyProvider(
              new JwksClient({
                jwksUri: `http://127.0.0.1:${port}/jwks.json`,
                cache: true,
                rateLimit: true,
                jwksRequestsPerMinute: 10,
                fetcher: jwksFetcher(),
              }),
            ),
          },
        }),
      )
      class KeyAlgorithmsModule {}
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [KeyAlgorithmsModule] }),
      );
    });
    afterAll(async () => {
      await running.close();
      await closing(server);
    });

    it('verifies a token with the algorithm its key declares', async () => {
      expect((await call(rs, 'rs', 'RS256')).status).toBe(200);
      expect((await call(ps, 'ps', 'PS256')).status).toBe(200);
    });

    it.each([
      ['rs', 'PS256'],
      ['ps', 'RS256'],
    ] as const)(
      'refuses a token on key %s signed with %s as bad_algorithm (RFC 7517 §4.4)',
      async (kid, algorithm) => {
        const response = await call(kid === 'rs' ? rs : ps, kid, algorithm);
        expect(response.headers.get('www-authenticate')).toContain(
          'error="invalid_token"',
        );
        expect(await expectProblem(response, 401)).toMatchObject({
          error: 'invalid_token',
          reason: 'bad_algorithm',
        });
      },
    );

    it('lets a key without alg verify any accepted algorithm of its type', async () => {
      expect((await call(any, 'any', 'RS256')).status).toBe(200);
      expect((await call(any, 'any', 'PS256')).status).toBe(200);
    });

    it('never verifies with a key meant for encryption (use, key_ops)', async () => {
      for (const [key, kid] of [
        [enc, 'enc'],
        [encryptOnly, 'encrypt'],
      ] as const) {
        const problem = await expectProblem(await call(key, kid, 'RS256'), 401);
        expect(problem.error).toBe('invalid_token');
      }
      expect((await call(verifyOnly, 'verify', 'RS256')).status).toBe(200);
    });
  },
);

describe.each(ADAPTERS)('jwksFetcher against a huge JWKS, on %s', (adapter) => {
  const key = rsaKey();
  const jwk = JSON.stringify(jwkOf(key, { kid: 'k1', alg: 'RS256' }));
  const TOTAL = 64 * 1024 * 1024;
  const MAX_BYTES = 64 * 1024;
  /** What the endpoint did with its last response. */
  let last: { written: number; finished: boolean; closed: Promise<void> };
  let declareLength = false;
  // A JWKS of 64 MiB: one real key, then padding keys, written as the
  // client reads them (so bytes written is what the client took in).
  const server = createServer((_request, response) => {
    const padding = `,${JSON.stringify({ kid: 'pad', kty: 'oct', k: 'A'.repeat(16 * 1024) })}`;
    const head = `{"keys":[${jwk}`;
    const tail = ']}';
    const count = Math.floor(
      (TOTAL - head.length - tail.length) / padding.length,
    );
    const track: typeof last = {
      written: 0,
      finished: false,
      closed: new Promise((resolve) => response.on('close', resolve)),
    };
    last = track;
    response.writeHead(200, {
      'content-type': 'application/json',
      ...(declareLength
        ? {
            'content-length': String(
              head.length + count * padding.length + tail.length,
            ),
          }
        : {}),
    });
    let sent = 0;
    const write = (chunk: string) => {
      track.written += chunk.length;
      return response.write(chunk);
    };
    const pump = () => {
      while (!response.destroyed) {
        if (sent === count) {
          response.end(tail, () => (track.finished = true));
          return;
        }
        sent++;
        if (!write(padding)) return void response.once('drain', pump);
      }
    };
    write(head);
    pump();
  });
  const logger = new WarningRecorder();
  let running: RunningApp;
  const call = () =>
    fetch(`${running.baseUrl}/secure/me`, {
      headers: {
        authorization: `Bearer ${jwt.sign({ sub: 'client-1' }, key.privateKey, {
          algorithm: 'RS256',
          keyid: 'k1',
          issuer: TEST_ISSUER,
          audience: TEST_AUDIENCE,
          expiresIn: 60,
        })}`,
      },
    });

  beforeAll(async () => {
    const port = await listening(server);
    @Module(
      authFixtureModule({
        auth: {
          ...(AUTH_OPTIONS.auth as JwtAuthOptions),
          algorithms: ['RS256'],
          secretOrKey: undefined,
          // Long enough that only the byte cap can answer first.
          keyProviderTimeoutMs: 60_000,
          // jwks-rsa's own provider, with the bounded fetcher.
          secretOrKeyProvider: passportJwtSecret({
            jwksUri: `http://127.0.0.1:${port}/jwks.json`,
            cache: false,
            fetcher: jwksFetcher({ maxBytes: MAX_BYTES }),
          }),
        },
      }),
    )
    class HugeJwksModule {}
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [HugeJwksModule] }),
      (app) => app.useLogger(logger),
    );
  });
  afterAll(async () => {
    await running.close();
    await closing(server);
  });

  it.each([
    ['streamed without a length', false, /larger than maxBytes \(65536\)/],
    [
      'with its length declared',
      true,
      /declares \d+ bytes, more than maxBytes/,
    ],
  ])(
    'stops reading a JWKS %s past maxBytes and answers 503',
    async (_how, declared, cause) => {
      declareLength = declared;
      const before = logger.warnings.length;
      const response = await call();
      expect(response.headers.get('retry-after')).toBe('5');
      await expectProblem(response, 503);
      // The fetch hung up long before the end, and was not read on.
      await last.closed;
      expect(last.finished).toBe(false);
      expect(last.written).toBeLessThan(TOTAL / 4);
      const warnings = logger.warnings.slice(before);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(cause);
    },
  );
});
