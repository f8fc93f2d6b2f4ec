import jwt from 'jsonwebtoken';
import {
  AuthConfig,
  classifyTokenError,
  isKeySourceOutage,
  MissingClaimError,
  principalScope,
  WrongTokenTypeError,
} from './auth.config';
import { bearerChallenge } from './bearer-challenge';

const secret = 'a-secret-that-is-long-enough-for-hs256-0123456789';
const auth = {
  realm: 'api',
  algorithms: ['HS256' as const],
  issuer: 'iss',
  audience: 'aud',
  secretOrKey: secret,
};

describe('AuthConfig with keysByIssuer', () => {
  const secretA = 'issuer-a-secret-that-is-long-enough-for-hs256-01';
  const secretB = 'issuer-b-secret-that-is-long-enough-for-hs256-01';
  const config = new AuthConfig({
    auth: {
      realm: 'api',
      algorithms: ['HS256'],
      audience: 'aud',
      keysByIssuer: {
        a: secretA,
        // A key provider, as jwks-rsa's passportJwtSecret is.
        b: (_request, _token, done) => done(null, secretB),
      },
    },
  });
  const sign = (iss: string, key: string) =>
    jwt.sign({ sub: 's', exp: Math.floor(Date.now() / 1000) + 60 }, key, {
      issuer: iss,
      audience: 'aud',
    });

  it("verifies each issuer's tokens with that issuer's key", async () => {
    expect((await config.verify(sign('a', secretA), {}))?.subject).toBe('s');
    expect((await config.verify(sign('b', secretB), {}))?.subject).toBe('s');
  });

  it("never verifies a token claiming one issuer with another's key", async () => {
    expect(await config.verify(sign('b', secretA), {})).toBeUndefined();
    expect(await config.verify(sign('a', secretB), {})).toBeUndefined();
    expect(await config.verify(sign('c', secretA), {})).toBeUndefined();
    expect(await config.verify(sign('__proto__', secretA), {})).toBeUndefined();
  });

  it('trusts the named issuers, so scopes carry the issuer', async () => {
    expect(config.verifyOptions.issuer).toEqual(['a', 'b']);
    // One `sub` from each issuer: two clients, two rate-limit buckets and
    // idempotency scopes.
    const fromA = await config.verify(sign('a', secretA), {});
    const fromB = await config.verify(sign('b', secretB), {});
    expect(fromA?.subject).toBe(fromB?.subject);
    expect(principalScope(fromA!, config.options.issuer)).not.toBe(
      principalScope(fromB!, config.options.issuer),
    );
  });
});

describe('AuthConfig', () => {
  it.each([
    [{ ...auth, algorithms: [] }, /algorithms/],
    [{ ...auth, algorithms: ['none' as never] }, /never "none"/],
    [{ ...auth, issuer: '' }, /issuer and auth.audience/],
    // `secretOrKey: process.env.JWT_SECRET` with the variable unset: the
    // message said "exactly one of secretOrKey, …" of options that name it.
    [
      { ...auth, secretOrKey: undefined },
      'HalProblemModule: auth needs a key: secretOrKey (undefined here: an unset environment variable?), secretOrKeyProvider or keysByIssuer',
    ],
    [{ ...auth, secretOrKey: '' }, /secretOrKey \(empty here\)/],
    [
      { ...auth, secretOrKeyProvider: () => undefined },
      'HalProblemModule: auth takes secretOrKey or secretOrKeyProvider, not both',
    ],
    [{ ...auth, realm: 'a"b' }, /realm/],
    // Outside qdtext, every challenge would fail to send (a 500 on Express).
    [{ ...auth, realm: '東京 API' }, /realm/],
    [{ ...auth, realm: 'a\u0001b' }, /realm/],
    // A typ that is no media type could never match: every token refused.
    [{ ...auth, tokenType: [] }, /tokenType/],
    [{ ...auth, tokenType: 'at jwt' }, /tokenType/],
    [{ ...auth, tokenType: ['at+jwt', 'a/b/c'] }, /tokenType/],
    // keysByIssuer stands alone: an `issuer` or a key beside it would be
    // a second, unpaired source of trust.
    [{ ...auth, keysByIssuer: { a: secret } }, /keysByIssuer replaces/],
    [
      { ...auth, issuer: undefined, keysByIssuer: { a: secret } },
      /keysByIssuer replaces/,
    ],
    [
      {
        ...auth,
        issuer: undefined,
        secretOrKey: undefined,
        keysByIssuer: {},
      },
      /keysByIssuer must map/,
    ],
    [
      {
        ...auth,
        issuer: undefined,
        secretOrKey: undefined,
        keysByIssuer: { a: secret, b: '' },
      },
      /keysByIssuer must map/,
    ],
    // Without one, the first challenge threw a TypeError at startup.
    // (A JavaScript app, or options read from configuration.)
    [{ ...auth, realm: undefined as unknown as string }, /auth\.realm must be/],
  ])('refuses unsafe options %#', (options, message) => {
    expect(() => new AuthConfig({ auth: options })).toThrow(message);
  });

  it('bounds clock tolerance', () => {
    expect(
      new AuthConfig({ auth: { ...auth, clockTolerance: 100_000 } })
        .verifyOptions.clockTolerance,
    ).toBe(300);
  });

  it('verifies tokens fully and never trusts a decoded one', async () => {
    const config = new AuthConfig({ auth });
    const good = jwt.sign({ sub: 's', scope: 'a b', scp: ['c'] }, secret, {
      issuer: 'iss',
      audience: 'aud',
      expiresIn: 60,
    });
    expect(await config.verify(good, {})).toMatchObject({
      subject: 's',
      scopes: ['a', 'b', 'c'],
    });
    const forged = jwt.sign(
      { sub: 's' },
      'another-secret-long-enough-0123456789',
      { issuer: 'iss', audience: 'aud' },
    );
    expect(await config.verify(forged, {})).toBeUndefined();
    expect(await new AuthConfig({}).verify(good, {})).toBeUndefined();
  });

  it('reads scp as a space-separated string too (Microsoft Entra ID)', async () => {
    const token = jwt.sign({ sub: 's', scp: 'User.Read Mail.Read' }, secret, {
      issuer: 'iss',
      audience: 'aud',
      expiresIn: 60,
    });
    expect((await new AuthConfig({ auth }).verify(token, {}))?.scopes).toEqual([
      'User.Read',
      'Mail.Read',
    ]);
  });

  it('refuses a token without exp unless told not to', async () => {
    const forever = jwt.sign({ sub: 's' }, secret, {
      issuer: 'iss',
      audience: 'aud',
    });
    expect(await new AuthConfig({ auth }).verify(forever, {})).toBeUndefined();
    expect(
      await new AuthConfig({
        auth: { ...auth, requireExpiration: false },
      }).verify(forever, {}),
    ).toMatchObject({ subject: 's' });
  });

  it('requires the typ of tokenType, compared as a media type (RFC 7515 §4.1.9)', async () => {
    const signed = (typ: string | undefined) =>
      jwt.sign({ sub: 's' }, secret, {
        issuer: 'iss',
        audience: 'aud',
        expiresIn: 60,
        // jsonwebtoken writes `typ: "JWT"` unless told otherwise; undefined leaves it out.
        header: { alg: 'HS256', typ },
      });
    const typed = new AuthConfig({ auth: { ...auth, tokenType: 'at+jwt' } });
    for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt'])
      expect(await typed.verify(signed(typ), {})).toMatchObject({
        subject: 's',
      });
    for (const typ of ['JWT', 'jwt', 'application/jwt', 'at+jwt2', undefined])
      expect(await typed.verify(signed(typ), {})).toBeUndefined();
    // Unset, the header is not read.
    expect(
      await new AuthConfig({ auth }).verify(signed('JWT'), {}),
    ).toMatchObject({ subject: 's' });
    const either = new AuthConfig({
      auth: { ...auth, tokenType: ['application/at+jwt', 'JWT'] },
    });
    expect(await either.verify(signed('jwt'), {})).toMatchObject({
      subject: 's',
    });
  });
});

describe('classifyTokenError', () => {
  it.each([
    [new jwt.TokenExpiredError('jwt expired', new Date()), 'expired'],
    [new jwt.NotBeforeError('jwt not active', new Date()), 'not_yet_valid'],
    [new jwt.JsonWebTokenError('invalid signature'), 'bad_signature'],
    [new jwt.JsonWebTokenError('invalid algorithm'), 'bad_algorithm'],
    [
      new jwt.JsonWebTokenError('jwt issuer invalid. expected: x'),
      'wrong_issuer',
    ],
    [
      new jwt.JsonWebTokenError('jwt audience invalid. expected: x'),
      'wrong_audience',
    ],
    [new MissingClaimError('sub'), 'missing_claims'],
    [new WrongTokenTypeError('typ'), 'wrong_type'],
    [new Error('something new'), 'malformed'],
    [undefined, 'malformed'],
  ])('%p → %s', (error, failure) => {
    expect(classifyTokenError(error)).toBe(failure);
  });
});

describe('bearerChallenge', () => {
  it('writes RFC 6750 challenges with values its grammar allows (no escapes)', () => {
    expect(bearerChallenge('orders')).toBe('Bearer realm="orders"');
    expect(() => bearerChallenge('a"b')).toThrow(RangeError);
    expect(
      bearerChallenge('r', 'invalid_token', { description: 'x\\y "é"' }),
    ).toBe(
      'Bearer realm="r", error="invalid_token", error_description="x?y ???"',
    );
    expect(
      bearerChallenge('r', 'insufficient_scope', { scope: ['a', 'b'] }),
    ).toBe('Bearer realm="r", error="insufficient_scope", scope="a b"');
    expect(() =>
      bearerChallenge('r', 'insufficient_scope', { scope: ['a b'] }),
    ).toThrow(RangeError);
  });
});

describe('isKeySourceOutage', () => {
  it('tells a key source that is down from a token it has no key for', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), {
      code: 'ECONNREFUSED',
    });
    expect(isKeySourceOutage(refused)).toBe(true);
    expect(
      isKeySourceOutage({ name: 'JwksError', message: 'Bad Gateway' }),
    ).toBe(true);
    expect(
      isKeySourceOutage(new Error('fetch failed', { cause: refused })),
    ).toBe(true);
    expect(
      isKeySourceOutage(
        Object.assign(new Error('x'), { code: 'UND_ERR_CONNECT_TIMEOUT' }),
      ),
    ).toBe(true);
    const unknownKid = Object.assign(new Error('no key'), {
      name: 'SigningKeyNotFoundError',
    });
    expect(isKeySourceOutage(unknownKid)).toBe(false);
    expect(
      isKeySourceOutage(new jwt.JsonWebTokenError('invalid signature')),
    ).toBe(false);
    expect(isKeySourceOutage(undefined)).toBe(false);
  });
});

describe('a key provider that fails', () => {
  /** What the module's wrapped provider reports for a provider failing so. */
  const failure = (
    fail: (done: (error: unknown) => void) => void,
    token = jwt.sign({ sub: 'client' }, secret),
  ) => {
    const config = new AuthConfig({
      auth: {
        ...auth,
        secretOrKey: undefined,
        secretOrKeyProvider: (_request, _token, done) => fail(done),
      },
    });
    return new Promise<unknown>((resolve) =>
      config.options.secretOrKeyProvider!({}, token, resolve),
    );
  };
  const named = (name: string) => Object.assign(new Error('x'), { name });

  // jwks-rsa reads a 200 that is no key set into the engine's errors, and
  // an invalid jwksUri is its ArgumentError: none is the token's fault.
  it.each([
    new SyntaxError('Unexpected token'),
    new TypeError("Cannot read properties of null (reading 'keys')"),
    named('ArgumentError'),
  ])('reports %p as the key source failing', async (error) => {
    const reported = await failure((done) => done(error));
    expect(isKeySourceOutage(reported)).toBe(true);
    expect(reported).toMatchObject({ cause: error });
    const thrown = await failure(() => {
      throw error;
    });
    expect(isKeySourceOutage(thrown)).toBe(true);
  });

  it.each([
    ['no JWS', 'token'],
    [
      'a payload that is no JSON',
      `e30.${Buffer.from('not json').toString('base64url')}.c2ln`,
    ],
  ])(
    'refuses a token that is %s as malformed without asking the provider',
    async (_what, token) => {
      let asked = false;
      const reported = await failure(() => {
        asked = true;
        // What jsonwebtoken's decode throws for such a payload.
        throw new SyntaxError('Unexpected token');
      }, token);
      expect(asked).toBe(false);
      expect(classifyTokenError(reported)).toBe('malformed');
      expect(isKeySourceOutage(reported)).toBe(false);
    },
  );

  it.each([
    named('SigningKeyNotFoundError'),
    named('JwksRateLimitError'),
    new jwt.JsonWebTokenError('jwt malformed'),
    new Error('unknown key'),
  ])('passes %p on as the token failing', async (error) => {
    const reported = await failure((done) => done(error));
    expect(reported).toBe(error);
    expect(isKeySourceOutage(reported)).toBe(false);
  });
});

describe('principalScope', () => {
  it('is the subject with one issuer, issuer and subject with several', () => {
    const principal = { subject: 'client-1', claims: { iss: 'a' } };
    expect(principalScope(principal, 'a')).toBe('sub:client-1');
    expect(principalScope(principal, ['a'])).toBe('sub:client-1');
    expect(principalScope(principal, ['a', 'b'])).toBe('sub:["a","client-1"]');
    expect(
      principalScope({ ...principal, claims: { iss: 'b' } }, ['a', 'b']),
    ).not.toBe(principalScope(principal, ['a', 'b']));
  });
});

describe('AuthConfig clockTolerance', () => {
  const futureIat = () =>
    jwt.sign(
      {
        sub: 's',
        iat: Math.floor(Date.now() / 1000) + 600,
        exp: Math.floor(Date.now() / 1000) + 1200,
      },
      secret,
      { issuer: 'iss', audience: 'aud' },
    );

  // NaN (Number() of an unset variable) made `iat > now + NaN` false: a
  // token issued ten minutes ahead was accepted.
  it.each([Number.NaN, 'soon' as unknown as number])(
    'refuses clockTolerance: %p at startup',
    (clockTolerance) => {
      expect(
        () => new AuthConfig({ auth: { ...auth, clockTolerance } }),
      ).toThrow(/auth\.clockTolerance must be a number of seconds/);
    },
  );

  it('still refuses a token issued in the future with the default tolerance', async () => {
    expect(
      await new AuthConfig({ auth }).verify(futureIat(), {}),
    ).toBeUndefined();
  });
});

describe('AuthConfig keyProviderTimeoutMs', () => {
  it.each([0, -1, Number.NaN, 120_000, '5000' as unknown as number])(
    'refuses keyProviderTimeoutMs: %p at startup',
    (keyProviderTimeoutMs) => {
      expect(
        () => new AuthConfig({ auth: { ...auth, keyProviderTimeoutMs } }),
      ).toThrow(/auth\.keyProviderTimeoutMs must be a number of milliseconds/);
    },
  );
});
