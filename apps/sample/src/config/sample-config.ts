/**
 * The sample's configuration, read once from the environment at start.
 * A bad value stops the start with one line naming the variable: a service
 * that silently falls back to a default is harder to operate than one that
 * refuses to start.
 */
export type HttpAdapterName = 'express' | 'fastify';

export interface SampleConfig {
  readonly port: number;
  readonly httpAdapter: HttpAdapterName;
  readonly jwtSecret: string;
  readonly jwtIssuer: string;
  readonly jwtAudience: string;
  readonly throttleLimit: number;
  readonly throttleTtlMs: number;
  readonly bodyLimitBytes: number;
  readonly redisUrl: string | undefined;
  /** Proxies in front of the app that append `X-Forwarded-*`/`Forwarded`; 0: none. */
  readonly trustProxy: number;
  readonly reportDelayMs: number;
  readonly maintenanceMode: boolean;
  readonly oauthClients: readonly OAuthClient[];
}

/** A client of the token endpoint (client-credentials grant). */
export interface OAuthClient {
  readonly id: string;
  readonly secret: string;
  readonly scopes: readonly string[];
}

/** The development clients; replace them with OAUTH_CLIENTS. */
export const DEVELOPMENT_OAUTH_CLIENTS: readonly OAuthClient[] = [
  { id: 'reader', secret: 'reader-secret', scopes: ['orders:read'] },
  {
    id: 'writer',
    secret: 'writer-secret',
    scopes: ['orders:read', 'orders:write', 'reports:write'],
  },
];

/** `OAUTH_CLIENTS=id:secret:scope scope,id2:secret2:scope` */
function oauthClients(env: Env): readonly OAuthClient[] {
  const raw = value(env, 'OAUTH_CLIENTS');
  if (raw === undefined) return DEVELOPMENT_OAUTH_CLIENTS;
  const clients = raw.split(',').map((entry) => {
    // Scopes may contain colons themselves (orders:read): only the first two split.
    const [id, secret, ...rest] = entry.split(':');
    const scopes = rest.join(':');
    if (!id || !secret || !/^[A-Za-z0-9._-]+$/.test(id) || secret.length < 8) {
      throw new ConfigError(
        'OAUTH_CLIENTS',
        'expected id:secret:scopes entries, secrets of at least 8 characters',
      );
    }
    return { id, secret, scopes: scopes.split(' ').filter(Boolean) };
  });
  const ids = clients.map((client) => client.id);
  const repeated = ids.find((id, index) => ids.indexOf(id) !== index);
  if (repeated !== undefined)
    throw new ConfigError(
      'OAUTH_CLIENTS',
      `client "${repeated}" is listed twice`,
    );
  return clients;
}

/** The development secret; refused when NODE_ENV=production. */
export const DEVELOPMENT_JWT_SECRET =
  'orders-sample-development-secret-change-me';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * A variable's value, or undefined when it is not set. Set but blank is a
 * bad value, not "unset": `REDIS_URL=` from a missing secret would
 * otherwise run every instance on its own in-memory stores, silently.
 */
function value(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined) return undefined;
  if (raw.trim() === '')
    throw new ConfigError(name, 'is set but empty; unset it for the default');
  return raw.trim();
}

function integer(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) {
    throw new ConfigError(name, `expected a whole number, got "${raw}"`);
  }
  const number = Number(raw);
  if (number < min || number > max) {
    throw new ConfigError(
      name,
      `expected a number from ${min} to ${max}, got ${number}`,
    );
  }
  return number;
}

function boolean(env: Env, name: string): boolean {
  const raw = value(env, name)?.toLowerCase();
  if (raw === undefined) return false;
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(name, `expected true or false, got "${env[name]}"`);
}

/**
 * A count of proxies: `true`/`yes` for one, `false`/`no` for none, or a
 * number. One count for every layer that reads forwarded headers (the
 * platform's client address, the rate limiter's, the links' host): with
 * `true`, Express and Fastify would trust every hop, so the leftmost
 * `X-Forwarded-For` element, which a client writes, would be the address.
 */
function proxyHops(env: Env, name: string): number {
  const raw = value(env, name)?.toLowerCase();
  if (raw === undefined) return 0;
  if (['true', 'yes'].includes(raw)) return 1;
  if (['false', 'no'].includes(raw)) return 0;
  return integer(env, name, 0, 0, 10);
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2 };

/** Parses `100kb`, `1mb`, `512` (bytes) the way body-parser's `limit` does. */
export function parseByteSize(name: string, raw: string): number {
  const match = /^(\d+)\s*(b|kb|mb)?$/i.exec(raw.trim());
  if (!match)
    throw new ConfigError(
      name,
      `expected a size such as 100kb or 1mb, got "${raw}"`,
    );
  const bytes = Number(match[1]) * SIZE_UNITS[(match[2] ?? 'b').toLowerCase()];
  if (bytes < 1 || bytes > 64 * 1024 ** 2) {
    throw new ConfigError(
      name,
      `expected a size from 1b to 64mb, got "${raw}"`,
    );
  }
  return bytes;
}

export function loadSampleConfig(env: Env = process.env): SampleConfig {
  const httpAdapter = (value(env, 'HTTP_ADAPTER') ?? 'express').toLowerCase();
  if (httpAdapter !== 'express' && httpAdapter !== 'fastify') {
    throw new ConfigError(
      'HTTP_ADAPTER',
      `expected express or fastify, got "${env.HTTP_ADAPTER}"`,
    );
  }
  const jwtSecret = env.JWT_SECRET ?? DEVELOPMENT_JWT_SECRET;
  if (jwtSecret.length < 32) {
    throw new ConfigError(
      'JWT_SECRET',
      'must be at least 32 characters for HS256',
    );
  }
  if (env.NODE_ENV === 'production' && jwtSecret === DEVELOPMENT_JWT_SECRET) {
    throw new ConfigError(
      'JWT_SECRET',
      'the development secret is refused with NODE_ENV=production',
    );
  }
  const redisUrl = value(env, 'REDIS_URL');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    throw new ConfigError(
      'REDIS_URL',
      `expected a redis:// or rediss:// URL, got "${redisUrl}"`,
    );
  }
  return {
    port: integer(env, 'PORT', 3000, 0, 65535),
    httpAdapter,
    jwtSecret,
    jwtIssuer: value(env, 'JWT_ISSUER') ?? 'orders-sample',
    jwtAudience: value(env, 'JWT_AUDIENCE') ?? 'orders-api',
    throttleLimit: integer(env, 'THROTTLE_LIMIT', 100, 1, 1_000_000),
    throttleTtlMs: integer(env, 'THROTTLE_TTL_MS', 60_000, 1, 86_400_000),
    bodyLimitBytes: parseByteSize(
      'BODY_LIMIT',
      value(env, 'BODY_LIMIT') ?? '100kb',
    ),
    redisUrl,
    trustProxy: proxyHops(env, 'TRUST_PROXY'),
    reportDelayMs: integer(env, 'REPORT_DELAY_MS', 1000, 0, 3_600_000),
    maintenanceMode: boolean(env, 'MAINTENANCE_MODE'),
    oauthClients: oauthClients(env),
  };
}
