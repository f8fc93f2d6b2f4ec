import {
  type ArgumentsHost,
  type ModuleMetadata,
  Body,
  Catch,
  ClassSerializerInterceptor,
  type ClassSerializerContextOptions,
  Controller,
  type ExceptionFilter,
  Get,
  Header,
  HttpCode,
  Inject,
  Injectable,
  Logger,
  Module,
  Param,
  type PlainLiteralObject,
  Post,
  Put,
  Res,
  Scope,
  ValidationPipe,
  VERSION_NEUTRAL,
  VersioningType,
} from '@nestjs/common';
import {
  APP_FILTER,
  APP_INTERCEPTOR,
  APP_PIPE,
  type ContextId,
  ContextIdFactory,
  type ContextIdStrategy,
  type HostComponentInfo,
  HttpAdapterHost,
  REQUEST,
} from '@nestjs/core';
import { Exclude } from 'class-transformer';
import {
  HalEmbedded,
  HalLink,
  HalOperation,
  HalPage,
  HalProblemModule,
  HalResource,
  Idempotent,
  Operation,
  OperationsService,
  Scopes,
} from 'nestjs-hal-problem';
import { AUTH_OPTIONS } from './fixtures/auth-fixture.module';
import { signToken } from './support/tokens';
import {
  ADAPTERS,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';
import { expectProblem } from './support/problem-assertions';

/** Nest features an app combines with the module, each in a throwaway app. */

class TeapotError extends Error {}

/** An app's own filter for one error, answering through the adapter as Nest's docs show. */
@Catch(TeapotError)
class TeapotFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}
  catch(error: TeapotError, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    httpAdapter.reply(
      host.switchToHttp().getResponse(),
      { teapot: error.message },
      418,
    );
  }
}

let brews = 0;

@Controller('kettle')
class KettleController {
  @Get('teapot')
  teapot(): never {
    throw new TeapotError('short and stout');
  }

  @Get('other')
  other(): never {
    throw new Error('not a teapot');
  }

  @Post()
  @Idempotent()
  brew(@Body() _body: unknown): never {
    brews++;
    throw new TeapotError('no tea left');
  }
}

/** The app's filter in a module imported before the module's own. */
@Module({ providers: [{ provide: APP_FILTER, useClass: TeapotFilter }] })
class TeapotFilterModule {}

const filterPlacements: [string, ModuleMetadata][] = [
  [
    'in the root module',
    {
      imports: [HalProblemModule.forRoot()],
      providers: [{ provide: APP_FILTER, useClass: TeapotFilter }],
    },
  ],
  [
    'in a module imported before it',
    { imports: [TeapotFilterModule, HalProblemModule.forRoot()] },
  ],
  [
    'in a module imported after it',
    { imports: [HalProblemModule.forRoot(), TeapotFilterModule] },
  ],
];

describe.each(ADAPTERS)("an app's own APP_FILTER on %s", (adapter) => {
  describe.each(filterPlacements)('%s', (where, metadata) => {
    let running: RunningApp;
    beforeAll(async () => {
      @Module({ ...metadata, controllers: [KettleController] })
      class FilteredAppModule {}
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [FilteredAppModule] }),
      );
    });
    afterAll(() => running.close());

    it('answers the errors it catches, wherever it is registered', async () => {
      const response = await fetch(`${running.baseUrl}/kettle/teapot`);
      expect(response.status).toBe(418);
      expect(await response.json()).toEqual({ teapot: 'short and stout' });
    });

    it('leaves every other error to the module', async () => {
      await expectProblem(await fetch(`${running.baseUrl}/kettle/other`), 500);
    });

    it('releases the Idempotency-Key of a request it answered', async () => {
      const send = () =>
        fetch(`${running.baseUrl}/kettle`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': `"kettle-${adapter}-${where}"`,
          },
          body: '{}',
        });
      const before = brews;
      expect((await send()).status).toBe(418);
      const retry = await send();
      expect(retry.status).toBe(418);
      expect(retry.headers.get('idempotent-replayed')).toBeNull();
      expect(brews).toBe(before + 2);
    });
  });
});

describe('HalProblemModule imported twice', () => {
  it.each(ADAPTERS)(
    'fails the start on %s, saying how to import it once',
    async (adapter) => {
      @Module({ imports: [HalProblemModule.forRoot()] })
      class OrdersFeatureModule {}
      @Module({ imports: [HalProblemModule.forRoot()] })
      class BillingFeatureModule {}
      @Module({
        imports: [OrdersFeatureModule, BillingFeatureModule],
        controllers: [KettleController],
      })
      class TwiceAppModule {}
      await expect(
        startTestingApp(
          adapter,
          Test.createTestingModule({ imports: [TwiceAppModule] }),
        ),
      ).rejects.toThrow(
        /HalProblemModule is imported 2 times .* Import it once, in the root module; .* forRoot\(\{ isGlobal: true \}\)/,
      );
    },
  );
});

@HalLink('self', () => [GadgetsController, 'one'])
class Gadget {
  constructor(readonly id: string) {}
}

/** One handler per operation, each served in versions 1 and 2. */
@Controller({ path: 'gadgets', version: ['1', '2'] })
class GadgetsController {
  @Get()
  list() {
    return new HalPage([new Gadget('1')], { page: 1, size: 1, total: 1 });
  }

  @Get(':id')
  one(@Param('id') id: string) {
    return new Gadget(id);
  }

  @Post()
  create() {
    return new Gadget('new');
  }
}

@HalLink('self', () => [ToolsController, 'one'])
class Tool {
  constructor(readonly id: string) {}
}

/** Served without a version segment and in version 2. */
@Controller({ path: 'tools', version: [VERSION_NEUTRAL, '2'] })
class ToolsController {
  @Get(':id')
  @HalLink('related', () => [GadgetsController, 'one'], {
    params: () => ({ id: '1' }),
  })
  one(@Param('id') id: string) {
    return new Tool(id);
  }
}

@HalLink('self', () => [KitsController, 'one'])
class Kit {
  constructor(readonly id: string) {}
}

/** Served at two paths, each in versions 1 and 2. */
@Controller({ path: ['kits', 'sets'], version: ['1', '2'] })
class KitsController {
  @Get(':id')
  one(@Param('id') id: string) {
    return new Kit(id);
  }
}

@Controller({ path: 'reports', version: '2' })
class ReportsV2Controller {
  @Get(':id')
  @HalLink('related', () => [GadgetsController, 'one'], {
    params: () => ({ id: '1' }),
  })
  one(@Param('id') id: string) {
    return { id };
  }
}

@Controller({ path: 'reports', version: '3' })
class ReportsV3Controller {
  @Get(':id')
  @HalLink('related', () => [GadgetsController, 'one'], {
    params: () => ({ id: '1' }),
  })
  one(@Param('id') id: string) {
    return { id };
  }
}

describe.each(ADAPTERS)('links under URI versioning on %s', (adapter) => {
  let running: RunningApp;
  beforeAll(async () => {
    @Module({
      imports: [HalProblemModule.forRoot()],
      controllers: [
        GadgetsController,
        ToolsController,
        ReportsV2Controller,
        ReportsV3Controller,
        KitsController,
      ],
    })
    class VersionedAppModule {}
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [VersionedAppModule] }),
      (app) => {
        app.setGlobalPrefix('api');
        app.enableVersioning({ type: VersioningType.URI });
      },
    );
  });
  afterAll(() => running.close());
  const body = async (path: string, init?: RequestInit) =>
    (await (await fetch(`${running.baseUrl}${path}`, init)).json()) as {
      _links: Record<string, { href: string }>;
      _embedded?: Record<string, { _links: { self: { href: string } } }[]>;
    };

  it('links a resource served in several versions within the version requested', async () => {
    expect((await body('/api/v2/gadgets/7'))._links.self.href).toBe(
      '/api/v2/gadgets/7',
    );
    expect((await body('/api/v1/gadgets/7'))._links.self.href).toBe(
      '/api/v1/gadgets/7',
    );
  });

  it('links within the version requested at any of its paths, not only the first', async () => {
    expect((await body('/api/v2/sets/5'))._links.self.href).toBe(
      '/api/v2/kits/5',
    );
    expect((await body('/api/v1/sets/5'))._links.self.href).toBe(
      '/api/v1/kits/5',
    );
  });

  it("gives a creation's Location in the version requested", async () => {
    const response = await fetch(`${running.baseUrl}/api/v2/gadgets`, {
      method: 'POST',
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe('/api/v2/gadgets/new');
  });

  it('links embedded items within the version requested', async () => {
    const page = await body('/api/v2/gadgets');
    expect(page._embedded?.items[0]._links.self.href).toBe('/api/v2/gadgets/1');
  });

  it("links from another controller's version to the same version of the target", async () => {
    expect((await body('/api/v2/reports/9'))._links.related.href).toBe(
      '/api/v2/gadgets/1',
    );
  });

  it('links a version-neutral request without a version, and its v2 twin within v2', async () => {
    expect((await body('/api/tools/4'))._links).toEqual({
      self: { href: '/api/tools/4' },
      related: { href: '/api/v1/gadgets/1' },
    });
    expect((await body('/api/v2/tools/4'))._links).toEqual({
      self: { href: '/api/v2/tools/4' },
      related: { href: '/api/v2/gadgets/1' },
    });
  });

  it('links to the first version of a target not served in the version requested', async () => {
    expect((await body('/api/v3/reports/9'))._links.related.href).toBe(
      '/api/v1/gadgets/1',
    );
  });
});

/** docs/hal.md's ClassSerializerInterceptor that leaves pages and operations to the module. */
@Injectable()
class HalAwareSerializer extends ClassSerializerInterceptor {
  override serialize(
    response: PlainLiteralObject | PlainLiteralObject[],
    options: ClassSerializerContextOptions,
  ): PlainLiteralObject | PlainLiteralObject[] {
    if (response instanceof HalPage)
      return new HalPage(
        response.items.map((item) =>
          super.serialize(item as PlainLiteralObject, options),
        ),
        response.meta,
        response.options,
      );
    if (response instanceof Operation) return response;
    return super.serialize(response, options);
  }
}

@HalLink('self', () => [AccountsController, 'one'])
class Part {
  constructor(readonly id: string) {}
}

@HalLink('self', () => [AccountsController, 'one'])
@HalLink('collection', () => [AccountsController, 'list'])
class Account {
  @Exclude() readonly password: string;
  @HalEmbedded('item', { type: () => Part }) readonly parts: Part[];
  constructor(
    readonly id: string,
    password = 'hunter2',
  ) {
    this.password = password;
    this.parts = [new Part(`${id}-part`)];
  }
}

@HalOperation(() => [AccountsController, 'operation'])
class AuditOperation extends Operation {}

@Controller('accounts')
class AccountsController {
  constructor(private readonly operations: OperationsService) {}

  @Get()
  list() {
    return new HalPage(
      [new Account('1')],
      { page: 1, size: 1, total: 2 },
      { type: () => Account },
    );
  }

  @Get(':id')
  @HalResource(Account)
  one(@Param('id') id: string) {
    return new Account(id);
  }

  @Post()
  @Idempotent()
  @HalResource(Account)
  create(@Body() body: { password: string }) {
    return new Account('new', body.password);
  }

  @Post('audits')
  @HttpCode(202)
  @HalResource(AuditOperation)
  audit() {
    return this.operations.start(
      'audit',
      () => new Promise<never>(() => undefined),
    );
  }

  @Get('audits/:id')
  @HalResource(AuditOperation)
  operation(@Param('id') id: string) {
    return this.operations.get(id);
  }
}

describe.each(ADAPTERS)(
  'a global ClassSerializerInterceptor on %s',
  (adapter) => {
    let running: RunningApp;
    beforeAll(async () => {
      @Module({
        imports: [HalProblemModule.forRoot({ hal: { relations: ['item'] } })],
        controllers: [AccountsController],
        providers: [{ provide: APP_INTERCEPTOR, useClass: HalAwareSerializer }],
      })
      class SerializedAppModule {}
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [SerializedAppModule] }),
      );
    });
    afterAll(() => running.close());
    type Json = Record<string, any>;

    it('keeps the links and embedded items of a @HalResource, without the excluded fields', async () => {
      const body = (await (
        await fetch(`${running.baseUrl}/accounts/7`)
      ).json()) as Json;
      expect(body).toEqual({
        _links: {
          self: { href: '/accounts/7' },
          collection: { href: '/accounts' },
        },
        id: '7',
        _embedded: {
          item: [
            { _links: { self: { href: '/accounts/7-part' } }, id: '7-part' },
          ],
        },
      });
    });

    it('stores and replays the serialized document, never an excluded field', async () => {
      const send = () =>
        fetch(`${running.baseUrl}/accounts`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': `"account-${adapter}"`,
          },
          body: JSON.stringify({ password: 'sesame' }),
        });
      const first = await send();
      expect(first.status).toBe(201);
      const replay = await send();
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      const text = await replay.text();
      expect(text).toBe(await first.text());
      expect(text).not.toContain('sesame');
      expect(JSON.parse(text)).toMatchObject({
        _links: { self: { href: '/accounts/new' } },
      });
    });

    it('renders a page as a page, its items serialized', async () => {
      const body = (await (
        await fetch(`${running.baseUrl}/accounts`)
      ).json()) as Json;
      expect(body.page).toEqual({
        number: 1,
        size: 1,
        totalElements: 2,
        totalPages: 2,
      });
      expect(body._links.next).toEqual({ href: '/accounts?page=2&size=1' });
      expect(body._embedded.items[0]).not.toHaveProperty('password');
      expect(body._embedded.items[0]._links.self).toEqual({
        href: '/accounts/1',
      });
    });

    it('answers a 202 with Retry-After and the monitor as Location', async () => {
      const response = await fetch(`${running.baseUrl}/accounts/audits`, {
        method: 'POST',
      });
      expect(response.status).toBe(202);
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
      const body = (await response.json()) as Json;
      expect(response.headers.get('location')).toBe(
        `/accounts/audits/${body.id}`,
      );
    });
  },
);

describe.each(ADAPTERS)(
  "an app's own global ValidationPipe on %s",
  (adapter) => {
    const VALIDATED_TWICE = /A ValidationPipe is registered globally beside/;

    async function warnings(
      metadata: ModuleMetadata,
      configure?: Parameters<typeof startTestingApp>[2],
    ): Promise<number> {
      const warn = jest
        .spyOn(Logger.prototype, 'warn')
        .mockImplementation(() => {});
      try {
        @Module({ ...metadata, controllers: [KettleController] })
        class PipedAppModule {}
        const running = await startTestingApp(
          adapter,
          Test.createTestingModule({ imports: [PipedAppModule] }),
          configure,
        );
        await running.close();
        return warn.mock.calls.filter(([message]) =>
          VALIDATED_TWICE.test(String(message)),
        ).length;
      } finally {
        warn.mockRestore();
      }
    }

    it('warns at bootstrap that arguments would be validated twice', async () => {
      const appPipe = {
        provide: APP_PIPE,
        useValue: new ValidationPipe({ whitelist: true }),
      };
      expect(
        await warnings({
          imports: [HalProblemModule.forRoot()],
          providers: [appPipe],
        }),
      ).toBe(1);
      expect(
        await warnings({ imports: [HalProblemModule.forRoot()] }, (app) => {
          app.useGlobalPipes(new ValidationPipe());
        }),
      ).toBe(1);
    });

    it('says nothing when the module validates alone, or leaves validation to the app', async () => {
      expect(await warnings({ imports: [HalProblemModule.forRoot()] })).toBe(0);
      expect(
        await warnings({
          imports: [HalProblemModule.forRoot({ validation: false })],
          providers: [{ provide: APP_PIPE, useValue: new ValidationPipe() }],
        }),
      ).toBe(0);
    });
  },
);

type RequestWithHeaders = {
  headers?: Record<string, string | string[] | undefined>;
  raw?: { headers: Record<string, string | string[] | undefined> };
};
const headerOf = (request: RequestWithHeaders, name: string) =>
  String((request.headers ?? request.raw?.headers ?? {})[name] ?? '');

/** One durable sub-tree per tenant, as Nest's multi-tenancy recipe has it. */
class TenantStrategy implements ContextIdStrategy {
  private readonly tenants = new Map<string, ContextId>();
  attach(contextId: ContextId, request: RequestWithHeaders) {
    const tenant = headerOf(request, 'x-tenant');
    let durable = this.tenants.get(tenant);
    if (!durable)
      this.tenants.set(tenant, (durable = ContextIdFactory.create()));
    return {
      resolve: (info: HostComponentInfo) =>
        info.isTreeDurable ? durable : contextId,
      payload: { tenant },
    };
  }
}

@Injectable({ scope: Scope.REQUEST, durable: true })
class TenantContext {
  constructor(@Inject(REQUEST) readonly payload: { tenant: string }) {}
}

@HalLink('self', () => [TicketsController, 'one'])
class Reply {
  constructor(readonly id: string) {}
}

@HalLink('self', () => [TicketsController, 'one'])
@HalLink('collection', () => [TicketsController, 'list'])
class Ticket {
  @HalEmbedded('item', { type: () => Reply }) readonly replies: Reply[];
  constructor(
    readonly id: string,
    readonly tenant: string,
    readonly caller: string,
  ) {
    this.replies = [new Reply(`${id}-r`)];
  }
}

@HalOperation(() => [TicketsController, 'operation'])
class TicketOperation extends Operation {}

let tickets = 0;

/** Built anew for every request, reading it, beside a durable per-tenant provider. */
@Controller({ path: 'tickets', scope: Scope.REQUEST })
class TicketsController {
  constructor(
    @Inject(REQUEST) private readonly request: RequestWithHeaders,
    private readonly tenant: TenantContext,
    private readonly operations: OperationsService,
  ) {}

  private ticket(id: string): Ticket {
    return new Ticket(
      id,
      this.tenant.payload.tenant,
      headerOf(this.request, 'x-caller'),
    );
  }

  @Get()
  @Scopes('tickets:read')
  list() {
    return new HalPage([this.ticket('1')], { page: 1, size: 1, total: 1 });
  }

  @Get(':id')
  one(@Param('id') id: string) {
    return this.ticket(id);
  }

  @Post()
  @Idempotent()
  create() {
    tickets++;
    return this.ticket(`t${tickets}`);
  }

  @Post('exports')
  @HttpCode(202)
  @HalResource(TicketOperation)
  export() {
    return this.operations.start(
      'export',
      () => new Promise<never>(() => undefined),
    );
  }

  @Get('exports/:id')
  @HalResource(TicketOperation)
  operation(@Param('id') id: string) {
    return this.operations.get(id);
  }
}

describe.each(ADAPTERS)(
  'request-scoped controllers and durable providers on %s',
  (adapter) => {
    let running: RunningApp;
    const token = signToken({ scope: 'tickets:read' });
    const get = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${running.baseUrl}${path}`, {
        headers: { authorization: `Bearer ${token}`, ...headers },
      });
    beforeAll(async () => {
      ContextIdFactory.apply(new TenantStrategy());
      @Module({
        imports: [
          HalProblemModule.forRoot({
            ...AUTH_OPTIONS,
            hal: { relations: ['item'] },
          }),
        ],
        controllers: [TicketsController],
        providers: [TenantContext],
      })
      class ScopedAppModule {}
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [ScopedAppModule] }),
      );
    });
    afterAll(async () => {
      await running.close();
      ContextIdFactory.apply({ attach: () => undefined });
    });
    type Json = Record<string, any>;

    it('renders class links and embedded items of what a per-request instance returns', async () => {
      const response = await get('/tickets/5', {
        'x-tenant': 'acme',
        'x-caller': 'ana',
      });
      expect(response.headers.get('content-type')).toMatch(
        /^application\/hal\+json/,
      );
      expect(await response.json()).toEqual({
        _links: {
          self: { href: '/tickets/5' },
          collection: { href: '/tickets' },
        },
        id: '5',
        tenant: 'acme',
        caller: 'ana',
        _embedded: {
          item: [{ _links: { self: { href: '/tickets/5-r' } }, id: '5-r' }],
        },
      });
    });

    it('checks scopes and renders pages on a request-scoped route', async () => {
      const page = (await (await get('/tickets')).json()) as Json;
      expect(page._embedded.items[0]._links.self).toEqual({
        href: '/tickets/1',
      });
      await expectProblem(
        await get('/tickets', {
          authorization: `Bearer ${signToken({ scope: 'other' })}`,
        }),
        403,
      );
    });

    it('replays an idempotent request without running the handler again', async () => {
      const send = () =>
        fetch(`${running.baseUrl}/tickets`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'idempotency-key': `"ticket-${adapter}"`,
            'x-tenant': 'acme',
          },
          body: '{}',
        });
      const first = await send();
      expect(first.status).toBe(201);
      const created = (await first.json()) as Json;
      expect(first.headers.get('location')).toBe(`/tickets/${created.id}`);
      const runs = tickets;
      const replay = await send();
      expect(replay.status).toBe(200);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(await replay.json()).toEqual(created);
      expect(tickets).toBe(runs);
    });

    it('answers a 202 with the monitor as Location and Retry-After', async () => {
      const response = await fetch(`${running.baseUrl}/tickets/exports`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(202);
      const body = (await response.json()) as Json;
      expect(response.headers.get('location')).toBe(
        `/tickets/exports/${body.id}`,
      );
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    });

    it('fails the start on a bad rel of a request-scoped controller', async () => {
      @Controller({ path: 'bad', scope: Scope.REQUEST })
      class BadScopedController {
        @Get()
        @HalLink('frobnicate', '/x')
        get() {
          return {};
        }
      }
      @Module({
        imports: [HalProblemModule.forRoot()],
        controllers: [BadScopedController],
      })
      class BadScopedModule {}
      await expect(
        startTestingApp(
          adapter,
          Test.createTestingModule({ imports: [BadScopedModule] }),
        ),
      ).rejects.toThrow(/HAL relation "frobnicate" on BadScopedController.get/);
    });
  },
);

@Controller({ path: 'widgets', version: '1' })
class WidgetsV1Controller {
  @Get(':id')
  @HalLink('collection', () => [WidgetsV1Controller, 'list'])
  one(@Param('id') id: string) {
    return { id, version: 1 };
  }

  @Get()
  list() {
    return { version: 1 };
  }
}

@Controller({ path: 'widgets', version: '2' })
class WidgetsV2Controller {
  @Get(':id')
  @Header('Vary', 'X-Api-Version')
  @HalLink('collection', () => [WidgetsV2Controller, 'list'])
  one(@Param('id') id: string) {
    return { id, version: 2 };
  }

  @Get()
  list() {
    return { version: 2 };
  }

  @Post()
  create() {
    return { version: 2 };
  }
}

describe.each(ADAPTERS)('links under header versioning on %s', (adapter) => {
  let running: RunningApp;
  beforeAll(async () => {
    @Module({
      imports: [HalProblemModule.forRoot()],
      controllers: [WidgetsV1Controller, WidgetsV2Controller],
    })
    class HeaderVersionedAppModule {}
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [HeaderVersionedAppModule] }),
      (app) => {
        app.enableVersioning({
          type: VersioningType.HEADER,
          header: 'X-Api-Version',
        });
      },
    );
  });
  afterAll(() => running.close());
  const send = (path: string, version: string, method = 'GET') =>
    fetch(`${running.baseUrl}${path}`, {
      method,
      headers: { 'x-api-version': version },
    });

  it('serves each version its own handler, with links that carry no version', async () => {
    for (const version of ['1', '2']) {
      const response = await send('/widgets/5', version);
      expect(await response.json()).toEqual({
        _links: {
          self: { href: '/widgets/5' },
          collection: { href: '/widgets' },
        },
        id: '5',
        version: Number(version),
      });
    }
  });

  it("keeps a handler's Vary on the version header beside the module's Accept", async () => {
    const vary = (await send('/widgets/5', '2')).headers.get('vary');
    expect(vary?.split(/\s*,\s*/).sort()).toEqual(['Accept', 'X-Api-Version']);
  });

  it('answers a version no handler serves with the 404 problem', async () => {
    await expectProblem(await send('/widgets/5', '3'), 404);
  });

  it('answers a method no version serves with 405 and the methods of every version', async () => {
    const response = await send('/widgets', '1', 'DELETE');
    expect(response.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS');
    await expectProblem(response, 405);
  });
});

@Injectable()
class AppSettings {
  readonly requestIdHeader = 'X-Trace-Id';
}

@Module({ providers: [AppSettings], exports: [AppSettings] })
class SettingsModule {}

describe.each(ADAPTERS)(
  'forRootAsync with imports and inject on %s',
  (adapter) => {
    let running: RunningApp;
    beforeAll(async () => {
      @Module({
        imports: [
          HalProblemModule.forRootAsync({
            imports: [SettingsModule],
            inject: [AppSettings],
            useFactory: (settings: AppSettings) => ({
              requestIdHeader: settings.requestIdHeader,
            }),
          }),
        ],
        controllers: [KettleController],
      })
      class ConfiguredAppModule {}
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [ConfiguredAppModule] }),
      );
    });
    afterAll(() => running.close());

    it("applies options built from an imported module's provider", async () => {
      const response = await fetch(`${running.baseUrl}/kettle/other`);
      expect(response.headers.get('x-request-id')).toBeNull();
      const requestId = response.headers.get('x-trace-id');
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(await response.json()).toMatchObject({ status: 500, requestId });
    });
  },
);

describe('HAL declarations on a handler that writes its own response', () => {
  it.each(ADAPTERS)(
    'fail the start on %s, naming the handler and the way out',
    async (adapter) => {
      @Controller('by-hand')
      class ByHandController {
        @Get()
        @HalLink('related', '/elsewhere')
        get(
          @Res()
          response: {
            status(code: number): { send(body: unknown): void };
          },
        ) {
          response.status(200).send({ written: 'by hand' });
        }
      }
      @Module({
        imports: [HalProblemModule.forRoot()],
        controllers: [ByHandController],
      })
      class ByHandModule {}
      await expect(
        startTestingApp(
          adapter,
          Test.createTestingModule({ imports: [ByHandModule] }),
        ),
      ).rejects.toThrow(
        /ByHandController\.get: .* never rendered, .* @Res\(\{ passthrough: true \}\)/,
      );
    },
  );
});

@HalLink('self', () => [PlacesController, 'one'])
class Place {
  constructor(readonly id: string) {}
}

@Controller('places')
class PlacesController {
  @Get(':id')
  one(@Param('id') id: string) {
    return new Place(id);
  }

  @Post()
  create() {
    return new Place('p1');
  }

  @Post('mirrored')
  @Idempotent()
  @Header('Location', 'https://mirror.example/places/p2')
  mirrored() {
    return new Place('p2');
  }

  /** An upsert that keeps the resource elsewhere, and says so itself. */
  @Put(':id')
  upsert(
    @Param('id') id: string,
    @Res({ passthrough: true })
    response: {
      status(code: number): unknown;
      header(name: string, value: string): unknown;
    },
  ) {
    response.status(201);
    // Express's response and Fastify's reply both have header().
    response.header('Location', `/archive/places/${id}`);
    return new Place(id);
  }
}

describe.each(ADAPTERS)("a handler's own Location on %s", (adapter) => {
  let running: RunningApp;
  beforeAll(async () => {
    @Module({
      imports: [HalProblemModule.forRoot()],
      controllers: [PlacesController],
    })
    class PlacesAppModule {}
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [PlacesAppModule] }),
    );
  });
  afterAll(() => running.close());

  it('gives a creation its self as Location when the handler set none', async () => {
    const response = await fetch(`${running.baseUrl}/places`, {
      method: 'POST',
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe('/places/p1');
  });

  it('keeps a Location the handler declared with @Header(), and replays it', async () => {
    const send = () =>
      fetch(`${running.baseUrl}/places/mirrored`, {
        method: 'POST',
        headers: { 'idempotency-key': `"mirrored-${adapter}"` },
      });
    const first = await send();
    expect(first.status).toBe(201);
    expect(first.headers.get('location')).toBe(
      'https://mirror.example/places/p2',
    );
    const replay = await send();
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('location')).toBe(
      'https://mirror.example/places/p2',
    );
  });

  it('keeps a Location the handler set on the response', async () => {
    const response = await fetch(`${running.baseUrl}/places/p3`, {
      method: 'PUT',
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('location')).toBe('/archive/places/p3');
  });
});
