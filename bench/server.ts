// One benchmark subject on one adapter, in its own process: prints its port.
import 'reflect-metadata';
import {
  applyDecorators,
  type ArgumentsHost,
  Body,
  Catch,
  Controller,
  type CanActivate,
  type ExecutionContext,
  type ExceptionFilter,
  Get,
  Header,
  HttpCode,
  HttpException,
  type INestApplication,
  Injectable,
  Module,
  NotFoundException,
  Param,
  Post,
  Query,
  UnauthorizedException,
  UseGuards,
  ValidationPipe,
} from '@nestjs/common';
import { APP_GUARD, HttpAdapterHost, NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  SkipThrottle,
  Throttle,
  ThrottlerGuard,
  ThrottlerModule,
} from '@nestjs/throttler';
import { Type } from 'class-transformer';
import { IsArray, IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';
import halson from 'halson';
import { createServer, STATUS_CODES } from 'node:http';
import { HttpExceptionFilter } from 'nest-problem-details-filter';
import {
  HalEmbedded,
  HalLink,
  HalPage,
  HalProblemModule,
  HalResource,
  Idempotent,
  InMemoryThrottlerStorage,
  Public,
} from '../libs/hal-problem/src';
import {
  type Adapter,
  ORDERS,
  type OrderData,
  type Subject,
} from './scenarios';

const DOCS = 'https://docs.example.test/orders';
const SECRET = 'bench-secret-that-is-long-enough-0123456789';
/**
 * The throttled-429 route's window: one request an hour, so that no run
 * sees the window reopen (with a minute, a 200 could fall in the rounds of a
 * run whose first scenarios took about that long).
 */
const LIMITED_TTL_MS = 3_600_000;

class PageQuery {
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) page: number = 1;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100) size: number =
    20;
}

class CreateOrder {
  @IsArray() items: unknown[];
  @IsIn(['EUR', 'USD']) currency: string;
}

function findOrder(id: string): OrderData {
  const order = ORDERS[Number(id) - 1];
  if (!order) throw new NotFoundException(`Order ${id} does not exist`);
  return order;
}

function pageOf(query: PageQuery) {
  const start = (query.page - 1) * query.size;
  return {
    items: ORDERS.slice(start, start + query.size),
    totalPages: Math.ceil(ORDERS.length / query.size),
  };
}

// ---- the module -------------------------------------------------------------

@HalLink('self', () => [ModuleOrders, 'findOne'])
@HalLink('collection', () => [ModuleOrders, 'findAll'])
@HalLink('cancel', () => [ModuleOrders, 'cancel'], {
  when: (order: OrderData) => order.status === 'open',
})
@HalLink('describedby', DOCS)
class OrderResource {}

@Controller('orders')
@Public()
@SkipThrottle()
class ModuleOrders {
  @Get()
  @HalEmbedded('orders', { type: () => OrderResource })
  findAll(@Query() query: PageQuery) {
    const { items } = pageOf(query);
    return new HalPage(items, {
      page: query.page,
      size: query.size,
      total: ORDERS.length,
    });
  }

  @Get(':id')
  @HalResource(OrderResource)
  findOne(@Param('id') id: string) {
    return findOrder(id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @HalResource(OrderResource)
  cancel(@Param('id') id: string) {
    return findOrder(id);
  }

  @Post()
  @HalResource(OrderResource)
  create(@Body() _body: CreateOrder) {
    return ORDERS[0];
  }
}

@Controller()
@SkipThrottle()
class ModuleMisc {
  @Get('secure')
  secure() {
    return { secret: true };
  }

  @Post('payments')
  @Public()
  @Idempotent()
  @HalLink('self', '/payments/p1')
  pay(@Body() body: { amount: number }) {
    return { id: 'p1', amount: body.amount };
  }
}

@Controller()
@Public()
class ModuleThrottled {
  @Get('limited')
  @Throttle({ default: { limit: 1, ttl: LIMITED_TTL_MS } })
  limited() {
    return { ok: true };
  }

  @Get('metered')
  @HalLink('self', '/metered')
  metered() {
    return { ok: true };
  }
}

@Module({
  imports: [
    ThrottlerModule.forRoot({
      throttlers: [{ ttl: 60_000, limit: 1_000_000_000 }],
      // BENCH_THROTTLER_STORE=fixed-window: the module's InMemoryThrottlerStorage
      // instead of @nestjs/throttler's default (every other subject keeps the default).
      storage:
        process.env.BENCH_THROTTLER_STORE === 'fixed-window'
          ? new InMemoryThrottlerStorage()
          : undefined,
    }),
    HalProblemModule.forRoot({
      auth: {
        realm: 'bench',
        algorithms: ['HS256'],
        issuer: 'bench',
        audience: 'bench',
        secretOrKey: SECRET,
      },
      problemTypeBaseUri: 'https://problems.example.test/',
      hal: { relations: ['orders', 'cancel'] },
    }),
  ],
  controllers: [ModuleOrders, ModuleMisc, ModuleThrottled],
})
class ModuleApp {}

// ---- bare Nest and the peers: the same handlers, JSON built by hand ----------

type Render = (order: OrderData) => unknown;

/** Hand-built HAL, the limit the module can reach. */
const renderByHand: Render = (order) => ({
  _links: {
    self: { href: `/orders/${order.id}` },
    collection: { href: '/orders' },
    ...(order.status === 'open'
      ? { cancel: { href: `/orders/${order.id}/cancel` } }
      : {}),
    describedby: { href: DOCS },
  },
  ...order,
});

/** HAL with the halson package, what a user might pick instead. */
const renderWithHalson: Render = (order) => {
  const resource = halson({ ...order })
    .addLink('self', `/orders/${order.id}`)
    .addLink('collection', '/orders');
  if (order.status === 'open')
    resource.addLink('cancel', `/orders/${order.id}/cancel`);
  return resource.addLink('describedby', DOCS);
};

@Injectable()
class TokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (
      !context.switchToHttp().getRequest<{ headers: Record<string, string> }>()
        .headers.authorization
    ) {
      throw new UnauthorizedException();
    }
    return true;
  }
}

/** A request id of the length the module sends (a UUID). */
const CONTRACT_REQUEST_ID = '00000000-0000-4000-8000-000000000000';

/** The success headers of the contract, set by Nest from static metadata. */
const contractHeaders = applyDecorators(
  Header('Content-Type', 'application/hal+json'),
  Header('Vary', 'Accept'),
  Header('X-Request-Id', CONTRACT_REQUEST_ID),
);

/** The module's problem documents for the decomposed errors, written by hand. */
@Catch(HttpException)
class ContractProblemFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: HttpException, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const adapter = this.adapterHost.httpAdapter;
    const response = http.getResponse<unknown>();
    const status = exception.getStatus();
    const unauthorized = status === 401;
    const url = String(adapter.getRequestUrl(http.getRequest()));
    const body = JSON.stringify({
      type: unauthorized
        ? 'https://problems.example.test/authentication-required'
        : 'about:blank',
      title: unauthorized ? 'Authentication required' : STATUS_CODES[status],
      status,
      detail: unauthorized
        ? 'This request needs an access token: send Authorization: Bearer <token>.'
        : exception.message,
      instance: url.split('?')[0],
      requestId: CONTRACT_REQUEST_ID,
    });
    if (unauthorized)
      adapter.setHeader(response, 'WWW-Authenticate', 'Bearer realm="bench"');
    adapter.setHeader(response, 'X-Request-Id', CONTRACT_REQUEST_ID);
    adapter.setHeader(response, 'Content-Type', 'application/problem+json');
    adapter.reply(response, body, status);
  }
}

function handBuiltControllers(render: Render, contract: boolean) {
  const headers = contract ? contractHeaders : () => undefined;

  @Controller('orders')
  @SkipThrottle()
  class Orders {
    @Get()
    @headers
    findAll(@Query() query: PageQuery) {
      const { items, totalPages } = pageOf(query);
      const href = (page: number) => `/orders?page=${page}&size=${query.size}`;
      return {
        _links: {
          self: { href: href(query.page) },
          first: { href: href(1) },
          ...(query.page > 1 ? { prev: { href: href(query.page - 1) } } : {}),
          ...(query.page < totalPages
            ? { next: { href: href(query.page + 1) } }
            : {}),
          last: { href: href(totalPages) },
        },
        page: {
          number: query.page,
          size: query.size,
          totalElements: ORDERS.length,
          totalPages,
        },
        _embedded: { orders: items.map(render) },
      };
    }

    @Get(':id')
    @headers
    findOne(@Param('id') id: string) {
      return render(findOrder(id));
    }

    @Post()
    create(@Body() _body: CreateOrder) {
      return render(ORDERS[0]);
    }
  }

  @Controller()
  @SkipThrottle()
  class Misc {
    @Get('secure')
    @UseGuards(TokenGuard)
    secure() {
      return { secret: true };
    }

    /** The replay a perfect idempotency layer would send: the stored body, 200. */
    @Post('payments')
    @HttpCode(200)
    pay(@Body() body: { amount: number }) {
      return {
        _links: { self: { href: '/payments/p1' } },
        id: 'p1',
        amount: body.amount,
      };
    }
  }

  @Controller()
  class Throttled {
    @Get('limited')
    @Throttle({ default: { limit: 1, ttl: LIMITED_TTL_MS } })
    limited() {
      return { ok: true };
    }

    @Get('metered')
    metered() {
      return { _links: { self: { href: '/metered' } }, ok: true };
    }
  }
  return [Orders, Misc, Throttled];
}

function handBuiltModule(render: Render, contract = false) {
  @Module({
    imports: [
      ThrottlerModule.forRoot({
        throttlers: [{ ttl: 60_000, limit: 1_000_000_000 }],
      }),
    ],
    controllers: handBuiltControllers(render, contract),
    providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
  })
  class HandBuiltApp {}
  return HandBuiltApp;
}

async function startNest(
  subject: Exclude<Subject, 'raw'>,
  adapter: Adapter,
): Promise<INestApplication> {
  const module =
    subject === 'module'
      ? ModuleApp
      : handBuiltModule(
          subject === 'peer' ? renderWithHalson : renderByHand,
          subject === 'bare-contract',
        );
  const app = await NestFactory.create(
    module,
    adapter === 'fastify' ? new FastifyAdapter() : new ExpressAdapter(),
    {
      logger: ['error'],
    },
  );
  if (subject !== 'module') {
    app.useGlobalPipes(
      new ValidationPipe({
        whitelist: true,
        forbidNonWhitelisted: true,
        transform: true,
      }),
    );
  }
  if (subject === 'peer')
    app.useGlobalFilters(new HttpExceptionFilter(app.get(HttpAdapterHost)));
  if (subject === 'bare-contract')
    app.useGlobalFilters(new ContractProblemFilter(app.get(HttpAdapterHost)));
  return app;
}

/** node:http replaying recorded responses byte for byte: the ceiling of the machine. */
function startRaw(
  recorded: Record<
    string,
    { status: number; headers: Record<string, string>; body: string }
  >,
) {
  const server = createServer((request, response) => {
    const key = `${request.method} ${request.url}`;
    const answer = recorded[key] ?? { status: 404, headers: {}, body: '' };
    request.resume();
    request.on('end', () => {
      response.writeHead(answer.status, answer.headers);
      response.end(answer.body);
    });
  });
  return new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve((server.address() as { port: number }).port),
    ),
  );
}

async function main(): Promise<void> {
  const [subject, adapter, recordedJson] = process.argv.slice(2) as [
    Subject,
    Adapter,
    string?,
  ];
  let port: number;
  if (subject === 'raw') {
    port = await startRaw(
      JSON.parse(
        Buffer.from(recordedJson ?? 'e30=', 'base64').toString(),
      ) as never,
    );
  } else {
    const app = await startNest(subject, adapter);
    await app.listen(0, '127.0.0.1');
    const server = app.getHttpServer() as { address(): { port: number } };
    port = server.address().port;
  }
  process.on('SIGINT', () => process.exit(0));
  process.on('message', (message) => {
    if (message === 'memory') {
      (globalThis as { gc?: () => void }).gc?.();
      const { rss, heapUsed, external } = process.memoryUsage();
      process.send?.({ rss, heapUsed, external });
    }
  });
  process.send?.({ port });
}

void main();
