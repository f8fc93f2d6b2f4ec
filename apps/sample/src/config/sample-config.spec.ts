import {
  ConfigError,
  DEVELOPMENT_JWT_SECRET,
  DEVELOPMENT_OAUTH_CLIENTS,
  loadSampleConfig,
  parseByteSize,
} from './sample-config';

describe('loadSampleConfig', () => {
  it('uses the documented defaults with an empty environment', () => {
    expect(loadSampleConfig({})).toEqual({
      port: 3000,
      httpAdapter: 'express',
      jwtSecret: DEVELOPMENT_JWT_SECRET,
      jwtIssuer: 'orders-sample',
      jwtAudience: 'orders-api',
      throttleLimit: 100,
      throttleTtlMs: 60_000,
      bodyLimitBytes: 100 * 1024,
      redisUrl: undefined,
      trustProxy: 0,
      reportDelayMs: 1000,
      maintenanceMode: false,
      oauthClients: DEVELOPMENT_OAUTH_CLIENTS,
    });
  });

  it('reads OAuth clients', () => {
    expect(
      loadSampleConfig({
        OAUTH_CLIENTS: 'a:secret-a1:x orders:read,b:secret-b1:',
      }).oauthClients,
    ).toEqual([
      { id: 'a', secret: 'secret-a1', scopes: ['x', 'orders:read'] },
      { id: 'b', secret: 'secret-b1', scopes: [] },
    ]);
    expect(() => loadSampleConfig({ OAUTH_CLIENTS: 'a:short:x' })).toThrow(
      /^OAUTH_CLIENTS: /,
    );
  });

  it('refuses a variable set but empty, instead of falling back', () => {
    for (const name of [
      'PORT',
      'HTTP_ADAPTER',
      'JWT_ISSUER',
      'JWT_AUDIENCE',
      'THROTTLE_LIMIT',
      'BODY_LIMIT',
      'REDIS_URL',
      'TRUST_PROXY',
      'MAINTENANCE_MODE',
      'OAUTH_CLIENTS',
    ]) {
      for (const blank of ['', '  '])
        expect(() => loadSampleConfig({ [name]: blank })).toThrow(
          new RegExp(`^${name}: `),
        );
    }
  });

  it('refuses an OAuth client listed twice', () => {
    expect(() =>
      loadSampleConfig({ OAUTH_CLIENTS: 'a:secret-a1:x,a:secret-a2:y' }),
    ).toThrow('OAUTH_CLIENTS: client "a" is listed twice');
  });

  it('reads every variable', () => {
    const config = loadSampleConfig({
      PORT: '0',
      HTTP_ADAPTER: 'Fastify',
      THROTTLE_LIMIT: '5',
      THROTTLE_TTL_MS: '1000',
      BODY_LIMIT: '1mb',
      REDIS_URL: 'redis://127.0.0.1:6379',
      TRUST_PROXY: 'true',
      REPORT_DELAY_MS: '10',
      MAINTENANCE_MODE: '1',
    });
    expect(config).toMatchObject({
      port: 0,
      httpAdapter: 'fastify',
      throttleLimit: 5,
      throttleTtlMs: 1000,
      bodyLimitBytes: 1024 * 1024,
      redisUrl: 'redis://127.0.0.1:6379',
      trustProxy: 1,
      reportDelayMs: 10,
      maintenanceMode: true,
    });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['HTTP_ADAPTER', 'koa'],
    ['THROTTLE_LIMIT', '0'],
    ['THROTTLE_TTL_MS', '1.5'],
    ['BODY_LIMIT', 'lots'],
    ['REDIS_URL', 'localhost:6379'],
    ['TRUST_PROXY', 'maybe'],
    ['TRUST_PROXY', '-1'],
    ['TRUST_PROXY', '11'],
    ['MAINTENANCE_MODE', 'on-ish'],
    ['JWT_SECRET', 'short'],
  ])('refuses %s=%s and names the variable', (name, value) => {
    expect(() => loadSampleConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadSampleConfig({ [name]: value })).toThrow(
      new RegExp(`^${name}: `),
    );
  });

  it.each([
    ['true', 1],
    ['yes', 1],
    ['false', 0],
    ['0', 0],
    ['1', 1],
    ['2', 2],
  ])('reads TRUST_PROXY=%s as %d proxies', (raw, hops) => {
    expect(loadSampleConfig({ TRUST_PROXY: raw }).trustProxy).toBe(hops);
  });

  it('refuses the development secret in production', () => {
    expect(() => loadSampleConfig({ NODE_ENV: 'production' })).toThrow(
      /JWT_SECRET/,
    );
    expect(
      loadSampleConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) })
        .jwtSecret,
    ).toBe('x'.repeat(40));
  });

  it('parses body sizes like body-parser', () => {
    expect(parseByteSize('BODY_LIMIT', '512')).toBe(512);
    expect(parseByteSize('BODY_LIMIT', '100KB')).toBe(102_400);
  });
});
