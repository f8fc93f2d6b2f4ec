import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

const SHARED_PORT = 6379;

/**
 * Whether the machine's redis-server answers on 127.0.0.1:6379. Checked
 * synchronously at load so suites can choose `describe` or `describe.skip`.
 * Under CI=true a missing Redis is a failure, never a silent skip.
 */
export function redisAvailable(): boolean {
  const ping = spawnSync(
    'redis-cli',
    ['-h', '127.0.0.1', '-p', String(SHARED_PORT), 'ping'],
    {
      encoding: 'utf8',
      timeout: 2000,
    },
  );
  const available = ping.stdout?.trim() === 'PONG';
  if (!available && process.env.CI === 'true') {
    throw new Error(
      'Redis tests need redis-server on 127.0.0.1:6379 (CI=true): .ci/run installs and starts it',
    );
  }
  if (!available) {
    process.stderr.write(
      'Skipping Redis tests: no redis-server answers on 127.0.0.1:6379 (they fail under CI=true).\n',
    );
  }
  return available;
}

/** `describe` when Redis is there, else `describe.skip` with one clear line. */
export const describeWithRedis: jest.Describe = redisAvailable()
  ? describe
  : describe.skip;

/**
 * A connected client that fails fast instead of queueing commands while
 * disconnected (as an app should configure it, so an outage is seen at once).
 */
export async function redisClient(port = SHARED_PORT): Promise<Redis> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 1000,
    retryStrategy: () => 100,
  });
  if (client.status !== 'ready') await once(client, 'ready');
  return client;
}

/** A unique key prefix, so concurrent test runs never share keys on the shared Redis. */
export function uniquePrefix(name: string): string {
  return `test:${name}:${process.pid}:${Date.now()}:${Math.random().toString(36).slice(2)}:`;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** A private redis-server on its own port, for tests that stop and restart Redis. */
export class OwnRedisServer {
  private process: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedisServer> {
    const server = new OwnRedisServer(await freePort());
    await server.start();
    return server;
  }

  async start(): Promise<void> {
    this.process = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 100; i++) {
      const ping = spawnSync('redis-cli', ['-p', String(this.port), 'ping'], {
        encoding: 'utf8',
      });
      if (ping.stdout?.trim() === 'PONG') return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

/**
 * A private redis-server and a client of it for the enclosing describe block:
 * started before its tests, stopped after them. Read both inside the tests.
 */
export function useOwnRedis(): {
  readonly server: OwnRedisServer;
  readonly redis: Redis;
} {
  let server: OwnRedisServer | undefined;
  let redis: Redis | undefined;
  beforeAll(async () => {
    server = await OwnRedisServer.start();
    redis = await redisClient(server.port);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });
  return {
    get server() {
      if (!server)
        throw new Error('useOwnRedis: read the server inside a test');
      return server;
    },
    get redis() {
      if (!redis) throw new Error('useOwnRedis: read the client inside a test');
      return redis;
    },
  };
}
