import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import {
  ADAPTERS,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';
import { expectProblem } from './support/problem-assertions';
import { rawRequest } from './support/raw-http';
import {
  signRawToken,
  signToken,
  TEST_AUDIENCE,
  TEST_ISSUER,
  TEST_SECRET,
  unsignedToken,
} from './support/tokens';
import {
  AUTH_OPTIONS,
  authFixtureModule,
} from './fixtures/auth-fixture.module';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { passportJwtSecret } from 'jwks-rsa';
import jwt from 'jsonwebtoken';
import type { JwtAuthOptions } from 'nestjs-hal-problem';

@Module(authFixtureModule())
class AuthAppModule {}

describe.each(ADAPTERS)('bearer authentication on %s', (adapter) => {
  let running: RunningApp;
  const call = (path: string, authorization?: string, method = 'GET') =>
    fetch(`${running.baseUrl}${path}`, {
      method,
      headers: authorization ? { authorization } : {},
    });

  beforeAll(async () => {
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [AuthAppModule] }),
    );
  });
  afterAll(() => running.close());

  it('lets a valid token through and exposes the principal', async () => {
    const response = await call(
      '/secure/me',
      `Bearer ${signToken({ scope: 'widgets:read other' })}`,
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      subject: 'client-1',
      scopes: ['widgets:read', 'other'],
    });
  });

  it('reads scopes from an scp array too', async () => {
    const token = signToken({
      scope: undefined,
      scp: ['widgets:read', 'admin'],
    });
    expect((await call('/secure/admin', `Bearer ${token}`)).status).toBe(200);
  });

  it('leaves @Public routes open', async () => {
    expect((await call('/secure/public')).status).toBe(200);
  });

  it('lets a handler of a @Public controller ask for a token and scopes', async () => {
    expect((await call('/open')).status).toBe(200);
    await expectProblem(await call('/open/admin'), 401);
    await expectProblem(
      await call('/open/admin', `Bearer ${signToken({ scope: 'other' })}`),
      403,
    );
    const admin = await call(
      '/open/admin',
      `Bearer ${signToken({ scope: 'admin' })}`,
    );
    expect(admin.status).toBe(200);
    await expectProblem(await call('/open/me'), 401);
    const me = await call('/open/me', `Bearer ${signToken()}`);
    expect(await me.json()).toEqual({ subject: 'client-1' });
  });

  it('answers no credentials with 401 and a challenge without an error code', async () => {
    const response = await call('/secure/me');
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="test"',
    );
    const body = await expectProblem(response, 401);
    expect(body).toMatchObject({
      type: 'urn:problem-type:authentication-required',
      title: 'Authentication required',
    });
  });

  it('treats another scheme as no credentials', async () => {
    const response = await call('/secure/me', 'Basic dXNlcjpwYXNz');
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="test"',
    );
    await expectProblem(response, 401);
  });

  it.each([
    [
      'expired',
      signToken({}, { expiresIn: -60 }),
      'expired',
      'The access token has expired.',
    ],
    [
      'not yet valid',
      signToken({}, { notBefore: 600 }),
      'not_yet_valid',
      'The access token is not valid yet.',
    ],
    [
      'issued in the future',
      signToken({ iat: Math.floor(Date.now() / 1000) + 600 }),
      'not_yet_valid',
      'The access token is not valid yet.',
    ],
    [
      'whose iat is no NumericDate (a string in the future)',
      signRawToken({ iat: String(Math.floor(Date.now() / 1000) + 600) }),
      'malformed',
      undefined,
    ],
    [
      'signed with another key',
      signToken({}, {}, 'another-secret-that-is-long-enough-0123456789'),
      'bad_signature',
      undefined,
    ],
    ['unsigned (alg: none)', unsignedToken(), 'bad_algorithm', undefined],
    [
      'from another issuer',
      signToken({}, { issuer: 'someone-else' }),
      'wrong_issuer',
      undefined,
    ],
    [
      'for another audience',
      signToken({}, { audience: 'other-api' }),
      'wrong_audience',
      undefined,
    ],
    [
      'without a subject',
      signToken({ sub: undefined }),
      'missing_claims',
      undefined,
    ],
    [
      'that never expires (no exp)',
      jwt.sign({ sub: 'client-1' }, TEST_SECRET, {
        algorithm: 'HS256',
        issuer: TEST_ISSUER,
        audience: TEST_AUDIENCE,
      }),
      'missing_claims',
      'The access token lacks a required claim.',
    ],
    ['malformed', 'not.a.jwt', 'malformed', undefined],
  ])(
    'refuses a token %s with 401 invalid_token',
    async (_name, token, reason, detail) => {
      const response = await call('/secure/me', `Bearer ${token}`);
      const challenge = response.headers.get('www-authenticate');
      expect(challenge).toMatch(
        /^Bearer realm="test", error="invalid_token", error_description="[^"]+"$/,
      );
      const text = await response.clone().text();
      const body = await expectProblem(response, 401);
      expect(body).toMatchObject({
        type: 'urn:problem-type:invalid-token',
        error: 'invalid_token',
        reason,
      });
      if (detail) expect(body.detail).toBe(detail);
      expect(text).not.toContain(token);
      expect(text).not.toMatch(/jwt |invalid signature|JsonWebTokenError/);
    },
  );

  it('refuses a tampered payload', async () => {
    const [header, , signature] = signToken().split('.');
    const forged = Buffer.from(
      JSON.stringify({
        sub: 'admin',
        scope: 'admin',
        iss: 'test-issuer',
        aud: 'test-api',
        exp: 9e9,
      }),
    ).toString('base64url');
    const body = await expectProblem(
      await call('/secure/me', `Bearer ${header}.${forged}.${signature}`),
      401,
    );
    expect(body.reason).toBe('bad_signature');
  });

  it('refuses a token that marks a header parameter critical (RFC 7515 §4.1.11)', async () => {
    const token = jwt.sign({ sub: 'client-1' }, TEST_SECRET, {
      algorithm: 'HS256',
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      expiresIn: 300,
      header: {
        alg: 'HS256',
        crit: ['urn:example:bound-to'],
        'urn:example:bound-to': 'another-api',
      } as jwt.JwtHeader,
    });
    const body = await expectProblem(
      await call('/secure/me', `Bearer ${token}`),
      401,
    );
    expect(body).toMatchObject({ error: 'invalid_token', reason: 'malformed' });
  });

  it('refuses an oversized token without parsing it', async () => {
    const body = await expectProblem(
      await call('/secure/me', `Bearer ${'a'.repeat(9000)}`),
      401,
    );
    expect(body.detail).toBe('The access token is too large.');
  });

  it.each([
    ['Bearer', 'a bare scheme'],
    ['Bearer two tokens', 'two tokens'],
    ['Bearer <script>', 'characters outside token68'],
    ['Bearer\tabc.def.ghi', 'a tab after the scheme'],
    ['Bearer, Basic dXNlcjpwYXNz', 'a list of credentials'],
  ])(
    'answers a malformed header (%s) with 400 invalid_request',
    async (authorization) => {
      const response = await call('/secure/me', authorization);
      expect(response.headers.get('www-authenticate')).toMatch(
        /^Bearer realm="test", error="invalid_request"/,
      );
      const body = await expectProblem(response, 400);
      expect(body.error).toBe('invalid_request');
    },
  );

  it('refuses a token in a form body (RFC 6750 §2.2) beside the header', async () => {
    const token = signToken({ scope: 'widgets:write' });
    const response = await fetch(`${running.baseUrl}/secure/widgets`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `access_token=${token}`,
    });
    const body = await expectProblem(response, 400);
    expect(body).toMatchObject({
      error: 'invalid_request',
      detail: 'Access tokens are accepted only in the Authorization header.',
    });
    // A JSON body's own access_token member is data, not a credential.
    const json = await fetch(`${running.baseUrl}/secure/widgets`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ access_token: 'x' }),
    });
    expect(json.status).toBe(201);
  });

  it('refuses a token in the query string', async () => {
    const response = await call(`/secure/me?access_token=${signToken()}`);
    const body = await expectProblem(response, 400);
    expect(body.detail).toBe(
      'Access tokens are accepted only in the Authorization header.',
    );
  });

  it('refuses a token in the query the framework reads after ";" too', async () => {
    // Fastify with useSemicolonDelimiter reads `;access_token=` as the query.
    const semicolon = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [AuthAppModule] }),
      undefined,
      { fastify: { useSemicolonDelimiter: true } },
    );
    try {
      const token = signToken();
      const response = await fetch(
        `${semicolon.baseUrl}/secure/me;access_token=${token}`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      // Express has no such route (the path is "/secure/me;access_token=...").
      const body = await expectProblem(
        response,
        adapter === 'fastify' ? 400 : 404,
      );
      if (adapter === 'fastify')
        expect(body).toMatchObject({
          error: 'invalid_request',
          detail:
            'Access tokens are accepted only in the Authorization header.',
        });
    } finally {
      await semicolon.close();
    }
  });

  it('refuses two Authorization headers', async () => {
    const token = `Bearer ${signToken()}`;
    const response = await rawRequest(running.baseUrl, '/secure/me', {
      authorization: [token, token],
    });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({
      detail: 'The Authorization header must be sent once.',
    });
  });

  it("gives the app's own 401 the Bearer challenge every 401 needs, unless it set one", async () => {
    // RFC 9110 §15.5.2: a 401 MUST carry WWW-Authenticate.
    const session = await call('/secure/session');
    expect(session.headers.get('www-authenticate')).toBe('Bearer realm="test"');
    expect((await expectProblem(session, 401)).detail).toBe(
      'Your session has ended.',
    );
    const basic = await call('/secure/basic');
    expect(basic.headers.get('www-authenticate')).toBe('Basic realm="test"');
    await expectProblem(basic, 401);
  });

  it('answers a missing scope with 403 insufficient_scope naming the scopes needed', async () => {
    const response = await call(
      '/secure/widgets',
      `Bearer ${signToken()}`,
      'POST',
    );
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="test", error="insufficient_scope", scope="widgets:write"',
    );
    const body = await expectProblem(response, 403);
    expect(body).toMatchObject({
      type: 'urn:problem-type:insufficient-scope',
      requiredScopes: ['widgets:write'],
    });
  });

  it('requires every scope', async () => {
    const response = await call(
      '/secure/admin',
      `Bearer ${signToken({ scope: 'admin' })}`,
    );
    expect(response.headers.get('www-authenticate')).toContain(
      'scope="widgets:read admin"',
    );
    await expectProblem(response, 403);
    const ok = await call(
      '/secure/admin',
      `Bearer ${signToken({ scope: 'admin widgets:read' })}`,
    );
    expect(ok.status).toBe(200);
  });
});

describe.each(ADAPTERS)(
  'authentication only where declared (global: false) on %s',
  (adapter) => {
    let running: RunningApp;
    const call = (path: string, authorization?: string) =>
      fetch(`${running.baseUrl}${path}`, {
        headers: authorization ? { authorization } : {},
      });

    beforeAll(async () => {
      @Module(
        authFixtureModule({
          auth: { ...(AUTH_OPTIONS.auth as JwtAuthOptions), global: false },
        }),
      )
      class NotGlobalModule {}
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [NotGlobalModule] }),
      );
    });
    afterAll(() => running.close());

    it('asks for a token on @Scopes and @Authenticated routes only', async () => {
      expect((await call('/open')).status).toBe(200);
      expect((await call('/secure/public')).status).toBe(200);
      await expectProblem(await call('/secure/admin'), 401);
      await expectProblem(await call('/open/admin'), 401);
      await expectProblem(await call('/open/me'), 401);
      const token = `Bearer ${signToken({ scope: 'admin' })}`;
      expect((await call('/open/admin', token)).status).toBe(200);
    });
  },
);

describe.each(ADAPTERS)(
  'explicitly typed access tokens (tokenType) on %s',
  (adapter) => {
    let running: RunningApp;
    const call = (token: string) =>
      fetch(`${running.baseUrl}/secure/me`, {
        headers: { authorization: `Bearer ${token}` },
      });
    // jsonwebtoken writes `typ: "JWT"` unless the header says otherwise.
    const typed = (typ: string | undefined) =>
      signToken({}, { header: { alg: 'HS256', typ } });

    beforeAll(async () => {
      @Module(
        authFixtureModule({
          auth: {
            ...(AUTH_OPTIONS.auth as JwtAuthOptions),
            tokenType: 'at+jwt',
          },
        }),
      )
      class TypedTokensModule {}
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [TypedTokensModule] }),
      );
    });
    afterAll(() => running.close());

    it('accepts at+jwt in either spelling (RFC 9068 §4)', async () => {
      for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT'])
        expect({ typ, status: (await call(typed(typ))).status }).toEqual({
          typ,
          status: 200,
        });
    });

    it.each([['JWT'], ['id_token+jwt'], [undefined]])(
      'refuses typ %p with 401 invalid_token',
      async (typ) => {
        const response = await call(typed(typ));
        expect(response.headers.get('www-authenticate')).toBe(
          'Bearer realm="test", error="invalid_token", error_description="The token is not an access token of the accepted type."',
        );
        expect(await expectProblem(response, 401)).toMatchObject({
          error: 'invalid_token',
          reason: 'wrong_type',
        });
      },
    );
  },
);

describe.each(ADAPTERS)(
  'a key provider of the app that decodes the token itself, on %s',
  (adapter) => {
    let running: RunningApp;
    let lookups = 0;

    beforeAll(async () => {
      @Module(
        authFixtureModule({
          auth: {
            ...(AUTH_OPTIONS.auth as JwtAuthOptions),
            secretOrKey: undefined,
            // As an app writes one: jsonwebtoken's decode throws a
            // SyntaxError on a payload that is no JSON, and it is not caught.
            secretOrKeyProvider: (_request, rawJwtToken, done) => {
              lookups++;
              const token = jwt.decode(rawJwtToken, {
                complete: true,
                json: true,
              });
              done(null, token ? TEST_SECRET : undefined);
            },
          },
        }),
      )
      class NaiveProviderModule {}
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [NaiveProviderModule] }),
      );
    });
    afterAll(() => running.close());

    it('refuses a token whose payload is no JSON as malformed (401) before the provider runs, not as its key source failing (503)', async () => {
      const part = (text: string) => Buffer.from(text).toString('base64url');
      lookups = 0;
      const response = await fetch(`${running.baseUrl}/secure/me`, {
        headers: {
          authorization: `Bearer ${part('{"alg":"HS256"}')}.${part('not json')}.${part('signature')}`,
        },
      });
      const problem = await expectProblem(response, 401);
      expect(problem.reason).toBe('malformed');
      expect(response.headers.get('retry-after')).toBeNull();
      expect(lookups).toBe(0);
      // A well-formed token still reaches the provider and verifies.
      const ok = await fetch(`${running.baseUrl}/secure/me`, {
        headers: { authorization: `Bearer ${signToken()}` },
      });
      expect(ok.status).toBe(200);
      expect(lookups).toBeGreaterThan(0);
    });
  },
);

describe.each(ADAPTERS)('RS256 key confusion on %s', (adapter) => {
  it('refuses an HS256 token signed with the RS256 public key', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    @Module(
      authFixtureModule({
        auth: {
          ...(AUTH_OPTIONS.auth as JwtAuthOptions),
          algorithms: ['RS256'],
          secretOrKey: publicKey,
        },
      }),
    )
    class RsaModule {}
    const running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [RsaModule] }),
    );
    try {
      const claims = { sub: 'client-1', scope: 'widgets:read' };
      const options = {
        issuer: 'test-issuer',
        audience: 'test-api',
        expiresIn: 60,
      };
      const genuine = jwt.sign(claims, privateKey, {
        ...options,
        algorithm: 'RS256',
      });
      const ok = await fetch(`${running.baseUrl}/secure/me`, {
        headers: { authorization: `Bearer ${genuine}` },
      });
      expect(ok.status).toBe(200);
      // Build the confused token by hand: jsonwebtoken itself refuses to sign HS256 with a PEM key.
      const encode = (value: object) =>
        Buffer.from(JSON.stringify(value)).toString('base64url');
      const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ ...claims, iss: 'test-issuer', aud: 'test-api', exp: Math.floor(Date.now() / 1000) + 60 })}`;
      const signature = createHmac('sha256', publicKey)
        .update(unsigned)
        .digest('base64url');
      const confused = await fetch(`${running.baseUrl}/secure/me`, {
        headers: { authorization: `Bearer ${unsigned}.${signature}` },
      });
      const body = await expectProblem(confused, 401);
      expect(body.reason).toBe('bad_algorithm');
    } finally {
      await running.close();
    }
  });
});

describe.each(ADAPTERS)('a JWKS key source (jwks-rsa) on %s', (adapter) => {
  it('answers 503 while the JWKS endpoint is down, never blaming the token', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
    });
    const jwks = JSON.stringify({
      keys: [
        {
          ...publicKey.export({ format: 'jwk' }),
          kid: 'k1',
          use: 'sig',
          alg: 'RS256',
        },
      ],
    });
    let failing = false;
    const server = createServer((_request, response) => {
      response.writeHead(failing ? 500 : 200, {
        'content-type': 'application/json',
      });
      response.end(failing ? '{}' : jwks);
    });
    await new Promise<void>((resolve) =>
      server.listen(0, '127.0.0.1', resolve),
    );
    const { port } = server.address() as AddressInfo;
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
    class JwksModule {}
    const running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [JwksModule] }),
    );
    const sign = (kid: string) =>
      jwt.sign({ sub: 'client-1' }, privateKey, {
        algorithm: 'RS256',
        keyid: kid,
        issuer: 'test-issuer',
        audience: 'test-api',
        expiresIn: 60,
      });
    const call = (token: string) =>
      fetch(`${running.baseUrl}/secure/me`, {
        headers: { authorization: `Bearer ${token}` },
      });
    try {
      expect((await call(sign('k1'))).status).toBe(200);
      // An unknown kid is the token's fault.
      const unknown = await expectProblem(await call(sign('k9')), 401);
      expect(unknown.error).toBe('invalid_token');
      // The endpoint answering an error, then not answering at all.
      failing = true;
      const broken = await call(sign('k1'));
      expect(broken.headers.get('retry-after')).toBe('5');
      expect(broken.headers.get('www-authenticate')).toBeNull();
      await expectProblem(broken, 503);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const down = await call(sign('k1'));
      expect(down.headers.get('retry-after')).toBe('5');
      await expectProblem(down, 503);
    } finally {
      await running.close();
      server.close();
    }
  });
});

describe.each(ADAPTERS)(
  'a JWKS key source against a hostile client on %s',
  (adapter) => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
    });
    const jwks = JSON.stringify({
      keys: [
        {
          ...publicKey.export({ format: 'jwk' }),
          kid: 'k1',
          use: 'sig',
          alg: 'RS256',
        },
      ],
    });
    let fetches = 0;
    let stall = false;
    const server = createServer((_request, response) => {
      fetches++;
      response.writeHead(200, { 'content-type': 'application/json' });
      if (!stall) return response.end(jwks);
      // Cut off mid-body: jwks-rsa's fetch then never settles.
      // (once the client has read the headers: before, it is a plain reset).
      response.write('{"keys":[', () =>
        setTimeout(() => response.socket?.destroy(), 50),
      );
    });
    let running: RunningApp;
    const sign = (kid: string) =>
      jwt.sign({ sub: 'client-1' }, privateKey, {
        algorithm: 'RS256',
        keyid: kid,
        issuer: TEST_ISSUER,
        audience: TEST_AUDIENCE,
        expiresIn: 60,
      });
    const call = (kid: string) =>
      fetch(`${running.baseUrl}/secure/me`, {
        headers: { authorization: `Bearer ${sign(kid)}` },
        // Only so that a hang fails the test instead of stalling the run.
        signal: AbortSignal.timeout(20_000),
      });

    beforeAll(async () => {
      await new Promise<void>((resolve) =>
        server.listen(0, '127.0.0.1', resolve),
      );
      const { port } = server.address() as AddressInfo;
      const fixture = authFixtureModule({
        auth: {
          ...(AUTH_OPTIONS.auth as JwtAuthOptions),
          algorithms: ['RS256'],
          secretOrKey: undefined,
          keyProviderTimeoutMs: 500,
          // As docs/auth-and-throttling.md configures it.
          secretOrKeyProvider: passportJwtSecret({
            jwksUri: `http://127.0.0.1:${port}/jwks.json`,
            cache: true,
            rateLimit: true,
            jwksRequestsPerMinute: 10,
          }),
        },
      });
      // The rate limiter's tracker verifies the token too.
      @Module({
        ...fixture,
        imports: [
          ThrottlerModule.forRoot({
            throttlers: [{ ttl: 60_000, limit: 1_000 }],
          }),
          ...(fixture.imports ?? []),
        ],
      })
      class HostileJwksModule {}
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [HostileJwksModule] }),
      );
    });
    afterAll(async () => {
      await running.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('answers 503 when the JWKS response stalls, instead of hanging', async () => {
      stall = true;
      try {
        for (let i = 0; i < 2; i++) {
          const response = await call('k-stalled');
          expect(response.headers.get('retry-after')).toBe('5');
          const body = await expectProblem(response, 503);
          expect(JSON.stringify(body)).not.toMatch(/ETIMEDOUT|jwks/i);
        }
      } finally {
        stall = false;
      }
    });

    it('fetches the JWKS once per unknown kid, and no more than the rate limit in a flood', async () => {
      expect((await call('k1')).status).toBe(200);
      fetches = 0;
      await expectProblem(await call('k-unknown'), 401);
      expect(fetches).toBe(1);
      for (let i = 0; i < 20; i++)
        await expectProblem(await call(`k-random-${i}`), 401);
      expect(fetches).toBeLessThanOrEqual(10);
      expect((await call('k1')).status).toBe(200);
    });
  },
);

describe.each(ADAPTERS)(
  'several issuers, each with its own key (keysByIssuer), on %s',
  (adapter) => {
    const SECRET_A = 'issuer-a-secret-that-is-long-enough-for-hs256-0001';
    const SECRET_B = 'issuer-b-secret-that-is-long-enough-for-hs256-0002';
    @Module(
      authFixtureModule({
        auth: {
          realm: 'test',
          algorithms: ['HS256'],
          audience: TEST_AUDIENCE,
          keysByIssuer: {
            'https://a.example': SECRET_A,
            'https://b.example': (_request, _token, done) =>
              done(null, SECRET_B),
          },
        },
      }),
    )
    class SeveralIssuersModule {}
    let running: RunningApp;
    const call = (token: string) =>
      fetch(`${running.baseUrl}/secure/me`, {
        headers: { authorization: `Bearer ${token}` },
      });

    beforeAll(async () => {
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [SeveralIssuersModule] }),
      );
    });
    afterAll(() => running.close());

    it("lets each issuer's tokens through with its own key", async () => {
      const fromA = signToken({}, { issuer: 'https://a.example' }, SECRET_A);
      const fromB = signToken({}, { issuer: 'https://b.example' }, SECRET_B);
      expect((await call(fromA)).status).toBe(200);
      expect((await call(fromB)).status).toBe(200);
    });

    it("refuses a token claiming one issuer signed with the other's key", async () => {
      const forged = signToken({}, { issuer: 'https://b.example' }, SECRET_A);
      const response = await call(forged);
      const problem = await expectProblem(response, 401);
      expect(problem.reason).toBe('bad_signature');
      expect(response.headers.get('www-authenticate')).toContain(
        'error="invalid_token"',
      );
    });

    it('refuses an issuer it has no key for as an untrusted issuer', async () => {
      for (const issuer of ['https://c.example', '__proto__', 'constructor']) {
        const problem = await expectProblem(
          await call(signToken({}, { issuer }, SECRET_A)),
          401,
        );
        expect(problem.reason).toBe('wrong_issuer');
      }
      const noIssuer = await expectProblem(
        await call(
          jwt.sign({ sub: 'client-1' }, SECRET_A, {
            audience: TEST_AUDIENCE,
            expiresIn: 60,
          }),
        ),
        401,
      );
      expect(noIssuer.reason).toBe('wrong_issuer');
    });

    it('refuses a token whose payload is not JSON as malformed, not as a key source outage', async () => {
      const part = (text: string) => Buffer.from(text).toString('base64url');
      // A JOSE header, then a payload that is no JSON: the issuer cannot be read.
      for (const header of ['{"alg":"HS256"}', '{"alg":"HS256","typ":"JWT"}']) {
        const response = await call(
          `${part(header)}.${part('not json')}.${part('signature')}`,
        );
        const problem = await expectProblem(response, 401);
        expect(problem.reason).toBe('malformed');
        expect(response.headers.get('retry-after')).toBeNull();
      }
    });
  },
);
