import {
  BadGatewayException,
  Controller,
  Get,
  Module,
  type Provider,
  ValidationPipe,
} from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import {
  type ClientProxy,
  ClientProxyFactory,
  EventPattern,
  MessagePattern,
  Payload,
  RpcException,
  Transport,
} from '@nestjs/microservices';
import { WsAdapter } from '@nestjs/platform-ws';
import {
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WsException,
} from '@nestjs/websockets';
import { ThrottlerModule } from '@nestjs/throttler';
import { IsInt, IsString, Min } from 'class-validator';
import { firstValueFrom } from 'rxjs';
import WebSocket from 'ws';
import {
  HalProblemModule,
  Principal,
  Public,
  Scopes,
  SkipHal,
} from 'nestjs-hal-problem';
import {
  ADAPTERS,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';
import { expectProblem } from './support/problem-assertions';
import { AUTH_OPTIONS } from './fixtures/auth-fixture.module';

/**
 * A hybrid app: HTTP, a TCP microservice and a WebSocket gateway in one
 * process, called over real sockets. With the module, messages and events
 * are answered exactly as Nest answers them without it (its contract is
 * HTTP's): no token asked, no rate limit counted, no internals sent.
 */

/** Two requests a minute: any message counted would soon be refused. */
const LIMIT = 2;
/** Sent past the limit, on every transport. */
const CALLS = LIMIT + 3;

class ItemDto {
  @IsString() name!: string;
  @IsInt() @Min(1) quantity!: number;
}

/** An internal failure whose own properties must not reach the client. */
function databaseError(): Error {
  return Object.assign(new Error('connection to db-7 refused'), {
    query: 'SELECT password FROM users',
  });
}

/** Resolved by the event handler: an event is seen without waiting a while. */
let eventSeen: (data: unknown) => void = () => undefined;

@Controller('hybrid')
@SkipHal()
class HybridController {
  @Get('open')
  @Public()
  open(): { ok: true } {
    return { ok: true };
  }

  @Get('closed')
  closed(): { ok: true } {
    return { ok: true };
  }

  @MessagePattern('ping')
  ping(@Payload() data: unknown): { pong: unknown } {
    return { pong: data };
  }

  @MessagePattern('rpc-error')
  rpcError(@Payload() data: { object?: boolean }): never {
    throw new RpcException(
      data.object ? { code: 'E_STOCK', message: 'Out of stock.' } : 'Refused.',
    );
  }

  @MessagePattern('plain-error')
  plainError(): never {
    throw databaseError();
  }

  @MessagePattern('http-error')
  httpError(): never {
    throw new BadGatewayException('Upstream failed.', {
      cause: databaseError(),
    });
  }

  @MessagePattern('item')
  item(@Payload() item: ItemDto): { item: ItemDto; validated: boolean } {
    return { item, validated: item instanceof ItemDto };
  }

  @MessagePattern('scoped')
  @Scopes('widgets:write')
  scoped(): string {
    return 'ran';
  }

  @MessagePattern('whoami')
  whoami(@Principal() principal: unknown): { principal: string } {
    return { principal: principal === undefined ? 'none' : 'set' };
  }

  @EventPattern('created')
  created(@Payload() data: unknown): void {
    eventSeen(data);
  }
}

@WebSocketGateway()
class HybridGateway {
  @SubscribeMessage('ping')
  ping(@MessageBody() data: unknown): { event: string; data: unknown } {
    return { event: 'pong', data };
  }

  @SubscribeMessage('ws-error')
  wsError(): never {
    throw new WsException('Refused.');
  }

  @SubscribeMessage('plain-error')
  plainError(): never {
    throw databaseError();
  }

  @SubscribeMessage('item')
  item(@MessageBody() item: ItemDto): { event: string; data: unknown } {
    return { event: 'item', data: { validated: item instanceof ItemDto } };
  }

  @SubscribeMessage('scoped')
  @Scopes('widgets:write')
  scoped(): { event: string; data: string } {
    return { event: 'scoped', data: 'ran' };
  }

  @SubscribeMessage('whoami')
  whoami(@Principal() principal: unknown): { event: string; data: string } {
    return { event: 'whoami', data: principal === undefined ? 'none' : 'set' };
  }
}

/**
 * `module`: the module with global authentication and a rate limit; `none`:
 * Nest alone, with its own ValidationPipe as a global pipe. Both must
 * answer every message and event alike.
 */
type Setup = 'module' | 'none';

function providersOf(setup: Setup): Provider[] {
  return setup === 'none'
    ? [
        HybridGateway,
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({
            whitelist: true,
            forbidNonWhitelisted: true,
            transform: true,
          }),
        },
      ]
    : [HybridGateway];
}

interface Hybrid {
  readonly running: RunningApp;
  readonly client: ClientProxy;
  readonly wsUrl: string;
  close(): Promise<void>;
}

async function startHybrid(
  adapter: (typeof ADAPTERS)[number],
  setup: Setup,
  inheritAppConfig: boolean,
): Promise<Hybrid> {
  @Module({
    imports:
      setup === 'module'
        ? [
            ThrottlerModule.forRoot({
              throttlers: [{ ttl: 60_000, limit: LIMIT }],
            }),
            HalProblemModule.forRoot(AUTH_OPTIONS),
          ]
        : [],
    controllers: [HybridController],
    providers: providersOf(setup),
  })
  class HybridModule {}
  const running = await startTestingApp(
    adapter,
    Test.createTestingModule({ imports: [HybridModule] }),
    async (app) => {
      app.useWebSocketAdapter(new WsAdapter(app));
      // Port 0: the system picks a free one, read back below.
      app.connectMicroservice(
        { transport: Transport.TCP, options: { host: '127.0.0.1', port: 0 } },
        { inheritAppConfig },
      );
      await app.startAllMicroservices();
    },
  );
  const [microservice] = running.app.getMicroservices();
  const { port } = microservice
    .unwrap<{ address(): { port: number } }>()
    .address();
  const client = ClientProxyFactory.create({
    transport: Transport.TCP,
    options: { host: '127.0.0.1', port },
  });
  await client.connect();
  return {
    running,
    client,
    wsUrl: running.baseUrl.replace(/^http/, 'ws'),
    close: async () => {
      await client.close();
      await running.close();
    },
  };
}

/** What a message pattern answered: its result, or the error the client got. */
async function send(
  client: ClientProxy,
  pattern: string,
  data: unknown = {},
): Promise<{ result?: unknown; error?: unknown }> {
  try {
    return { result: await firstValueFrom(client.send(pattern, data)) };
  } catch (error) {
    return { error };
  }
}

/** One WebSocket message on its own connection, and the first message back. */
async function wsSend(url: string, event: string, data: unknown = {}) {
  const socket = new WebSocket(url);
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const reply = new Promise<unknown>((resolve, reject) => {
    // A text frame: ws hands it over as one Buffer.
    socket.once('message', (message) =>
      resolve(JSON.parse((message as Buffer).toString('utf8'))),
    );
    // The server closing first means it answered nothing.
    socket.once('close', () => reject(new Error(`no answer to ${event}`)));
  });
  socket.send(JSON.stringify({ event, data }));
  try {
    return await reply;
  } finally {
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.close();
    await closed;
  }
}

/** Nest's answer to anything but an RpcException/WsException. */
const INTERNAL = { status: 'error', message: 'Internal server error' };

describe.each(
  ADAPTERS.flatMap((adapter) =>
    (['module', 'none'] as const).flatMap((setup) =>
      [true, false].map((inherit) => [adapter, setup, inherit] as const),
    ),
  ),
)(
  'TCP microservice in a hybrid app on %s (%s, inheritAppConfig: %s)',
  (adapter, setup, inherit) => {
    let hybrid: Hybrid;
    const call = (pattern: string, data?: unknown) =>
      send(hybrid.client, pattern, data);

    beforeAll(async () => {
      hybrid = await startHybrid(adapter, setup, inherit);
    });
    afterAll(() => hybrid.close());

    it('answers every message, past the rate limit and with no token', async () => {
      for (let i = 0; i < CALLS; i++)
        expect(await call('ping', { i })).toEqual({ result: { pong: { i } } });
      expect(await call('ping', 'text')).toEqual({ result: { pong: 'text' } });
    });

    it('delivers events', async () => {
      const seen = new Promise((resolve) => (eventSeen = resolve));
      await firstValueFrom(hybrid.client.emit('created', { id: 7 }));
      await expect(seen).resolves.toEqual({ id: 7 });
    });

    it("sends an RpcException's error as Nest does", async () => {
      expect(await call('rpc-error')).toEqual({
        error: { status: 'error', message: 'Refused.' },
      });
      expect(await call('rpc-error', { object: true })).toEqual({
        error: { code: 'E_STOCK', message: 'Out of stock.' },
      });
    });

    it('sends any other error as "Internal server error", nothing of it', async () => {
      expect(await call('plain-error')).toEqual({ error: INTERNAL });
      // An HttpException is no RPC answer either; its cause stays inside.
      expect(await call('http-error')).toEqual({ error: INTERNAL });
    });

    it('validates a DTO payload with the global pipe when the app config is inherited', async () => {
      expect(await call('item', { name: 'bolt', quantity: 2 })).toEqual({
        result: { item: { name: 'bolt', quantity: 2 }, validated: inherit },
      });
      const invalid = await call('item', { name: 1, quantity: 0, admin: 1 });
      expect(invalid).toEqual(
        inherit
          ? { error: INTERNAL }
          : {
              result: {
                item: { name: 1, quantity: 0, admin: 1 },
                validated: false,
              },
            },
      );
    });

    it('enforces no @Scopes() and gives no principal a sender could write', async () => {
      expect(await call('scoped')).toEqual({ result: 'ran' });
      expect(
        await call('whoami', { user: { subject: 'admin', scopes: ['*'] } }),
      ).toEqual({ result: { principal: 'none' } });
    });
  },
);

describe.each(
  ADAPTERS.flatMap((adapter) =>
    (['module', 'none'] as const).map((setup) => [adapter, setup] as const),
  ),
)('WebSocket gateway in a hybrid app on %s (%s)', (adapter, setup) => {
  let hybrid: Hybrid;
  const call = (event: string, data?: unknown) =>
    wsSend(hybrid.wsUrl, event, data);

  beforeAll(async () => {
    hybrid = await startHybrid(adapter, setup, true);
  });
  afterAll(() => hybrid.close());

  it('answers every message, past the rate limit and with no token', async () => {
    for (let i = 0; i < CALLS; i++)
      expect(await call('ping', { i })).toEqual({
        event: 'pong',
        data: { i },
      });
  });

  it("sends a WsException's error as Nest does", async () => {
    expect(await call('ws-error', { n: 1 })).toEqual({
      event: 'exception',
      data: {
        status: 'error',
        message: 'Refused.',
        cause: { pattern: 'ws-error', data: { n: 1 } },
      },
    });
  });

  it('sends any other error as "Internal server error", nothing of it', async () => {
    expect(await call('plain-error')).toEqual({
      event: 'exception',
      data: { ...INTERNAL, cause: { pattern: 'plain-error', data: {} } },
    });
  });

  it('validates a DTO body with the global pipe', async () => {
    expect(await call('item', { name: 'bolt', quantity: 2 })).toEqual({
      event: 'item',
      data: { validated: true },
    });
    const invalid = { name: 1, quantity: 0 };
    expect(await call('item', invalid)).toEqual({
      event: 'exception',
      data: { ...INTERNAL, cause: { pattern: 'item', data: invalid } },
    });
  });

  it('enforces no @Scopes() and has no principal', async () => {
    expect(await call('scoped')).toEqual({ event: 'scoped', data: 'ran' });
    expect(await call('whoami')).toEqual({ event: 'whoami', data: 'none' });
  });
});

describe.each(ADAPTERS)(
  'HTTP beside the microservice and the gateway on %s',
  (adapter) => {
    let hybrid: Hybrid;

    beforeAll(async () => {
      hybrid = await startHybrid(adapter, 'module', true);
    });
    afterAll(() => hybrid.close());

    it('keeps the contract: messages are not counted, routes still are', async () => {
      for (let i = 0; i < CALLS; i++) {
        await send(hybrid.client, 'ping', { i });
        await wsSend(hybrid.wsUrl, 'ping', { i });
      }
      const get = (path: string) => fetch(`${hybrid.running.baseUrl}${path}`);
      const first = await get('/hybrid/open');
      expect(first.status).toBe(200);
      expect(first.headers.get('ratelimit')).toMatch(
        new RegExp(`^"default";r=${LIMIT - 1};t=\\d+$`),
      );
      await expectProblem(await get('/hybrid/closed'), 401);
      await expectProblem(await get('/hybrid/open'), 429);
    });
  },
);
