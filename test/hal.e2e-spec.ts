import {
  Controller,
  Get,
  Headers,
  HttpCode,
  Module,
  Param,
  Post,
  Put,
  Res,
  Header,
} from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import {
  HalEmbedded,
  HalLink,
  HalOperation,
  HalProblemModule,
  HalResource,
  Operation,
  OperationsService,
  RouteTable,
} from 'nestjs-hal-problem';
import {
  ADAPTERS,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';
import { expectProblem } from './support/problem-assertions';
import { startAppendingProxy } from './support/appending-proxy';
import {
  absoluteFormRequest,
  rawRequest,
  socketRequest,
} from './support/raw-http';
import {
  HAL_FIXTURE_OPTIONS,
  halFixtureModule,
  resetWidgets,
  widgets,
  WidgetsController,
} from './fixtures/hal-fixture.module';

@Module(halFixtureModule())
class HalAppModule {}

type Json = Record<string, any>;

describe.each(ADAPTERS)('HAL on %s', (adapter) => {
  let running: RunningApp;
  const url = (path: string) => `${running.baseUrl}${path}`;
  const getJson = async (
    path: string,
    headers: Record<string, string> = {},
  ) => {
    const response = await fetch(url(path), { headers });
    return { response, body: (await response.json()) as Json };
  };

  beforeAll(async () => {
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [HalAppModule] }),
    );
  });
  beforeEach(() => resetWidgets());
  afterAll(() => running.close());

  describe('a resource', () => {
    it('is application/hal+json with class links, conditional links and CURIEs', async () => {
      const { response, body } = await getJson('/widgets/1');
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(
        /^application\/hal\+json/,
      );
      expect(response.headers.get('vary')).toMatch(/Accept/);
      expect(body).toEqual({
        _links: {
          self: { href: '/widgets/1' },
          collection: { href: '/widgets' },
          'acme:discontinue': {
            href: '/widgets/1/discontinue',
            title: 'Discontinue this widget',
          },
          alternate: [
            { href: '/catalog/widgets/1?format=pdf', type: 'application/pdf' },
            { href: '/catalog/widgets/1.csv', type: 'text/csv' },
          ],
          curies: [
            {
              name: 'acme',
              href: 'https://docs.example.test/rels/{rel}',
              templated: true,
            },
          ],
        },
        id: '1',
        name: 'w1',
        status: 'active',
        color: 'red',
      });
    });

    it('drops a link whose condition fails, and the CURIE with it', async () => {
      const discontinued = await fetch(url('/widgets/2/discontinue'), {
        method: 'POST',
      });
      // That handler names its resource class through @HalResource(() => X).
      expect(discontinued.status).toBe(200);
      expect(
        ((await discontinued.json()) as { _links: Record<string, unknown> })
          ._links.self,
      ).toEqual({ href: '/widgets/2' });
      const { body } = await getJson('/widgets/2');
      expect(body.status).toBe('discontinued');
      expect(body._links['acme:discontinue']).toBeUndefined();
      expect(body._links.curies).toBeUndefined();
    });

    it('waits for a condition that returns a promise', async () => {
      const active = await getJson('/widgets/checked/1');
      expect(active.response.status).toBe(200);
      expect(active.body._links).toEqual({
        self: { href: '/widgets/checked/1' },
        edit: { href: '/widgets/1' },
        describedby: { href: 'https://docs.example.test/widgets' },
      });
      const discontinued = await getJson(
        `/widgets/checked/${encodeURIComponent('a/b?c')}`,
      );
      expect(discontinued.body._links).toEqual({
        self: { href: '/widgets/checked/a%2Fb%3Fc' },
        describedby: { href: 'https://docs.example.test/widgets' },
      });
      expect(discontinued.body.name).toBe('evil');
      const list = await getJson('/widgets/checked');
      const embedded = list.body._embedded.widgets as Json[];
      expect(embedded.map((item) => item.id)).toEqual([
        '1',
        '2',
        '3',
        '4',
        '5',
        'a/b?c',
      ]);
      expect(embedded.map((item) => item._links.edit?.href)).toEqual([
        '/widgets/1',
        '/widgets/2',
        '/widgets/3',
        '/widgets/4',
        '/widgets/5',
        undefined,
      ]);
    });

    it('declares the CURIE of a curied rel used only in _embedded', async () => {
      const curies = [
        {
          name: 'acme',
          href: 'https://docs.example.test/rels/{rel}',
          templated: true,
        },
      ];
      const { body } = await getJson('/widgets/curied-parts');
      expect(Object.keys(body._embedded)).toEqual(['acme:parts']);
      expect(body._links.curies).toEqual(curies);
      const page = await getJson('/widgets/curied-page');
      expect(Object.keys(page.body._embedded)).toEqual(['acme:widgets']);
      expect(page.body._links.curies).toEqual(curies);
    });

    it('sends no empty _embedded when every embedded value is null', async () => {
      const { body } = await getJson('/widgets/no-parts');
      expect(body).toEqual({
        _links: { self: { href: '/widgets/no-parts' } },
        name: 'bare',
      });
    });

    it('escapes reserved characters of ids: no path injection', async () => {
      const { body } = await getJson(`/widgets/${encodeURIComponent('a/b?c')}`);
      expect(body._links.self.href).toBe('/widgets/a%2Fb%3Fc');
      expect(body._links.collection.href).toBe('/widgets');
    });

    it('is labelled application/json for clients that ask only for JSON', async () => {
      const { response, body } = await getJson('/widgets/1', {
        accept: 'application/json',
      });
      expect(response.headers.get('content-type')).toMatch(
        /^application\/json/,
      );
      expect(body._links.self.href).toBe('/widgets/1');
    });

    it.each([
      'application/hal+json;q=0, application/json',
      'application/hal+json;q=0, */*',
      'application/hal+json; q=0.0',
    ])(
      'honours q=0: a client that refuses HAL gets application/json (%s)',
      async (accept) => {
        const { response } = await getJson('/widgets/1', { accept });
        expect(response.headers.get('content-type')).toMatch(
          /^application\/json/,
        );
      },
    );

    it.each([
      ['application/hal+json;q=0.1, application/json', 'application/json'],
      ['*/*;q=0.1, application/json', 'application/json'],
      ['application/json;q=0.5, application/*', 'application/hal+json'],
      ['application/json, application/hal+json', 'application/hal+json'],
      ['application/json;q=0, */*', 'application/hal+json'],
      ['text/html', 'application/hal+json'],
      // Out of RFC 9110's grammar, but meant as weights.
      ['application/hal+json;q=.5, application/json;q=0.9', 'application/json'],
      [
        'application/hal+json;q=0.0001, application/json;q=0.5',
        'application/json',
      ],
      // Commas and semicolons inside a quoted parameter value are text.
      [
        'text/plain;x=", application/hal+json;q=0;y=", */*',
        'application/hal+json',
      ],
      [
        'application/hal+json;p=";q=0;", application/json;q=0.5',
        'application/hal+json',
      ],
      [
        'application/hal+json;p="a\\"b;q=0;", application/json;q=0.5',
        'application/hal+json',
      ],
    ])(
      'labels the body by the weights of Accept (%s -> %s)',
      async (accept, type) => {
        const { response } = await getJson('/widgets/1', { accept });
        expect(response.headers.get('content-type')?.split(';')[0]).toBe(type);
      },
    );

    it('answers 201 with Location equal to the new self', async () => {
      const response = await fetch(url('/widgets'), {
        method: 'POST',
        body: JSON.stringify({ name: 'new' }),
        headers: { 'content-type': 'application/json' },
      });
      const body = (await response.json()) as Json;
      expect(response.status).toBe(201);
      expect(body._links.self.href).toMatch(/^\/widgets\/\d+$/);
      expect(response.headers.get('location')).toBe(body._links.self.href);
    });

    it('answers 204 with no body and no HAL', async () => {
      const response = await fetch(url('/widgets/1'), { method: 'DELETE' });
      expect(response.status).toBe(204);
      expect(await response.text()).toBe('');
      expect(widgets.has('1')).toBe(false);
    });

    it('answers 204 for handlers that return nothing, without @HttpCode', async () => {
      const touched = await fetch(url('/widgets/1/touch'), { method: 'POST' });
      expect(touched.status).toBe(204);
      expect(await touched.text()).toBe('');
      const nothing = await fetch(url('/widgets/nothing'), {
        headers: { 'x-request-id': 'empty-1' },
      });
      expect(nothing.status).toBe(204);
      expect(nothing.headers.get('x-request-id')).toBe('empty-1');
      expect(nothing.headers.get('content-type')).toBeNull();
    });

    it('varies on Authorization where a link condition read the principal', async () => {
      expect((await fetch(url('/widgets/personal'))).headers.get('vary')).toBe(
        'Origin, Accept, Authorization',
      );
      expect(
        (await fetch(url('/widgets/by-query?more=yes'))).headers.get('vary'),
      ).toBe('Accept');
    });

    it('adds Accept to an existing Vary and leaves a returned web Response alone', async () => {
      expect((await fetch(url('/widgets/varied'))).headers.get('vary')).toBe(
        'Origin, Accept',
      );
      const web = await fetch(url('/widgets/web-response'));
      expect(web.status).toBe(299);
      expect(await web.text()).toBe('made by hand');
    });

    it('sends a body that is HAL already as it is', async () => {
      const { response, body } = await getJson('/widgets/prebuilt');
      expect(response.headers.get('content-type')).toMatch(
        /^application\/hal\+json/,
      );
      expect(body).toEqual({
        _links: { self: { href: '/custom' } },
        custom: true,
      });
    });

    it('leaves strings and @SkipHal handlers alone', async () => {
      const text = await fetch(url('/widgets/text'));
      expect(await text.text()).toBe('plain text');
      expect(text.headers.get('content-type')).not.toMatch(/hal/);
      const { response, body } = await getJson('/widgets/raw/1');
      expect(response.headers.get('content-type')).toMatch(
        /^application\/json/,
      );
      expect(body._links).toBeUndefined();
    });
  });

  describe('a request target in absolute form', () => {
    it('links and problems show the path, never the host the client named', async () => {
      const resource = await absoluteFormRequest(
        running.baseUrl,
        'http://other.example/widgets/1?x=1',
      );
      expect(resource.status).toBe(200);
      const body = JSON.parse(resource.body) as Json;
      expect(body._links.self).toEqual({ href: '/widgets/1' });
      const root = await absoluteFormRequest(
        running.baseUrl,
        'http://other.example/',
      );
      expect((JSON.parse(root.body) as Json)._links.self).toEqual({
        href: '/',
      });
      const missing = await absoluteFormRequest(
        running.baseUrl,
        'http://other.example/widgets/99',
      );
      expect(missing.status).toBe(404);
      expect(JSON.parse(missing.body)).toMatchObject({
        instance: '/widgets/99',
      });
    });
  });

  describe('a percent-encoded spelling of a path', () => {
    it('links to the normalized target where the platform serves it', async () => {
      const response = await fetch(url('/%77idgets/1'));
      if (adapter === 'fastify') {
        // Fastify's router decodes the path and serves the route.
        expect(response.status).toBe(200);
        expect(((await response.json()) as Json)._links.self).toEqual({
          href: '/widgets/1',
        });
      } else {
        // Express's does not: a 404, its instance the normalized target.
        expect(response.status).toBe(404);
        expect(((await response.json()) as Json).instance).toBe('/widgets/1');
      }
    });

    // Express routes the path as sent: no other method may be offered for
    // a path whose GET is a 404.
    (adapter === 'express' ? it : it.skip)(
      'answers every method 404 where the platform routes nothing',
      async () => {
        for (const method of ['GET', 'DELETE', 'OPTIONS']) {
          const response = await fetch(url('/%77idgets'), { method });
          expect({ method, status: response.status }).toEqual({
            method,
            status: 404,
          });
          expect(response.headers.get('allow')).toBeNull();
        }
      },
    );
  });

  describe('collections', () => {
    it('pages with first/prev/next/last links that keep other query parameters', async () => {
      const { body } = await getJson('/widgets?color=red&page=2&size=1');
      expect(body.page).toEqual({
        number: 2,
        size: 1,
        totalElements: 4,
        totalPages: 4,
      });
      expect(body._links).toEqual({
        self: { href: '/widgets?color=red&page=2&size=1' },
        first: { href: '/widgets?color=red&page=1&size=1' },
        prev: { href: '/widgets?color=red&page=1&size=1' },
        next: { href: '/widgets?color=red&page=3&size=1' },
        last: { href: '/widgets?color=red&page=4&size=1' },
      });
      expect(body._embedded.widgets).toHaveLength(1);
      expect(body._embedded.widgets[0]._links.self.href).toBe('/widgets/3');
    });

    it('has no prev on the first page and no next on the last', async () => {
      const first = (await getJson('/widgets?page=1&size=3')).body;
      expect(first._links.prev).toBeUndefined();
      expect(first._links.next.href).toBe('/widgets?page=2&size=3');
      const last = (await getJson('/widgets?page=2&size=3')).body;
      expect(last._links.next).toBeUndefined();
      expect(last._links.last.href).toBe('/widgets?page=2&size=3');
    });

    it('keeps an empty collection as [] and points past-the-end pages back', async () => {
      widgets.clear();
      const empty = (await getJson('/widgets')).body;
      expect(empty._embedded.widgets).toEqual([]);
      expect(empty.page).toEqual({
        number: 1,
        size: 2,
        totalElements: 0,
        totalPages: 0,
      });
      expect(empty._links.last.href).toBe('/widgets?page=1&size=2');
      resetWidgets();
      const past = (await getJson('/widgets?page=9&size=2')).body;
      expect(past._embedded.widgets).toEqual([]);
      expect(past._links.prev.href).toBe('/widgets?page=3&size=2');
      expect(past._links.next).toBeUndefined();
    });

    it('wraps a returned array as an embedded collection, each item with self', async () => {
      const { body } = await getJson('/widgets/everything');
      expect(body._links.self.href).toBe('/widgets/everything');
      expect(body._embedded.widgets).toHaveLength(6);
      for (const item of body._embedded.widgets)
        expect(item._links.self.href).toMatch(/^\/widgets\//);
    });

    it('embeds items that are no resources (null, strings) as they are', async () => {
      const { response, body } = await getJson('/widgets/tags');
      expect(response.status).toBe(200);
      expect(body).toEqual({
        _links: { self: { href: '/widgets/tags' } },
        _embedded: { items: ['red', null, 'blue'] },
      });
    });
  });

  describe('templated links', () => {
    it('offers route templates with their query parameters', async () => {
      const { body } = await getJson('/');
      expect(body._links).toEqual({
        self: { href: '/' },
        widgets: { href: '/widgets{?page,size,color}', templated: true },
        widget: { href: '/widgets/{id}', templated: true },
        describedby: {
          href: 'https://docs.example.test/widgets',
          type: 'text/html',
        },
      });
    });
  });
});

describe.each(ADAPTERS)('HAL link bases on %s', (adapter) => {
  const start = async (hal: Record<string, unknown>) => {
    @Module(
      halFixtureModule({
        hal: {
          relations: ['widgets', 'widget'],
          curies: [{ name: 'acme', href: 'https://d.test/{rel}' }],
          ...hal,
        },
      }),
    )
    class LinkBaseModule {}
    return startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [LinkBaseModule] }),
    );
  };
  beforeEach(() => resetWidgets());

  it('ignores X-Forwarded-* unless trustProxy is set', async () => {
    const running = await start({ links: 'request' });
    try {
      const response = await fetch(`${running.baseUrl}/widgets/1`, {
        headers: {
          'x-forwarded-host': 'evil.test',
          'x-forwarded-proto': 'https',
          'x-forwarded-prefix': '/evil',
        },
      });
      const body = (await response.json()) as Json;
      expect(body._links.self.href).toBe(`${running.baseUrl}/widgets/1`);
    } finally {
      await running.close();
    }
  });

  it('honours Forwarded and X-Forwarded-Prefix with trustProxy', async () => {
    const running = await start({ links: 'request', trustProxy: true });
    try {
      const response = await fetch(`${running.baseUrl}/widgets/1`, {
        headers: {
          forwarded: 'for=1.2.3.4;proto=https;host=api.example.test',
          'x-forwarded-prefix': '/shop',
        },
      });
      const body = (await response.json()) as Json;
      expect(body._links.self.href).toBe(
        'https://api.example.test/shop/widgets/1',
      );
    } finally {
      await running.close();
    }
  });

  describe('behind proxies that append', () => {
    // The client asks the proxy for api.example.test; the app itself is
    // reached at 127.0.0.1:<port>, which the proxy sends as Host.
    const selfThrough = async (
      proxyUrl: string,
      headers: Record<string, string | string[]>,
    ) => {
      const response = await rawRequest(proxyUrl, '/widgets/1', {
        host: 'api.example.test',
        ...headers,
      });
      expect(response.status).toBe(200);
      return (JSON.parse(response.body) as Json)._links.self.href as string;
    };
    const withChain = async (
      trustProxy: boolean | number,
      families: ('x-forwarded' | 'forwarded')[],
      run: (entry: string, appUrl: string) => Promise<void>,
    ) => {
      const running = await start({ links: 'request', trustProxy });
      const proxies = [];
      try {
        // The last family is the outermost proxy, the one the client calls.
        let next = running.baseUrl;
        for (const family of families) {
          const proxy = await startAppendingProxy(next, { family });
          proxies.push(proxy);
          next = proxy.baseUrl;
        }
        await run(next, running.baseUrl);
      } finally {
        for (const proxy of proxies.reverse()) await proxy.close();
        await running.close();
      }
    };

    it("ignores a client's Forwarded with trustProxy: 1 when the proxy appended X-Forwarded-*", async () => {
      await withChain(1, ['x-forwarded'], async (entry) => {
        expect(
          await selfThrough(entry, {
            forwarded: 'for=203.0.113.9;host=evil.example.test;proto=http',
          }),
        ).toBe('https://api.example.test/widgets/1');
        // Its own X-Forwarded-* lines come before the proxy's: not read either.
        expect(
          await selfThrough(entry, {
            'x-forwarded-host': ['evil.example.test', 'evil2.example.test'],
            'x-forwarded-proto': 'http',
            forwarded: 'host=evil.example.test',
          }),
        ).toBe('https://api.example.test/widgets/1');
      });
    });

    it("keeps trustProxy: true reading the client's first element, as before", async () => {
      await withChain(true, ['x-forwarded'], async (entry) => {
        expect(
          await selfThrough(entry, {
            forwarded: 'for=203.0.113.9;host=evil.example.test',
          }),
        ).toBe('https://evil.example.test/widgets/1');
        expect(
          await selfThrough(entry, {
            'x-forwarded-host': 'evil2.example.test',
          }),
        ).toBe('https://evil2.example.test/widgets/1');
        expect(await selfThrough(entry, {})).toBe(
          'https://api.example.test/widgets/1',
        );
      });
    });

    it('reads the Forwarded element of the proxy, not the one a client put before it', async () => {
      await withChain(1, ['forwarded'], async (entry) => {
        expect(
          await selfThrough(entry, {
            forwarded: ['host=evil.example.test;proto=http', 'host=evil2'],
          }),
        ).toBe('https://api.example.test/widgets/1');
      });
    });

    it('reads the outermost of N proxies with trustProxy: N', async () => {
      await withChain(2, ['x-forwarded', 'x-forwarded'], async (entry) => {
        expect(
          await selfThrough(entry, {
            'x-forwarded-host': 'evil.example.test',
            forwarded: 'host=evil.example.test',
          }),
        ).toBe('https://api.example.test/widgets/1');
      });
      // Counted one hop short, the inner proxy's element is read: the host
      // the outer one called it at, not the one the client asked for.
      await withChain(1, ['x-forwarded', 'x-forwarded'], async (entry, app) => {
        const href = await selfThrough(entry, {});
        expect(href).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/widgets\/1$/);
        expect(href).not.toBe(`${app.replace('http:', 'https:')}/widgets/1`);
      });
    });

    it('reads the one element a proxy wrote when trustProxy counts more', async () => {
      await withChain(2, ['x-forwarded'], async (entry) => {
        expect(
          await selfThrough(entry, { forwarded: 'host=evil.example.test' }),
        ).toBe('https://api.example.test/widgets/1');
      });
    });
  });

  it('uses a fixed public base URL', async () => {
    const running = await start({ links: 'https://public.example.test/' });
    try {
      const body = (await (
        await fetch(`${running.baseUrl}/widgets/1`)
      ).json()) as Json;
      expect(body._links.self.href).toBe(
        'https://public.example.test/widgets/1',
      );
      expect(body._links.alternate[0].href).toBe(
        'https://public.example.test/catalog/widgets/1?format=pdf',
      );
    } finally {
      await running.close();
    }
  });
});

describe('HAL bootstrap checks', () => {
  it('fails the start on an unregistered rel, naming it', async () => {
    @Controller('bad')
    class BadController {
      @Get()
      @HalLink('frobnicate', '/x')
      get() {
        return {};
      }
    }
    @Module({
      imports: [HalProblemModule.forRoot()],
      controllers: [BadController],
    })
    class BadModule {}
    await expect(
      startTestingApp(
        'express',
        Test.createTestingModule({ imports: [BadModule] }),
      ),
    ).rejects.toThrow(/HAL relation "frobnicate" on BadController.get/);
  });

  it('fails the start on a hal.trustProxy that is not a boolean or a hop count', async () => {
    @Module({
      imports: [
        HalProblemModule.forRoot({
          hal: { trustProxy: 'false' as unknown as boolean },
        }),
      ],
    })
    class BadTrustModule {}
    await expect(
      startTestingApp(
        'express',
        Test.createTestingModule({ imports: [BadTrustModule] }),
      ),
    ).rejects.toThrow(
      /hal\.trustProxy must be true, false or the number of proxies .* got "false"/,
    );
  });

  it('fails the start on a link to a method that is not a route', async () => {
    @Controller('bad2')
    class Bad2Controller {
      @Get()
      @HalLink('related', [WidgetsController, 'findOne'])
      get() {
        return {};
      }
    }
    @Module({
      imports: [HalProblemModule.forRoot()],
      controllers: [Bad2Controller],
    })
    class Bad2Module {}
    await expect(
      startTestingApp(
        'express',
        Test.createTestingModule({ imports: [Bad2Module] }),
      ),
    ).rejects.toThrow(/WidgetsController.findOne is not a route/);
  });

  it('type-checks route references', () => {
    // @ts-expect-error: 'nope' is not a method of WidgetsController
    HalLink('related', [WidgetsController, 'nope']);
    expect(true).toBe(true);
  });
});

@Controller('gadgets')
class GadgetsController {
  @Get(':id')
  @HalLink('self', () => [GadgetsController, 'findOne'])
  @HalLink('collection', () => [GadgetsController, 'findAll'])
  findOne(@Param('id') id: string) {
    return { id };
  }

  @Get()
  findAll() {
    return [];
  }
}

@Module({ controllers: [GadgetsController] })
class AdminModule {}

@Module({
  imports: [
    HalProblemModule.forRoot(),
    AdminModule,
    RouterModule.register([{ path: 'admin', module: AdminModule }]),
  ],
})
class RoutedAppModule {}

describe.each(ADAPTERS)('routes under RouterModule paths on %s', (adapter) => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [RoutedAppModule] }),
      (app) => {
        app.setGlobalPrefix('api');
      },
    );
  });
  afterAll(() => running.close());

  it('links to the path the route is served at, module path included', async () => {
    const response = await fetch(`${running.baseUrl}/api/admin/gadgets/7`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as Json)._links).toEqual({
      self: { href: '/api/admin/gadgets/7' },
      collection: { href: '/api/admin/gadgets' },
    });
  });

  it('answers 405 with Allow there, and 404 where nothing is served', async () => {
    const wrongMethod = await fetch(`${running.baseUrl}/api/admin/gadgets/7`, {
      method: 'DELETE',
    });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    const unserved = await fetch(`${running.baseUrl}/api/gadgets/7`, {
      method: 'DELETE',
    });
    expect(unserved.status).toBe(404);
  });
});

describe.each(ADAPTERS)('HAL with plainJson: false on %s', (adapter) => {
  let running: RunningApp;
  const url = (path: string) => `${running.baseUrl}${path}`;

  beforeAll(async () => {
    @Module(
      halFixtureModule({
        hal: { ...HAL_FIXTURE_OPTIONS.hal, plainJson: false },
      }),
    )
    class HalOnlyModule {}
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [HalOnlyModule] }),
    );
  });
  afterAll(() => running.close());

  it.each([
    'application/json',
    'application/hal+json;q=0, application/json',
    '*/*',
    undefined,
  ])(
    'labels every HAL body application/hal+json, without Vary: Accept (Accept: %s)',
    async (accept) => {
      const response = await fetch(url('/widgets/1'), {
        headers: accept === undefined ? {} : { accept },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(
        /^application\/hal\+json/,
      );
      expect(response.headers.get('vary')).toBeNull();
      expect(((await response.json()) as Json)._links.self.href).toBe(
        '/widgets/1',
      );
    },
  );

  it('still varies on Authorization where a link condition read the principal, keeping what others vary on', async () => {
    const response = await fetch(url('/widgets/personal'), {
      headers: { accept: 'application/json' },
    });
    expect(response.headers.get('content-type')).toMatch(
      /^application\/hal\+json/,
    );
    expect(response.headers.get('vary')).toBe('Origin, Authorization');
    expect((await fetch(url('/widgets/varied'))).headers.get('vary')).toBe(
      'Origin',
    );
  });
});

@HalLink('self', '/accounts/{id}')
class Account {
  constructor(
    readonly id: string,
    readonly name: string,
    private readonly password: string,
  ) {}

  /** What JSON.stringify writes of an account: never its password. */
  toJSON(): Record<string, unknown> {
    return { id: this.id, name: this.name };
  }
}

/** A team whose JSON maps its members to plain objects, hiding their passwords. */
class Team {
  @HalEmbedded('accounts')
  readonly members = [new Account('a3', 'carol', 'pa55')];

  toJSON(): Record<string, unknown> {
    return {
      name: 'core',
      members: this.members.map(({ id, name }) => ({ id, name })),
    };
  }
}

/** A class whose JSON is a HAL document already. */
class Receipt {
  toJSON(): Record<string, unknown> {
    return { _links: { self: { href: '/receipts/r1' } }, total: 5 };
  }
}

@Controller('accounts')
class AccountsController {
  @Get('receipt')
  receipt(): Receipt {
    return new Receipt();
  }

  @Get('team')
  @HalLink('self', '/accounts/team')
  team(): Team {
    return new Team();
  }

  @Get('one')
  one(): Account {
    return new Account('a1', 'alice', 's3cret');
  }

  @Get()
  @HalEmbedded('accounts', { type: () => Account })
  @HalLink('self', '/accounts')
  all(): { accounts: Account[] } {
    return { accounts: [new Account('a2', 'bob', 'hunter2')] };
  }

  @Get('created-at')
  createdAt(): Date {
    return new Date(0);
  }

  @Get('dates')
  dates(): Date[] {
    return [new Date(0)];
  }

  @Get('bare-items')
  bareItems(): object[] {
    return [Object.assign(Object.create(null) as object, { id: 'x' })];
  }

  /** Values url-template cannot take as they are: a lone surrogate, numbers. */
  @Get('odd-values')
  @HalLink('self', '/accounts/odd-values')
  @HalLink('search', 'https://docs.example.test/search{?q,lang}')
  @HalLink('related', 'https://docs.example.test/{#ids}')
  oddValues(): { q: string; ids: number[] } {
    return { q: '\ud800', ids: [1, 2] };
  }

  /** Reserved and fragment expansions of values holding a lone `%`. */
  @Get('reserved-values')
  @HalLink('self', '/accounts/reserved-values')
  @HalLink('related', 'https://docs.example.test/files/{+path}{?v}')
  @HalLink('describedby', 'https://docs.example.test/guide{#section}')
  reservedValues(): { path: string; v: string; section: string } {
    return { path: 'a b/50%e é', v: '1', section: '50%e-off now' };
  }

  @Get(':id/profile')
  profile(@Param('id') id: string): { id: string } {
    return { id };
  }

  /** No declared self: the request's own target is its self. */
  @Get('plain')
  plain(): { plain: boolean } {
    return { plain: true };
  }

  /** A creation whose self cannot be expanded: its id is missing. */
  @Post('nameless')
  @HalLink('self', '/accounts/{id}')
  nameless(): { name: string } {
    return { name: 'no id yet' };
  }
}

describe.each(ADAPTERS)(
  'HAL of values that are not plain objects on %s',
  (adapter) => {
    let running: RunningApp;
    const get = async (path: string) => {
      const response = await fetch(`${running.baseUrl}${path}`);
      return { response, body: (await response.json()) as any };
    };

    beforeAll(async () => {
      @Module({
        imports: [
          HalProblemModule.forRoot({ hal: { relations: ['accounts'] } }),
        ],
        controllers: [AccountsController],
      })
      class AccountsModule {}
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [AccountsModule] }),
      );
    });
    afterAll(() => running.close());

    it("sends what a class's toJSON() writes, with its links: no hidden field leaks", async () => {
      const { response, body } = await get('/accounts/one');
      expect(response.status).toBe(200);
      expect(body).toEqual({
        _links: { self: { href: '/accounts/a1' } },
        id: 'a1',
        name: 'alice',
      });
      const list = await get('/accounts');
      expect(list.body._embedded.accounts).toEqual([
        { _links: { self: { href: '/accounts/a2' } }, id: 'a2', name: 'bob' },
      ]);
      expect(JSON.stringify(list.body)).not.toMatch(/hunter2|password/);
    });

    it("keeps the links of a class's children when its toJSON() maps them to plain objects", async () => {
      const { body } = await get('/accounts/team');
      expect(body._embedded.accounts).toEqual([
        { _links: { self: { href: '/accounts/a3' } }, id: 'a3', name: 'carol' },
      ]);
      expect(JSON.stringify(body)).not.toMatch(/pa55|password/);
    });

    it('sends a class whose toJSON() is HAL already as it is', async () => {
      const { response, body } = await get('/accounts/receipt');
      expect(response.headers.get('content-type')).toMatch(
        /^application\/hal\+json/,
      );
      expect(body).toEqual({
        _links: { self: { href: '/receipts/r1' } },
        total: 5,
      });
    });

    it('sends a Date as Nest would, not as an empty HAL document', async () => {
      const { response, body } = await get('/accounts/created-at');
      expect(response.status).toBe(200);
      expect(body).toBe('1970-01-01T00:00:00.000Z');
      const embedded = await get('/accounts/dates');
      expect(embedded.body._embedded.items).toEqual([
        '1970-01-01T00:00:00.000Z',
      ]);
    });

    it('sends no Location for a creation whose self is a template: a variable was missing', async () => {
      const response = await fetch(`${running.baseUrl}/accounts/nameless`, {
        method: 'POST',
      });
      expect(response.status).toBe(201);
      expect(response.headers.get('location')).toBeNull();
      expect(((await response.json()) as Json)._links.self).toEqual({
        href: '/accounts/{id}',
        templated: true,
      });
    });

    it('expands a lone surrogate, a list of numbers and a missing query variable as RFC 6570 does', async () => {
      const { response, body } = await get('/accounts/odd-values');
      expect(response.status).toBe(200);
      expect(body._links.search.href).toBe(
        'https://docs.example.test/search?q=%EF%BF%BD',
      );
      expect(body._links.related.href).toBe('https://docs.example.test/#1,2');
    });

    it('percent-encodes a lone % in {+var} and {#var}: every href is a URI', async () => {
      const { response, body } = await get('/accounts/reserved-values');
      expect(response.status).toBe(200);
      expect(body._links.related.href).toBe(
        'https://docs.example.test/files/a%20b/50%25e%20%C3%A9?v=1',
      );
      expect(body._links.describedby.href).toBe(
        'https://docs.example.test/guide#50%25e-off%20now',
      );
    });

    it('percent-encodes what Node lets through in a target, so self and instance are URIs', async () => {
      const found = await socketRequest(
        running.baseUrl,
        'GET /accounts/plain?x={y}|^ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      );
      expect(found.status).toBe(200);
      expect(JSON.parse(found.body)._links.self).toEqual({
        href: '/accounts/plain?x=%7By%7D%7C%5E',
      });
      const missing = await socketRequest(
        running.baseUrl,
        'GET /nowhere/{id}| HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      );
      expect(missing.status).toBe(404);
      expect(JSON.parse(missing.body).instance).toBe('/nowhere/%7Bid%7D%7C');
    });

    it("builds a route's href, and refuses one with a path parameter left out", () => {
      const routes = running.app.get(RouteTable);
      expect(routes.href(AccountsController, 'profile', { id: 'a 1' })).toBe(
        '/accounts/a%201/profile',
      );
      expect(() => routes.href(AccountsController, 'profile')).toThrow(
        'AccountsController.profile: href() needs id',
      );
    });

    it('embeds null-prototype objects', async () => {
      const { response, body } = await get('/accounts/bare-items');
      expect(response.status).toBe(200);
      expect(body._embedded.items).toEqual([{ _links: {}, id: 'x' }]);
    });
  },
);

@Controller('files')
class FilesController {
  /** The rest of the path: Express gives it as a list of segments. */
  @Get('*path')
  @HalLink('self', () => [FilesController, 'file'])
  file(@Param('path') path: string[]): { path: string[] } {
    return { path };
  }
}

@Controller('shelves')
class ShelvesController {
  /** A resource that holds a file's path as one string. */
  @Get('first')
  @HalLink('self', '/shelves/first')
  @HalLink('item', () => [FilesController, 'file'])
  first(): { path: string } {
    return { path: 'docs/read me?.txt' };
  }
}

// Fastify refuses `*path` in the middle of its route syntax with or without
// this module (its wildcard is `*`, last), so this runs on Express.
describe('HAL links to wildcard routes on express', () => {
  let running: RunningApp;
  beforeAll(async () => {
    @Module({
      imports: [HalProblemModule.forRoot({})],
      controllers: [FilesController, ShelvesController],
    })
    class FilesModule {}
    running = await startTestingApp(
      'express',
      Test.createTestingModule({ imports: [FilesModule] }),
    );
  });
  afterAll(() => running.close());

  it('links to the rest of the path segment by segment, encoding what would start a query', async () => {
    const nested = await fetch(`${running.baseUrl}/files/x/y`);
    expect(((await nested.json()) as Json)._links.self.href).toBe('/files/x/y');
    const question = await fetch(`${running.baseUrl}/files/a%3Fb/c%23d`);
    expect(((await question.json()) as Json)._links.self.href).toBe(
      '/files/a%3Fb/c%23d',
    );
    const routes = running.app.get(RouteTable);
    expect(routes.href(FilesController, 'file', { path: 'a/b' })).toBe(
      '/files/a/b',
    );
    expect(() => routes.href(FilesController, 'file')).toThrow(
      'FilesController.file: href() needs path',
    );
    const shelf = await fetch(`${running.baseUrl}/shelves/first`);
    expect(((await shelf.json()) as Json)._links.item.href).toBe(
      '/files/docs/read%20me%3F.txt',
    );
  });
});

describe.each(ADAPTERS)(
  '@HalOperation with a monitor parameter named otherwise on %s',
  (adapter) => {
    @HalOperation(() => [ExportsController, 'status'], {
      idParam: 'operationId',
    })
    class ExportOperation extends Operation {}

    @Controller('exports')
    class ExportsController {
      constructor(private readonly operations: OperationsService) {}

      @Post()
      @HttpCode(202)
      @HalResource(ExportOperation)
      start(): Promise<Operation> {
        return this.operations.start('export', () =>
          Promise.resolve({ resultHref: '/exports/1/file' }),
        );
      }

      @Get('operations/:operationId')
      @HalResource(ExportOperation)
      status(@Param('operationId') id: string): Promise<Operation> {
        return this.operations.get(id);
      }

      /** Owned by the caller (a header here; a principal's subject in an app). */
      @Post('mine')
      @HttpCode(202)
      startMine(@Headers('x-user') user: string): Promise<Operation> {
        return this.operations.start('export', () => Promise.resolve(), {
          owner: user,
        });
      }

      @Get('mine/:id')
      mine(
        @Param('id') id: string,
        @Headers('x-user') user: string | undefined,
      ): Promise<Operation> {
        return this.operations.get(id, { owner: user });
      }
    }

    let running: RunningApp;
    beforeAll(async () => {
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({
          imports: [HalProblemModule.forRoot()],
          controllers: [ExportsController],
        }),
      );
    });
    afterAll(() => running.close());

    it("answers another owner's operation with the 404 of an unknown one", async () => {
      const as = (user: string | undefined, path: string, method = 'GET') =>
        fetch(`${running.baseUrl}${path}`, {
          method,
          headers: user === undefined ? {} : { 'x-user': user },
        });
      const started = (await (
        await as('ann', '/exports/mine', 'POST')
      ).json()) as Json;
      const path = `/exports/mine/${started.id}`;
      expect((await as('ann', path)).status).toBe(200);
      const unknown = await expectProblem(
        await as('ann', '/exports/mine/00000000-0000-4000-8000-000000000000'),
        404,
      );
      for (const reader of ['bob', undefined]) {
        const refused = await expectProblem(await as(reader, path), 404);
        expect(refused.type).toBe(unknown.type);
        expect(refused.title).toBe(unknown.title);
      }
    });

    it('links the monitor by the id in that parameter, and sends its Location', async () => {
      const accepted = await fetch(`${running.baseUrl}/exports`, {
        method: 'POST',
      });
      expect(accepted.status).toBe(202);
      const body = (await accepted.json()) as Json;
      const monitor = `/exports/operations/${body.id}`;
      expect(body._links.self).toEqual({ href: monitor });
      expect(accepted.headers.get('location')).toBe(monitor);
      const polled = await fetch(`${running.baseUrl}${monitor}`);
      expect(polled.status).toBe(200);
      expect(((await polled.json()) as Json)._links.self.href).toBe(monitor);
    });
  },
);

describe.each(ADAPTERS)(
  'Location follows the status the handler sent on %s',
  (adapter) => {
    @HalLink('self', '/shelves2/{id}')
    class Shelf {
      constructor(readonly id: string) {}
    }

    const existing = new Set<string>(['1']);

    @Controller('shelves2')
    class ShelvesController {
      /** An upsert: 201 when it creates, the route's 200 when it replaces. */
      @Put(':id')
      put(
        @Param('id') id: string,
        @Res({ passthrough: true }) response: { status(code: number): unknown },
      ): Shelf {
        if (!existing.has(id)) {
          existing.add(id);
          response.status(201);
        }
        return new Shelf(id);
      }

      /** Accepted, nothing to say yet: the handler's own 202, no body. */
      @Post('queue')
      queue(
        @Res({ passthrough: true }) response: { status(code: number): unknown },
      ): void {
        response.status(202);
      }

      /** Found rather than created: the handler answers 200 itself. */
      @Post()
      post(
        @Res({ passthrough: true }) response: { status(code: number): unknown },
      ): Shelf {
        response.status(200);
        return new Shelf('1');
      }
    }

    let running: RunningApp;
    beforeAll(async () => {
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({
          imports: [HalProblemModule.forRoot()],
          controllers: [ShelvesController],
        }),
      );
    });
    afterAll(() => running.close());

    it('sends Location on a 201 the handler set on a 200 route', async () => {
      const created = await fetch(`${running.baseUrl}/shelves2/7`, {
        method: 'PUT',
      });
      expect(created.status).toBe(201);
      expect(created.headers.get('location')).toBe('/shelves2/7');
      const replaced = await fetch(`${running.baseUrl}/shelves2/7`, {
        method: 'PUT',
      });
      expect(replaced.status).toBe(200);
      expect(replaced.headers.get('location')).toBeNull();
    });

    it('keeps a status the handler set for an empty result, rather than 204', async () => {
      const accepted = await fetch(`${running.baseUrl}/shelves2/queue`, {
        method: 'POST',
      });
      expect(accepted.status).toBe(202);
      expect(await accepted.text()).toBe('');
    });

    it('sends no Location on a 200 the handler set on a 201 route', async () => {
      const found = await fetch(`${running.baseUrl}/shelves2`, {
        method: 'POST',
      });
      expect(found.status).toBe(200);
      expect(((await found.json()) as Json)._links.self.href).toBe(
        '/shelves2/1',
      );
      expect(found.headers.get('location')).toBeNull();
    });
  },
);

describe.each(ADAPTERS)(
  "a handler's own Content-Type on a HAL resource on %s",
  (adapter) => {
    @HalLink('self', '/profiled/{id}')
    class Profiled {
      constructor(readonly id: string) {}
    }

    @Controller('profiled')
    class ProfiledController {
      @Get(':id')
      @Header('Content-Type', 'application/vnd.acme.profiled+json')
      get(@Param('id') id: string): Profiled {
        return new Profiled(id);
      }

      @Get()
      plain(): Profiled {
        return new Profiled('0');
      }

      /** A type that is no JSON: the body is JSON all the same. */
      @Get('html/:id')
      @Header('Content-Type', 'text/html')
      html(@Param('id') id: string): Profiled {
        return new Profiled(id);
      }
    }

    let running: RunningApp;
    beforeAll(async () => {
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({
          imports: [HalProblemModule.forRoot()],
          controllers: [ProfiledController],
        }),
        // An app's middleware that labels every response before routing.
        (app) => {
          app.use(
            (
              request: { headers: Record<string, unknown> },
              response: { setHeader(name: string, value: string): void },
              next: () => void,
            ) => {
              if (request.headers['x-preset'])
                response.setHeader('Content-Type', 'application/json');
              next();
            },
          );
        },
      );
    });
    afterAll(() => running.close());

    it('is kept, and not negotiated on Accept', async () => {
      const response = await fetch(`${running.baseUrl}/profiled/3`, {
        headers: { accept: 'application/json' },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(
        /^application\/vnd\.acme\.profiled\+json/,
      );
      expect(response.headers.get('vary') ?? '').not.toMatch(/accept/i);
      expect(((await response.json()) as Json)._links.self.href).toBe(
        '/profiled/3',
      );
    });

    it('is replaced by the HAL label when it is no JSON type', async () => {
      // Kept, Express sent the JSON (and the text it echoes) as HTML, and
      // Fastify refused to serialize an object for text/html: a 500.
      const response = await fetch(
        `${running.baseUrl}/profiled/html/%3Cb%3Ex`,
        { headers: { accept: 'application/json' } },
      );
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(
        /^application\/json/,
      );
      expect(response.headers.get('vary')).toMatch(/Accept/);
      expect(((await response.json()) as Json).id).toBe('<b>x');
    });

    it('is the HAL label, negotiated, when middleware set it, not the handler', async () => {
      // Kept, a middleware's blanket application/json switched HAL and
      // negotiation off on every route.
      const response = await fetch(`${running.baseUrl}/profiled`, {
        headers: { accept: 'application/hal+json', 'x-preset': '1' },
      });
      expect(response.headers.get('content-type')).toMatch(
        /^application\/hal\+json/,
      );
      expect(response.headers.get('vary')).toMatch(/Accept/);
      const own = await fetch(`${running.baseUrl}/profiled/3`, {
        headers: { 'x-preset': '1' },
      });
      expect(own.headers.get('content-type')).toMatch(
        /^application\/vnd\.acme\.profiled\+json/,
      );
    });

    it('is the HAL label, negotiated, when the handler sets none', async () => {
      const response = await fetch(`${running.baseUrl}/profiled`, {
        headers: { accept: 'application/json' },
      });
      expect(response.headers.get('content-type')).toMatch(
        /^application\/json/,
      );
      expect(response.headers.get('vary')).toMatch(/Accept/);
    });
  },
);
