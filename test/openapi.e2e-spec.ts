import SwaggerParser from '@apidevtools/swagger-parser';
import {
  Controller,
  Delete,
  Get,
  Global,
  HttpCode,
  Module,
  Param,
  ParseIntPipe,
  Patch,
  Post,
  type Type,
} from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { SkipThrottle, ThrottlerModule } from '@nestjs/throttler';
import {
  ApiNotImplemented,
  ApiProblemResponses,
  defineProblemType,
  HalEmbedded,
  HalLink,
  HalOperation,
  HalProblemModule,
  HalResource,
  HalProblemOpenApi,
  Idempotent,
  InMemoryIdempotencyStore,
  InMemoryOperationStore,
  KeySourceError,
  type Operation,
  OPERATION_STORE,
  OperationsService,
  ProblemException,
  Public,
  RedisIdempotencyStore,
  RedisOperationStore,
  RedisThrottlerStorage,
} from 'nestjs-hal-problem';
import {
  ADAPTERS,
  startSample,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';
import {
  AUTH_OPTIONS,
  authFixtureModule,
} from './fixtures/auth-fixture.module';
import { describeWithRedis, uniquePrefix, useOwnRedis } from './support/redis';
import { signToken, TEST_AUDIENCE, TEST_ISSUER } from './support/tokens';
import { OpenApiResponseValidator } from './support/openapi-validator';
import { authorized, tokenFor } from './support/sample-client';

type Json = Record<string, any>;
const order = {
  items: [{ sku: 'doc-1', quantity: 1, unitPrice: 5 }],
  currency: 'GBP',
};

describe.each(ADAPTERS)('OpenAPI document of the sample on %s', (adapter) => {
  let running: RunningApp;
  let document: Json;
  let validator: OpenApiResponseValidator;

  beforeAll(async () => {
    running = await startSample(adapter, {
      REPORT_DELAY_MS: '20',
      THROTTLE_LIMIT: '60',
    });
    document = (await (
      await fetch(`${running.baseUrl}/docs-json`)
    ).json()) as Json;
    validator = new OpenApiResponseValidator(document);
  });
  afterAll(() => running.close());

  it('is a valid OpenAPI 3 document, served with Swagger UI', async () => {
    await expect(
      SwaggerParser.validate(structuredClone(document) as never),
    ).resolves.toBeDefined();
    expect(document.openapi).toMatch(/^3\./);
    // Each template expression has a path parameter (OpenAPI 3 §4.8.2),
    // which the parser does not check: PATCH /orders/{id} reads no id.
    for (const [path, item] of Object.entries(document.paths as Json)) {
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
      for (const [method, operation] of Object.entries(item as Json)) {
        const declared = ((operation as Json).parameters ?? [])
          .filter((parameter: Json) => parameter.in === 'path')
          .map((parameter: Json) => parameter.name as string);
        expect([method, path, declared.sort()]).toEqual([
          method,
          path,
          [...names].sort(),
        ]);
      }
    }
    const ui = await fetch(`${running.baseUrl}/docs`);
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toMatch(/text\/html/);
  });

  it("describes the orders' query parameters and creation body as validation takes them", () => {
    const list = document.paths['/orders'].get as Json;
    const query = Object.fromEntries(
      (list.parameters as Json[])
        .filter((parameter) => parameter.in === 'query')
        .map((parameter) => [parameter.name, parameter]),
    );
    expect(query.page).toMatchObject({
      required: false,
      schema: { type: 'integer', minimum: 1, default: 1 },
    });
    expect(query.size).toMatchObject({
      required: false,
      schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
    });
    expect(query.status.schema.enum).toEqual(['open', 'shipped', 'cancelled']);
    const body = document.components.schemas.CreateOrderDto as Json;
    expect(body.required).toEqual(['items', 'currency']);
    expect(body.properties.items).toMatchObject({
      type: 'array',
      minItems: 1,
      maxItems: 50,
    });
    expect(body.properties.currency.enum).toEqual(['EUR', 'USD', 'GBP']);
    expect(body.properties.note).toMatchObject({ maxLength: 500 });
    const item = document.components.schemas.CreateOrderItemDto as Json;
    expect(item.required).toEqual(['sku', 'quantity', 'unitPrice']);
    expect(item.properties.quantity).toMatchObject({
      type: 'integer',
      minimum: 1,
    });
  });

  it('gives every problem example the members its schema requires', () => {
    let examples = 0;
    for (const [path, item] of Object.entries(document.paths as Json))
      for (const [method, operation] of Object.entries(item as Json))
        for (const [status, response] of Object.entries(
          ((operation as Json).responses ?? {}) as Json,
        )) {
          const content = (response as Json).content?.[
            'application/problem+json'
          ] as Json | undefined;
          for (const [name, example] of Object.entries(
            (content?.examples ?? {}) as Json,
          )) {
            examples++;
            const value = (example as Json).value as Json;
            expect([
              method,
              path,
              status,
              name,
              Object.keys(value).sort(),
            ]).toEqual([
              method,
              path,
              status,
              name,
              expect.arrayContaining([
                'detail',
                'instance',
                'status',
                'title',
                'type',
              ]),
            ]);
            expect(value.status).toBe(Number(status));
          }
        }
    expect(examples).toBeGreaterThan(0);
  });

  it('lists in each problem response only the types its route can send', () => {
    const examples = (path: string, method: string, status: string) =>
      Object.keys(
        document.paths[path][method].responses[status].content[
          'application/problem+json'
        ].examples as Json,
      );
    expect(examples('/orders', 'get', '401')).toEqual([
      'about-blank',
      'authentication-required',
      'invalid-token',
    ]);
    // The OAuth endpoint's own 400s stay on it.
    expect(examples('/orders', 'get', '400')).toEqual([
      'about-blank',
      'invalid-authorization-request',
    ]);
    expect(examples('/oauth/token', 'post', '400')).toEqual([
      'about-blank',
      'oauth-invalid-request',
    ]);
    // Idempotency's on the idempotent route only; its key is optional there.
    expect(examples('/orders', 'post', '400')).toEqual([
      'about-blank',
      'idempotency-key-invalid',
      'invalid-authorization-request',
    ]);
    expect(examples('/orders/{id}', 'get', '404')).toEqual([
      'about-blank',
      'order-not-found',
    ]);
    // The monitor of a @HalOperation class, and the result it points to.
    expect(examples('/reports/{id}', 'get', '404')).toEqual([
      'about-blank',
      'operation-not-found',
    ]);
    expect(examples('/reports/{id}/result', 'get', '404')).toEqual([
      'about-blank',
      'report-not-found',
    ]);
  });

  it('documents HAL bodies with exactly the declared rels', () => {
    const schema =
      document.paths['/orders/{id}'].get.responses['200'].content[
        'application/hal+json'
      ].schema;
    const links = schema.allOf[1].properties._links;
    expect(Object.keys(links.properties).sort()).toEqual([
      'cancel',
      'collection',
      'self',
      'ship',
    ]);
    expect(links.required.sort()).toEqual(['collection', 'self']);
    expect(schema.allOf[0]).toEqual({
      $ref: '#/components/schemas/OrderResource',
    });
    // The sample labels every HAL body application/hal+json (hal.plainJson: false).
    expect(
      Object.keys(document.paths['/orders/{id}'].get.responses['200'].content),
    ).toEqual(['application/hal+json']);
    const page =
      document.paths['/orders'].get.responses['200'].content[
        'application/hal+json'
      ].schema;
    expect(page.required).toEqual(['_links', 'page', '_embedded']);
    expect(page.properties._embedded.required).toEqual(['orders']);
  });

  it('documents problems, challenges, rate limits and idempotency where they apply', () => {
    const create = document.paths['/orders'].post;
    expect(Object.keys(create.responses).sort()).toEqual(
      [
        '200',
        '201',
        '400',
        '401',
        '403',
        '409',
        '413',
        '415',
        '422',
        '429',
        '500',
        '503',
      ].sort(),
    );
    expect(create.responses['201'].headers.Location).toBeDefined();
    expect(create.responses['201'].headers.RateLimit).toBeDefined();
    // A malformed body, Authorization or Idempotency-Key is a 400 without `errors`.
    expect(
      create.responses['400'].content['application/problem+json'].schema,
    ).toEqual({
      anyOf: [
        { $ref: '#/components/schemas/ValidationProblemDetails' },
        { $ref: '#/components/schemas/ProblemDetails' },
      ],
    });
    expect(create.responses['401'].headers['WWW-Authenticate']).toBeDefined();
    expect(create.responses['429'].headers['Retry-After']).toBeDefined();
    expect(
      create.parameters.find(
        (parameter: Json) => parameter.name === 'Idempotency-Key',
      ),
    ).toMatchObject({
      in: 'header',
      required: false,
    });
    expect(
      Object.keys(
        create.responses['422'].content['application/problem+json'].examples,
      ),
    ).toEqual(
      expect.arrayContaining([
        'order-total-too-high',
        'idempotency-key-reused',
      ]),
    );
    // OpenAPI 3.0: an http scheme's requirement lists no scopes (the 403 names them).
    expect(document.openapi).toMatch(/^3\.0\./);
    for (const item of Object.values(document.paths as Json))
      for (const operation of Object.values(item as Json))
        for (const requirement of (operation as Json).security ?? [])
          expect(requirement).toEqual({ bearer: [] });
    expect(create.security).toEqual([{ bearer: [] }]);
    expect(
      create.responses['403'].headers['WWW-Authenticate'].description,
    ).toContain('scope="orders:write"');
    expect(document.paths['/health'].get.responses['429']).toBeUndefined();
    // 503 with Retry-After where a store can fail: the idempotency key of
    // POST /orders, the operation store of a report's start and monitor.
    // Not where auth is the only guard: its key is a static secret.
    for (const [path, method] of [
      ['/orders', 'post'],
      ['/reports', 'post'],
      ['/reports/{id}', 'get'],
    ])
      expect(
        document.paths[path][method].responses['503'].headers['Retry-After'],
      ).toBeDefined();
    // Elsewhere only the sample's maintenance 503, which names no store.
    for (const [path, method] of [
      ['/orders', 'get'],
      ['/orders/{id}', 'get'],
      ['/reports/{id}/result', 'get'],
    ])
      expect([
        path,
        method,
        document.paths[path][method].responses['503'].description,
      ]).toEqual([path, method, 'Service Unavailable']);
    expect(document.paths['/'].get.responses['401']).toBeUndefined();
    // PATCH only ever answers 501: no success, no 404 for its id.
    const patch = Object.keys(
      document.paths['/orders/{id}'].patch.responses as object,
    );
    expect(patch).toContain('501');
    expect(patch.filter((code) => /^2|^404$/.test(code))).toEqual([]);
  });

  it('matches every real response of the sample', async () => {
    const writer = authorized(running.baseUrl, await tokenFor(running.baseUrl));
    const reader = authorized(
      running.baseUrl,
      await tokenFor(running.baseUrl, 'reader'),
    );
    const anonymous = (path: string, init?: RequestInit) =>
      fetch(`${running.baseUrl}${path}`, init);
    const json = { 'content-type': 'application/json' };
    const checked: string[] = [];
    const check = async (
      method: string,
      template: string,
      response: Response,
      status: number,
    ) => {
      expect(response.status).toBe(status);
      const text = await response.text();
      const body = text ? (JSON.parse(text) as Json) : undefined;
      validator.check(method, template, response, body);
      checked.push(`${method} ${template} ${status}`);
      return body as Json;
    };

    await check('GET', '/', await anonymous('/'), 200);
    const created = await check(
      'POST',
      '/orders',
      await writer('/orders', {
        method: 'POST',
        body: JSON.stringify(order),
        headers: { ...json, 'idempotency-key': '"doc-key"' },
      }),
      201,
    );
    await check(
      'POST',
      '/orders',
      await writer('/orders', {
        method: 'POST',
        body: JSON.stringify(order),
        headers: { ...json, 'idempotency-key': '"doc-key"' },
      }),
      200,
    );
    await check(
      'POST',
      '/orders',
      await writer('/orders', { method: 'POST', body: '{}', headers: json }),
      400,
    );
    await check(
      'POST',
      '/orders',
      await writer('/orders', {
        method: 'POST',
        body: '{"items":',
        headers: json,
      }),
      400,
    );
    await check(
      'POST',
      '/orders',
      await writer('/orders', {
        method: 'POST',
        body: JSON.stringify(order),
        headers: { ...json, 'idempotency-key': 'not a structured string' },
      }),
      400,
    );
    await check(
      'POST',
      '/orders',
      await writer('/orders', {
        method: 'POST',
        body: JSON.stringify({
          ...order,
          items: [{ sku: 'x', quantity: 3, unitPrice: 5000 }],
        }),
        headers: json,
      }),
      422,
    );
    await check(
      'POST',
      '/orders',
      await reader('/orders', {
        method: 'POST',
        body: JSON.stringify(order),
        headers: json,
      }),
      403,
    );
    await check(
      'POST',
      '/orders',
      await anonymous('/orders', {
        method: 'POST',
        body: JSON.stringify(order),
        headers: json,
      }),
      401,
    );
    await check(
      'POST',
      '/orders',
      await writer('/orders', {
        method: 'POST',
        body: 'x',
        headers: { 'content-type': 'text/plain' },
      }),
      415,
    );
    await check('GET', '/orders', await reader('/orders?size=2'), 200);
    await check('GET', '/orders', await reader('/orders?size=500'), 400);
    await check(
      'GET',
      '/orders/{id}',
      await reader(`/orders/${created.id}`),
      200,
    );
    await check(
      'GET',
      '/orders/{id}',
      await writer(`/orders/${created.id}`),
      200,
    );
    await check('GET', '/orders/{id}', await reader('/orders/nope'), 404);
    await check(
      'GET',
      '/orders/{id}',
      await anonymous(`/orders/${created.id}`, {
        headers: { authorization: 'Bearer two parts' },
      }),
      400,
    );
    await check(
      'POST',
      '/orders/{id}/ship',
      await writer(`/orders/${created.id}/ship`, { method: 'POST' }),
      200,
    );
    await check(
      'POST',
      '/orders/{id}/cancel',
      await writer(`/orders/${created.id}/cancel`, { method: 'POST' }),
      409,
    );
    await check(
      'PATCH',
      '/orders/{id}',
      await writer(`/orders/${created.id}`, { method: 'PATCH' }),
      501,
    );
    await check(
      'DELETE',
      '/orders/{id}',
      await writer(`/orders/${created.id}`, { method: 'DELETE' }),
      204,
    );
    const accepted = await check(
      'POST',
      '/reports',
      await writer('/reports', { method: 'POST' }),
      202,
    );
    let operation: Json = accepted;
    for (let i = 0; i < 100 && operation.status !== 'done'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      operation = await check(
        'GET',
        '/reports/{id}',
        await writer(`/reports/${accepted.id}`),
        200,
      );
    }
    await check(
      'GET',
      '/reports/{id}/result',
      await writer(operation._links.result.href),
      200,
    );
    await check('GET', '/reports/{id}', await writer('/reports/unknown'), 404);
    await check('GET', '/health', await anonymous('/health'), 200);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    await check(
      'POST',
      '/oauth/token',
      await anonymous('/oauth/token', {
        method: 'POST',
        body: 'grant_type=client_credentials&client_id=reader&client_secret=reader-secret',
        headers: form,
      }),
      200,
    );
    await check(
      'POST',
      '/oauth/token',
      await anonymous('/oauth/token', {
        method: 'POST',
        body: 'client_id=reader',
        headers: form,
      }),
      400,
    );
    await check(
      'POST',
      '/oauth/token',
      await anonymous('/oauth/token', {
        method: 'POST',
        body: 'grant_type=client_credentials&client_id=reader&client_secret=no',
        headers: form,
      }),
      401,
    );
    expect(checked.length).toBeGreaterThanOrEqual(20);
  });
});

describe.each(ADAPTERS)(
  "OpenAPI document of the sample's maintenance mode on %s",
  (adapter) => {
    it('lists the 503 on every route but GET /health, as maintenance mode answers it', async () => {
      // In maintenance /docs-json answers 503 too: the document is the
      // same sample's, served out of maintenance.
      const serving = await startSample(adapter);
      const maintained = await startSample(adapter, {
        MAINTENANCE_MODE: 'true',
      });
      try {
        const document = (await (
          await fetch(`${serving.baseUrl}/docs-json`)
        ).json()) as Json;
        const validator = new OpenApiResponseValidator(document);
        const operations = Object.entries(document.paths as Json).flatMap(
          ([path, item]) =>
            Object.keys(item as Json).map((method) => [path, method]),
        );
        expect(operations.length).toBeGreaterThan(8);
        for (const [path, method] of operations) {
          if (path === '/health') continue;
          expect([
            path,
            method,
            document.paths[path][method].responses['503']?.content[
              'application/problem+json'
            ],
          ]).toEqual([path, method, expect.anything()]);
        }
        // Beside a store's 503, the description names the app's too.
        expect(
          document.paths['/orders'].post.responses['503'].description,
        ).toMatch(/idempotency store.*app's own/);
        // /health's own 503 is that of an unreachable store.
        const health = await fetch(`${maintained.baseUrl}/health`);
        await checked(validator, 'GET', '/health', health, 200);
        for (const [method, path, template] of [
          ['GET', '/', '/'],
          ['GET', '/orders', '/orders'],
          ['POST', '/orders', '/orders'],
          ['GET', '/orders/1', '/orders/{id}'],
          ['PATCH', '/orders/1', '/orders/{id}'],
          ['POST', '/oauth/token', '/oauth/token'],
          ['GET', '/reports/1/result', '/reports/{id}/result'],
        ] as const) {
          const response = await fetch(`${maintained.baseUrl}${path}`, {
            method,
          });
          expect([path, response.headers.get('retry-after')]).toEqual([
            path,
            '300',
          ]);
          await checked(validator, method, template, response, 503);
        }
      } finally {
        await maintained.close();
        await serving.close();
      }
    });
  },
);

/** A module app with these controllers, and its enhanced OpenAPI document. */
async function documentedApp(
  adapter: (typeof ADAPTERS)[number],
  controllers: Type[],
): Promise<{ running: RunningApp; document: Json }> {
  @Module({ imports: [HalProblemModule.forRoot({})], controllers })
  class DocModule {}
  const running = await startTestingApp(
    adapter,
    Test.createTestingModule({ imports: [DocModule] }),
  );
  const document = HalProblemOpenApi.enhance(
    running.app,
    SwaggerModule.createDocument(running.app, new DocumentBuilder().build()),
  ) as Json;
  return { running, document };
}

@Controller('widgets')
@Public()
class WidgetsDocController {
  /** Declares a 501 among others: it still succeeds and finds things. */
  @Get(':id')
  @ApiProblemResponses(501)
  find(@Param('id') id: string): { id: string } {
    return { id };
  }

  @Patch(':id')
  @ApiNotImplemented()
  update(): never {
    throw ProblemException.notImplemented();
  }
}

describe.each(ADAPTERS)(
  'OpenAPI of routes that answer 501 on %s',
  (adapter) => {
    it('drops success and 404 only where @ApiNotImplemented() says so', async () => {
      const { running, document } = await documentedApp(adapter, [
        WidgetsDocController,
      ]);
      try {
        const codes = (method: string) =>
          Object.keys(document.paths['/widgets/{id}'][method].responses).sort();
        expect(codes('get')).toEqual(['200', '404', '500', '501']);
        expect(codes('patch')).toEqual(['500', '501']);
      } finally {
        await running.close();
      }
    });
  },
);

@HalLink('self', '/gadgets/{id}')
class GadgetResource {}

/** Handlers as they are often written: no return type, no @ApiHalResponse. */
@Controller('gadgets')
@Public()
class GadgetsDocController {
  @Get(':id')
  @HalResource(GadgetResource)
  find(@Param('id') id: string) {
    return { id };
  }

  @Get()
  @HalLink('self', '/gadgets')
  list() {
    return { count: 0 };
  }

  @Delete(':id')
  remove(@Param('id') _id: string): void {}
}

describe.each(ADAPTERS)(
  'OpenAPI of handlers without a declared return type on %s',
  (adapter) => {
    it('documents a HAL body where the handler declares HAL, and 204 where it returns void', async () => {
      const { running, document } = await documentedApp(adapter, [
        GadgetsDocController,
      ]);
      try {
        const validator = new OpenApiResponseValidator(document);
        const success = (path: string, method: string) =>
          Object.keys(document.paths[path][method].responses).filter((code) =>
            code.startsWith('2'),
          );
        expect(success('/gadgets/{id}', 'get')).toEqual(['200']);
        expect(success('/gadgets', 'get')).toEqual(['200']);
        expect(success('/gadgets/{id}', 'delete')).toEqual(['204']);
        // By default the same body is offered as application/json too.
        expect(
          Object.keys(document.paths['/gadgets'].get.responses['200'].content),
        ).toEqual(['application/hal+json', 'application/json']);
        // And what they document is what they send.
        for (const [method, path, template, status] of [
          ['GET', '/gadgets/g1', '/gadgets/{id}', 200],
          ['GET', '/gadgets', '/gadgets', 200],
          ['DELETE', '/gadgets/g1', '/gadgets/{id}', 204],
        ] as const) {
          const response = await fetch(`${running.baseUrl}${path}`, { method });
          expect(response.status).toBe(status);
          const text = await response.text();
          validator.check(
            method,
            template,
            response,
            text ? (JSON.parse(text) as unknown) : undefined,
          );
        }
      } finally {
        await running.close();
      }
    });
  },
);

/** `@Idempotent()` on the controller: its POST takes a key, its GET does not. */
@Controller('ledgers')
@Public()
@Idempotent()
class LedgersDocController {
  @Post()
  create(): { id: string } {
    return { id: 'l1' };
  }

  @Get()
  read(): { count: number } {
    return { count: 0 };
  }
}

describe.each(ADAPTERS)(
  'OpenAPI of a controller marked @Idempotent() on %s',
  (adapter) => {
    it('offers Idempotency-Key on its POST only, as the routes take it', async () => {
      const { running, document } = await documentedApp(adapter, [
        LedgersDocController,
      ]);
      try {
        const takesKey = (method: string) =>
          (
            (document.paths['/ledgers'][method].parameters ?? []) as Json[]
          ).some((parameter) => parameter.name === 'Idempotency-Key');
        expect(takesKey('post')).toBe(true);
        expect(takesKey('get')).toBe(false);
        // A replay is labelled for its own Accept, as the creation is (plainJson).
        const validator = new OpenApiResponseValidator(document);
        for (const status of [201, 200]) {
          const response = await fetch(`${running.baseUrl}/ledgers`, {
            method: 'POST',
            headers: { accept: 'application/json', 'idempotency-key': '"k"' },
          });
          expect(response.status).toBe(status);
          expect(response.headers.get('content-type')).toMatch(
            /^application\/json/,
          );
          validator.check('POST', '/ledgers', response, await response.json());
        }
      } finally {
        await running.close();
      }
    });
  },
);

describe.each(ADAPTERS)(
  'OpenAPI security requirements by document version on %s',
  (adapter) => {
    it('lists the scopes of an http bearer requirement in 3.1 only', async () => {
      @Module(authFixtureModule())
      class SecureDocModule {}
      const running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [SecureDocModule] }),
      );
      try {
        const security = (version: string) =>
          (
            HalProblemOpenApi.enhance(
              running.app,
              SwaggerModule.createDocument(
                running.app,
                new DocumentBuilder().setOpenAPIVersion(version).build(),
              ),
            ) as Json
          ).paths['/secure/admin'].get.security;
        expect(security('3.1.0')).toEqual([
          { bearer: ['widgets:read', 'admin'] },
        ]);
        expect(security('3.0.3')).toEqual([{ bearer: [] }]);
      } finally {
        await running.close();
      }
    });
  },
);

@HalLink('self', '/tools/{id}')
@HalLink('collection', '/tools')
class ToolResource {
  constructor(readonly id: string) {}
}

/** A handler whose return type is the resource class it returns. */
@Controller('tools')
@Public()
class ToolsDocController {
  @Get(':id')
  find(@Param('id') id: string): ToolResource {
    return new ToolResource(id);
  }
}

describe.each(ADAPTERS)(
  'OpenAPI of a handler typed with its resource class on %s',
  (adapter) => {
    it("documents the class's links, which the instance it returns carries", async () => {
      const { running, document } = await documentedApp(adapter, [
        ToolsDocController,
      ]);
      try {
        const response = await fetch(`${running.baseUrl}/tools/t1`);
        expect(response.status).toBe(200);
        const body = (await response.json()) as Json;
        expect(Object.keys(body._links)).toEqual(['self', 'collection']);
        new OpenApiResponseValidator(document).check(
          'GET',
          '/tools/{id}',
          response,
          body,
        );
      } finally {
        await running.close();
      }
    });
  },
);

/** A route parameter parsed by one of Nest's pipes, which throw a bare 400. */
@Controller('numbers')
@Public()
class NumbersDocController {
  @Get(':n')
  find(@Param('n', ParseIntPipe) n: number): { n: number } {
    return { n };
  }
}

describe.each(ADAPTERS)(
  'OpenAPI of a parameter parsed by a pipe on %s',
  (adapter) => {
    it("documents the pipe's 400, which carries no errors member", async () => {
      const { running, document } = await documentedApp(adapter, [
        NumbersDocController,
      ]);
      try {
        const response = await fetch(`${running.baseUrl}/numbers/abc`);
        expect(response.status).toBe(400);
        new OpenApiResponseValidator(document).check(
          'GET',
          '/numbers/{n}',
          response,
          await response.json(),
        );
      } finally {
        await running.close();
      }
    });
  },
);

@HalLink('self', '/customers/{id}')
class CustomerResource {
  id: string;
}

@HalLink('self', '/invoices/{id}')
class InvoiceResource {
  id: string;
  @HalEmbedded('author', { type: () => CustomerResource })
  customer: CustomerResource;
  @HalEmbedded('item', { type: () => CustomerResource })
  payers: CustomerResource[];
}

/** Embedded resources that are one object, not a list. */
@Controller('invoices')
@Public()
class InvoicesDocController {
  @Get('i1')
  @HalResource(InvoiceResource)
  find(): object {
    return { id: 'i1', customer: { id: 'c1' }, payers: [{ id: 'c2' }] };
  }

  @Get('i2/customer')
  @HalLink('self', '/invoices/i2/customer')
  @HalEmbedded('author', {
    type: () => CustomerResource,
    property: 'customer',
  })
  customer(): object {
    return { customer: { id: 'c1' } };
  }
}

describe.each(ADAPTERS)(
  'OpenAPI of embedded resources that are one object on %s',
  (adapter) => {
    it('documents each as the object or list the response embeds', async () => {
      const { running, document } = await documentedApp(adapter, [
        InvoicesDocController,
      ]);
      try {
        const validator = new OpenApiResponseValidator(document);
        for (const [path, rels] of [
          ['/invoices/i1', { author: false, item: true }],
          ['/invoices/i2/customer', { author: false }],
        ] as const) {
          const response = await fetch(`${running.baseUrl}${path}`);
          const body = (await response.json()) as Json;
          for (const [rel, isList] of Object.entries(rels))
            expect(Array.isArray(body._embedded[rel])).toBe(isList);
          validator.check('GET', path, response, body);
        }
        const embedded =
          document.paths['/invoices/i1'].get.responses['200'].content[
            'application/hal+json'
          ].schema.properties._embedded.properties;
        expect(embedded.author.type).toBe('object');
        expect(embedded.item.type).toBe('array');
      } finally {
        await running.close();
      }
    });
  },
);

const JobNotFound = defineProblemType({
  slug: 'job-not-found',
  title: 'Job not found',
  status: 404,
});

@HalOperation(() => [JobsDocController, 'status'])
class JobOperation {}

/** A route that starts an operation on a job, and the operation's monitor. */
@Controller('jobs')
@Public()
class JobsDocController {
  constructor(private readonly operations: OperationsService) {}

  @Get('runs/:id')
  @HalResource(JobOperation)
  status(@Param('id') id: string): Promise<Operation> {
    return this.operations.get(id);
  }

  @Post(':id/runs')
  @HttpCode(202)
  @HalResource(JobOperation)
  @ApiProblemResponses(JobNotFound)
  run(@Param('id') id: string): Promise<Operation> {
    if (id !== '1') throw new ProblemException(JobNotFound);
    return this.operations.start('job', () => Promise.resolve({}));
  }
}

describe.each(ADAPTERS)(
  'OpenAPI of operations started and monitored on %s',
  (adapter) => {
    it('lists operation-not-found on the monitor, not on the route that starts one', async () => {
      const { running, document } = await documentedApp(adapter, [
        JobsDocController,
      ]);
      try {
        const examples = (path: string, method: string) =>
          Object.keys(
            document.paths[path][method].responses['404'].content[
              'application/problem+json'
            ].examples as Json,
          );
        const validator = new OpenApiResponseValidator(document);
        const started = await fetch(`${running.baseUrl}/jobs/2/runs`, {
          method: 'POST',
        });
        const problem = (await started.json()) as Json;
        expect(problem.type).toMatch(/job-not-found$/);
        validator.check('POST', '/jobs/{id}/runs', started, problem);
        // It never reads an operation: its 404s are the job's.
        expect(examples('/jobs/{id}/runs', 'post')).toEqual([
          'about-blank',
          'job-not-found',
        ]);
        const monitor = await fetch(`${running.baseUrl}/jobs/runs/nope`);
        const missing = (await monitor.json()) as Json;
        expect(missing.type).toMatch(/operation-not-found$/);
        validator.check('GET', '/jobs/runs/{id}', monitor, missing);
        expect(examples('/jobs/runs/{id}', 'get')).toEqual([
          'about-blank',
          'operation-not-found',
        ]);
      } finally {
        await running.close();
      }
    });
  },
);

/** Idempotent by `idempotency.allUnsafeMethods`, without `@Idempotent()`. */
@Controller('notes')
@Public()
class NotesDocController {
  @Post()
  create(): { id: string } {
    return { id: '1' };
  }
}

describe.each(ADAPTERS)(
  'OpenAPI of routes idempotent by allUnsafeMethods on %s',
  (adapter) => {
    it('documents the key and the problems it can send', async () => {
      @Module({
        imports: [
          HalProblemModule.forRoot({
            idempotency: { allUnsafeMethods: true },
          }),
        ],
        controllers: [NotesDocController],
      })
      class NotesModule {}
      const running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [NotesModule] }),
      );
      try {
        const document = HalProblemOpenApi.enhance(
          running.app,
          SwaggerModule.createDocument(
            running.app,
            new DocumentBuilder().build(),
          ),
        ) as Json;
        const response = await fetch(`${running.baseUrl}/notes`, {
          method: 'POST',
          headers: { 'idempotency-key': '"unterminated' },
        });
        const problem = (await response.json()) as Json;
        expect(response.status).toBe(400);
        expect(problem.type).toMatch(/idempotency-key-invalid$/);
        new OpenApiResponseValidator(document).check(
          'POST',
          '/notes',
          response,
          problem,
        );
        const operation = document.paths['/notes'].post as Json;
        expect(
          (operation.parameters as Json[]).map((parameter) => parameter.name),
        ).toContain('Idempotency-Key');
        expect(
          Object.keys(
            operation.responses['400'].content['application/problem+json']
              .examples as Json,
          ),
        ).toContain('idempotency-key-invalid');
        expect(Object.keys(operation.responses)).toEqual(
          expect.arrayContaining(['409', '422']),
        );
      } finally {
        await running.close();
      }
    });
  },
);

/** A real response checked against the document; returns its body. */
async function checked(
  validator: OpenApiResponseValidator,
  method: string,
  template: string,
  response: Response,
  status: number,
): Promise<Json> {
  const body = (await response.json()) as Json;
  expect([method, template, response.status]).toEqual([
    method,
    template,
    status,
  ]);
  validator.check(method, template, response, body);
  return body;
}

/** The statuses a route documents. */
const documented = (document: Json, path: string, method: string) =>
  Object.keys(document.paths[path][method].responses as Json);

/** Resolves what a handler waits on, and says when it started waiting. */
class Gate {
  private open!: () => void;
  private entered!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.open = resolve));
  readonly reached = new Promise<void>((resolve) => (this.entered = resolve));
  wait(): Promise<void> {
    this.entered();
    return this.opened;
  }
  release(): void {
    this.open();
  }
}

@HalOperation(() => [OutageDocController, 'status'])
class OutageOperation {}

let outageGate = new Gate();

/** One route per way a store outage reaches a client, and one it cannot reach. */
@Controller('outage')
@Public()
class OutageDocController {
  constructor(private readonly operations: OperationsService) {}

  @Get('plain')
  @SkipThrottle()
  plain(): { ok: boolean } {
    return { ok: true };
  }

  @Get('limited')
  limited(): { ok: boolean } {
    return { ok: true };
  }

  @Post('orders')
  @SkipThrottle()
  @Idempotent()
  async create(): Promise<{ id: string }> {
    await outageGate.wait();
    return { id: 'o1' };
  }

  @Post('jobs')
  @SkipThrottle()
  @HttpCode(202)
  @HalResource(OutageOperation)
  start(): Promise<Operation> {
    return this.operations.start('job', () => outageGate.opened);
  }

  @Get('jobs/:id')
  @SkipThrottle()
  @HalResource(OutageOperation)
  status(@Param('id') id: string): Promise<Operation> {
    return this.operations.get(id);
  }
}

/** The operation store, global as OperationsService needs it. */
function operationStoreModule(store: unknown): Type {
  @Global()
  @Module({
    providers: [{ provide: OPERATION_STORE, useValue: store }],
    exports: [OPERATION_STORE],
  })
  class OperationStoreModule {}
  return OperationStoreModule;
}

function outageDocument(running: RunningApp): Json {
  return HalProblemOpenApi.enhance(
    running.app,
    SwaggerModule.createDocument(running.app, new DocumentBuilder().build()),
  );
}

describe.each(ADAPTERS)(
  'OpenAPI 503s of full in-memory stores on %s',
  (adapter) => {
    it('documents the 503 an idempotent route and an operation start answer', async () => {
      outageGate = new Gate();
      @Module({
        imports: [
          operationStoreModule(new InMemoryOperationStore({ maxRecords: 1 })),
          HalProblemModule.forRoot({
            idempotency: {
              store: new InMemoryIdempotencyStore({ maxRecords: 1 }),
            },
          }),
        ],
        controllers: [OutageDocController],
      })
      class FullStoresModule {}
      const running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [FullStoresModule] }),
      );
      try {
        const document = outageDocument(running);
        const validator = new OpenApiResponseValidator(document);
        const post = (path: string, key?: string) =>
          fetch(`${running.baseUrl}${path}`, {
            method: 'POST',
            headers: key ? { 'idempotency-key': `"${key}"` } : {},
          });
        // One key in flight fills the store: a second key cannot be checked.
        const first = post('/outage/orders', 'a');
        await outageGate.reached;
        const full = await post('/outage/orders', 'b');
        expect(full.headers.get('retry-after')).toMatch(/^\d+$/);
        const problem = await checked(
          validator,
          'POST',
          '/outage/orders',
          full,
          503,
        );
        expect(problem.status).toBe(503);
        // One unfinished operation fills the operation store.
        await checked(
          validator,
          'POST',
          '/outage/jobs',
          await post('/outage/jobs'),
          202,
        );
        const refused = await post('/outage/jobs');
        expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
        await checked(validator, 'POST', '/outage/jobs', refused, 503);
        outageGate.release();
        expect((await first).status).toBe(201);
        // No throttler, no key provider: a route without a store has no 503.
        expect(documented(document, '/outage/plain', 'get')).not.toContain(
          '503',
        );
        expect(documented(document, '/outage/limited', 'get')).not.toContain(
          '503',
        );
      } finally {
        outageGate.release();
        await running.close();
      }
    });
  },
);

describeWithRedis.each(ADAPTERS)(
  'OpenAPI 503s of a Redis that stopped on %s',
  (adapter) => {
    const own = useOwnRedis();

    it('documents the 503 of every route whose store is Redis, and none elsewhere', async () => {
      outageGate = new Gate();
      outageGate.release();
      const { server, redis } = own;
      const prefix = uniquePrefix('openapi-503');
      @Module({
        imports: [
          operationStoreModule(new RedisOperationStore(redis, `${prefix}o:`)),
          ThrottlerModule.forRoot({
            throttlers: [{ ttl: 60_000, limit: 1_000 }],
            storage: new RedisThrottlerStorage(redis, `${prefix}t:`),
          }),
          HalProblemModule.forRoot({
            throttle: { onStorageError: 'fail-closed' },
            idempotency: {
              store: new RedisIdempotencyStore(redis, `${prefix}i:`),
            },
          }),
        ],
        controllers: [OutageDocController],
      })
      class RedisStoresModule {}
      const running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [RedisStoresModule] }),
      );
      try {
        const document = outageDocument(running);
        const validator = new OpenApiResponseValidator(document);
        const url = (path: string) => `${running.baseUrl}${path}`;
        const job = await checked(
          validator,
          'POST',
          '/outage/jobs',
          await fetch(url('/outage/jobs'), { method: 'POST' }),
          202,
        );
        // Not events.once: it rejects on the 'error' (ECONNRESET) seen first.
        const closed = new Promise((resolve) => redis.once('close', resolve));
        await server.stop();
        await closed;
        for (const [method, path, template, headers] of [
          ['GET', '/outage/limited', '/outage/limited', {}],
          [
            'POST',
            '/outage/orders',
            '/outage/orders',
            { 'idempotency-key': '"k"' },
          ],
          ['POST', '/outage/jobs', '/outage/jobs', {}],
          ['GET', `/outage/jobs/${job.id}`, '/outage/jobs/{id}', {}],
        ] as const) {
          const response = await fetch(url(path), { method, headers });
          expect([path, response.headers.get('retry-after')]).toEqual([
            path,
            expect.stringMatching(/^\d+$/),
          ]);
          await checked(validator, method, template, response, 503);
        }
        // The route no store serves still answers, and documents no 503.
        await checked(
          validator,
          'GET',
          '/outage/plain',
          await fetch(url('/outage/plain')),
          200,
        );
        expect(documented(document, '/outage/plain', 'get')).not.toContain(
          '503',
        );
        expect(
          document.paths['/outage/limited'].get.responses['503'].description,
        ).toMatch(/rate-limit storage/);
      } finally {
        await running.close();
        // Back up and reconnected, so the client closes cleanly after.
        await server.start();
        if (redis.status !== 'ready')
          await new Promise((resolve) => redis.once('ready', resolve));
      }
    });
  },
);

/** Guarded routes, and one that is public. */
@Controller('keys')
class KeysDocController {
  @Get('guarded')
  guarded(): { ok: boolean } {
    return { ok: true };
  }

  @Get('open')
  @Public()
  open(): { ok: boolean } {
    return { ok: true };
  }
}

describe.each(ADAPTERS)('OpenAPI 503s of a key source on %s', (adapter) => {
  const start = async (auth: Json) => {
    @Module({
      imports: [HalProblemModule.forRoot({ auth } as never)],
      controllers: [KeysDocController],
    })
    class KeysModule {}
    const running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [KeysModule] }),
    );
    return { running, document: outageDocument(running) };
  };
  const base = {
    realm: 'test',
    algorithms: ['HS256'],
    audience: TEST_AUDIENCE,
  };
  const down = (
    _request: unknown,
    _token: string,
    done: (error: unknown) => void,
  ) => done(new KeySourceError('the JWKS endpoint is down'));

  it.each([
    [
      'secretOrKeyProvider',
      { ...base, issuer: TEST_ISSUER, secretOrKeyProvider: down },
    ],
    [
      'keysByIssuer with a provider',
      { ...base, keysByIssuer: { [TEST_ISSUER]: down } },
    ],
  ])(
    'documents the 503 of a failing %s on guarded routes only',
    async (_name, auth) => {
      const { running, document } = await start(auth);
      try {
        const response = await fetch(`${running.baseUrl}/keys/guarded`, {
          headers: { authorization: `Bearer ${signToken()}` },
        });
        expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
        await checked(
          new OpenApiResponseValidator(document),
          'GET',
          '/keys/guarded',
          response,
          503,
        );
        expect(
          document.paths['/keys/guarded'].get.responses['503'].description,
        ).toMatch(/key source/);
        expect(documented(document, '/keys/open', 'get')).not.toContain('503');
      } finally {
        await running.close();
      }
    },
  );

  it.each([
    ['secretOrKey', AUTH_OPTIONS.auth as Json],
    [
      'keysByIssuer with static keys',
      {
        ...base,
        keysByIssuer: {
          [TEST_ISSUER]: (AUTH_OPTIONS.auth as Json).secretOrKey,
        },
      },
    ],
  ])(
    'documents no 503 with %s, which has no key source to fail',
    async (_name, auth) => {
      const { running, document } = await start(auth);
      try {
        expect(documented(document, '/keys/guarded', 'get')).not.toContain(
          '503',
        );
        const response = await fetch(`${running.baseUrl}/keys/guarded`, {
          headers: { authorization: `Bearer ${signToken()}` },
        });
        expect(response.status).toBe(200);
      } finally {
        await running.close();
      }
    },
  );
});

/** Routes skipping all, some or none of two named throttlers. */
@Controller('named')
class NamedThrottlersDocController {
  @Get('free')
  @SkipThrottle({ short: true, long: true })
  free(): { ok: boolean } {
    return { ok: true };
  }

  @Get('long-only')
  @SkipThrottle({ short: true })
  longOnly(): { ok: boolean } {
    return { ok: true };
  }

  /** Skips `default`, which this app does not have: both still count. */
  @Get('unnamed-skip')
  @SkipThrottle()
  unnamedSkip(): { ok: boolean } {
    return { ok: true };
  }
}

describe.each(ADAPTERS)('OpenAPI of named throttlers on %s', (adapter) => {
  it('documents 429, rate-limit headers and the storage 503 where a throttler still counts', async () => {
    @Module({
      imports: [
        ThrottlerModule.forRoot([
          { name: 'short', ttl: 60_000, limit: 2 },
          { name: 'long', ttl: 120_000, limit: 3 },
        ]),
        HalProblemModule.forRoot({
          throttle: { onStorageError: 'fail-closed' },
        }),
      ],
      controllers: [NamedThrottlersDocController],
    })
    class NamedThrottlersModule {}
    const running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [NamedThrottlersModule] }),
    );
    try {
      const document = outageDocument(running);
      const validator = new OpenApiResponseValidator(document);
      const url = (path: string) => `${running.baseUrl}${path}`;
      // Skipping both named throttlers: nothing can limit the route.
      const free = document.paths['/named/free'].get.responses as Json;
      expect(Object.keys(free)).not.toContain('429');
      expect(Object.keys(free)).not.toContain('503');
      expect(free['200'].headers?.RateLimit).toBeUndefined();
      for (const path of ['/named/long-only', '/named/unnamed-skip']) {
        const responses = document.paths[path].get.responses as Json;
        expect([path, Object.keys(responses)]).toEqual([
          path,
          expect.arrayContaining(['429', '503']),
        ]);
        expect(responses['200'].headers.RateLimit).toBeDefined();
        expect(responses['503'].description).toMatch(/rate-limit storage/);
      }
      for (let i = 0; i < 4; i++) {
        const response = await fetch(url('/named/free'));
        expect(response.headers.get('ratelimit')).toBeNull();
        await checked(validator, 'GET', '/named/free', response, 200);
      }
      // `short` allows 2: the third request is refused, as documented.
      for (const status of [200, 200, 429]) {
        await checked(
          validator,
          'GET',
          '/named/unnamed-skip',
          await fetch(url('/named/unnamed-skip')),
          status,
        );
      }
      // `long` counted the two allowed (not the refused one): one left.
      for (const status of [200, 429]) {
        await checked(
          validator,
          'GET',
          '/named/long-only',
          await fetch(url('/named/long-only')),
          status,
        );
      }
    } finally {
      await running.close();
    }
  });
});
