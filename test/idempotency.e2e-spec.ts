import {
  All,
  type CallHandler,
  Controller,
  type ExecutionContext,
  Get,
  Logger,
  Module,
  type NestInterceptor,
  Post,
  Req,
  RequestTimeoutException,
} from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { catchError, first, throwError, timeout, TimeoutError } from 'rxjs';
import type { Redis } from 'ioredis';
import {
  HalProblemModule,
  Idempotent,
  InMemoryIdempotencyStore,
  Public,
  type JwtAuthOptions,
  RedisIdempotencyStore,
} from 'nestjs-hal-problem';
import { AUTH_OPTIONS } from './fixtures/auth-fixture.module';
import {
  ADAPTERS,
  startTestingApp,
  Test,
  type RunningApp,
} from './support/adapters';
import { expectProblem } from './support/problem-assertions';
import { absoluteFormRequest } from './support/raw-http';
import { describeWithRedis, redisClient, uniquePrefix } from './support/redis';
import { signToken, TEST_ISSUER } from './support/tokens';
import {
  calls,
  created,
  idempotencyFixtureModule,
  noteCalls,
  RedirectingIdempotentController,
  routeInterceptorCalls,
} from './fixtures/idempotency-fixture.module';

type Json = Record<string, any>;
let keySeq = 0;
const newKey = () => `"key-${process.pid}-${Date.now()}-${keySeq++}"`;

function poster(baseUrl: string, subject = 'client-1') {
  const authorization = `Bearer ${signToken({ sub: subject })}`;
  return (body: unknown, key?: string, path = '/things') =>
    fetch(`${baseUrl}${path}`, {
      method: 'POST',
      body: typeof body === 'string' ? body : JSON.stringify(body),
      headers: {
        'content-type': 'application/json',
        authorization,
        ...(key === undefined ? {} : { 'idempotency-key': key }),
      },
    });
}

describe.each(ADAPTERS)('idempotent requests on %s', (adapter) => {
  let running: RunningApp;
  let post: ReturnType<typeof poster>;

  beforeAll(async () => {
    @Module(idempotencyFixtureModule())
    class IdempotentModule {}
    running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [IdempotentModule] }),
    );
    post = poster(running.baseUrl);
  });
  afterAll(() => running.close());

  it('answers 201 first and replays 200 with the same resource and Location, creating nothing', async () => {
    const key = newKey();
    const before = created.length;
    const first = await post({ name: 'a', tags: { x: 1, y: 2 } }, key);
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const firstBody = (await first.json()) as Json;
    // The same body with its keys in another order is the same request.
    const replay = await post({ tags: { y: 2, x: 1 }, name: 'a' }, key);
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('location')).toBe(first.headers.get('location'));
    expect(replay.headers.get('location')).toBe(`/things/${firstBody.id}`);
    expect(replay.headers.get('content-type')).toMatch(
      /^application\/hal\+json/,
    );
    expect(await replay.json()).toEqual(firstBody);
    expect(created.length).toBe(before + 1);
  });

  it('replays a 202 as it was sent: the monitor in Location, Retry-After and the stored body', async () => {
    const key = newKey();
    const before = calls.count;
    const first = await post({ name: 'job' }, key, '/jobs');
    expect(first.status).toBe(202);
    expect(first.headers.get('retry-after')).toBe('3');
    const firstBody = (await first.json()) as Json;
    const replay = await post({ name: 'job' }, key, '/jobs');
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('location')).toBe(`/jobs/${firstBody.id}`);
    // The stored body says `pending`: the client is told when to poll, as
    // the first response told it (docs/hal.md, 202 with Retry-After).
    expect(replay.headers.get('retry-after')).toBe('3');
    expect(await replay.json()).toEqual(firstBody);
    expect(calls.count).toBe(before + 1);
  });

  it("replays the status the handler set on the response itself, not the route's", async () => {
    const key = newKey();
    const before = calls.count;
    const first = await post({ name: 'queued' }, key, '/extras/accepted');
    expect(first.status).toBe(202);
    const replay = await post({ name: 'queued' }, key, '/extras/accepted');
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.json()).toEqual(await first.json());
    expect(calls.count).toBe(before + 1);
  });

  it('replays a bare JSON number as it was sent', async () => {
    const key = newKey();
    const first = await post({ name: 'n' }, key, '/extras/count');
    expect(first.status).toBe(201);
    const sent = await first.text();
    const replay = await post({ name: 'n' }, key, '/extras/count');
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.text()).toBe(sent);
  });

  it('stores no bytes or stream, which it could not replay: a retry runs again and gets them', async () => {
    const key = newKey();
    const before = calls.count;
    const first = await post({ name: 'b' }, key, '/extras/bytes');
    expect(first.status).toBe(201);
    expect(await first.text()).toBe('bytes of b');
    const retry = await post({ name: 'b' }, key, '/extras/bytes');
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(await retry.text()).toBe('bytes of b');
    expect(calls.count).toBe(before + 2);
  });

  it('stores no error status the handler set itself: a retry runs again', async () => {
    const key = newKey();
    const before = calls.count;
    const path = '/extras/refused-by-hand';
    expect((await post({ name: 'busy' }, key, path)).status).toBe(409);
    const retry = await post({ name: 'busy' }, key, path);
    expect(retry.status).toBe(409);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(calls.count).toBe(before + 2);
  });

  it('answers the same key with a different body with 422', async () => {
    const key = newKey();
    expect((await post({ name: 'a' }, key)).status).toBe(201);
    const body = await expectProblem(await post({ name: 'b' }, key), 422);
    expect(body.type).toBe('urn:problem-type:idempotency-key-reused');
  });

  it('lets 8 concurrent requests with one key create exactly one resource; the rest 409 or 200', async () => {
    const key = newKey();
    const before = created.length;
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => post({ name: 'c', delayMs: 150 }, key)),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.every((status) => [200, 201, 409].includes(status))).toBe(
      true,
    );
    const conflict = responses.find((response) => response.status === 409);
    if (conflict) {
      expect(conflict.headers.get('retry-after')).toBe('1');
      expect((await expectProblem(conflict, 409)).type).toBe(
        'urn:problem-type:idempotency-request-in-flight',
      );
    }
    expect(created.length).toBe(before + 1);
  });

  it('scopes keys per client: the same key from another client is a new request', async () => {
    const key = newKey();
    const mine = (await (await post({ name: 'mine' }, key)).json()) as Json;
    const other = await poster(running.baseUrl, 'client-2')(
      { name: 'theirs' },
      key,
    );
    expect(other.status).toBe(201);
    expect(((await other.json()) as Json).id).not.toBe(mine.id);
  });

  it("labels a replay for the retry's Accept, not the first request's", async () => {
    const key = newKey();
    const body = JSON.stringify({ name: 'negotiated' });
    const send = (accept?: string) =>
      fetch(`${running.baseUrl}/things`, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${signToken({ sub: 'client-1' })}`,
          'idempotency-key': key,
          ...(accept ? { accept } : {}),
        },
      });
    const first = await send('application/json');
    expect(first.status).toBe(201);
    expect(first.headers.get('content-type')).toMatch(/^application\/json/);
    const replay = await send();
    expect(replay.status).toBe(200);
    expect(replay.headers.get('content-type')).toMatch(
      /^application\/hal\+json/,
    );
    expect(replay.headers.get('vary')).toMatch(/Accept/);
  });

  it('takes a request sent in absolute form for the same target as in origin form', async () => {
    const key = newKey();
    const body = JSON.stringify({ name: 'absolute' });
    const first = await absoluteFormRequest(
      running.baseUrl,
      'http://other.example/things',
      {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${signToken({ sub: 'client-1' })}`,
          'idempotency-key': key,
        },
      },
    );
    expect(first.status).toBe(201);
    const replay = await post(JSON.parse(body) as unknown, key);
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual(JSON.parse(first.body));
  });

  it('takes a percent-encoded spelling of the target for the same target (RFC 3986 §6.2.2.2)', async () => {
    const key = newKey();
    const body = { name: 'encoded' };
    const first = await post(body, key, '/things');
    expect(first.status).toBe(201);
    const firstBody = (await first.json()) as Json;
    // `/%74hings` is `/things`. Fastify's router decodes it and runs the
    // route: a replay, not a second resource. Express's router finds no
    // route: a 404 whose instance is the normalized target.
    const encoded = await post(body, key, '/%74hings');
    const encodedBody = (await encoded.json()) as Json;
    if (adapter === 'fastify') {
      expect(encoded.status).toBe(200);
      expect(encoded.headers.get('idempotent-replayed')).toBe('true');
      expect(encodedBody.id).toBe(firstBody.id);
    } else {
      expect(encoded.status).toBe(404);
      expect(encodedBody.instance).toBe('/things');
    }
  });

  it('scopes keys per target: the same key with another query is a new request', async () => {
    const key = newKey();
    const body = { name: 'queried' };
    const draft = await post(body, key, '/things?draft=true');
    expect(draft.status).toBe(201);
    const plain = await post(body, key, '/things');
    expect(plain.status).toBe(201);
    expect(((await plain.json()) as Json).id).not.toBe(
      ((await draft.json()) as Json).id,
    );
    const again = await post(body, key, '/things?draft=true');
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
  });

  it('stores nothing for a validation failure: the client fixes it and retries with the same key', async () => {
    const key = newKey();
    await expectProblem(await post({ name: 42 }, key), 400);
    expect((await post({ name: 'fixed' }, key)).status).toBe(201);
  });

  it('releases the key after a 5xx, so a retry runs again', async () => {
    const key = newKey();
    const before = calls.count;
    await expectProblem(await post({ name: 'x', fail: true }, key), 500);
    await expectProblem(await post({ name: 'x', fail: true }, key), 500);
    expect(calls.count).toBe(before + 2);
  });

  it("gives a controller's own interceptors the stored document on a replay, not undefined", async () => {
    const key = newKey();
    const first = await post({ name: 'seen' }, key, '/seen');
    expect(first.status).toBe(201);
    const sent = (await first.json()) as Json;
    expect(sent.seenId).toBe(7);
    const before = calls.count;
    const replay = await post({ name: 'seen' }, key, '/seen');
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await replay.json()).toEqual(sent);
    expect(calls.count).toBe(before);
  });

  it("leaves an app filter's error as it is and releases the key", async () => {
    const key = newKey();
    const before = calls.count;
    for (let i = 0; i < 2; i++) {
      const refused = await post({ name: 'x' }, key, '/extras/own-filter');
      expect(refused.status).toBe(400);
      expect(refused.headers.get('content-type')).toMatch(/^application\/json/);
      expect(refused.headers.get('location')).toBeNull();
      expect(refused.headers.get('idempotent-replayed')).toBeNull();
      expect(((await refused.json()) as Json)._links).toBeUndefined();
    }
    expect(calls.count).toBe(before + 2);
  });

  it('releases the key of a handler that writes the response itself (@Res), which cannot be replayed', async () => {
    const key = newKey();
    const before = calls.count;
    for (let i = 0; i < 2; i++) {
      const written = await post({ name: 'x' }, key, '/extras/by-hand');
      expect(written.status).toBe(201);
      expect(await written.json()).toEqual({ written: 'by hand' });
    }
    expect(calls.count).toBe(before + 2);
  });

  it('releases the key when rendering fails after the handler ran, so a retry runs again', async () => {
    const key = newKey();
    const before = calls.count;
    const fragile = (name: string) => post({ name }, key, '/things/fragile');
    await expectProblem(await fragile('boom'), 500);
    await expectProblem(await fragile('boom'), 500);
    expect(calls.count).toBe(before + 2);
  });

  it.each([
    ['"unterminated'],
    ['"' + 'k'.repeat(300) + '"'],
    ['two words'],
    ['""'],
  ])('answers a malformed key %s with 400', async (key) => {
    const body = await expectProblem(await post({ name: 'x' }, key), 400);
    expect(body.type).toBe('urn:problem-type:idempotency-key-invalid');
  });

  it('accepts a bare token key', async () => {
    expect((await post({ name: 'bare' }, `bare-${Date.now()}`)).status).toBe(
      201,
    );
  });

  it('answers a missing key on a route that requires one with 400', async () => {
    const body = await expectProblem(
      await post({ name: 'x' }, undefined, '/things/strict'),
      400,
    );
    expect(body.type).toBe('urn:problem-type:idempotency-key-missing');
    expect((await post({ name: 'x' }, newKey(), '/things/strict')).status).toBe(
      200,
    );
  });

  it('runs normally without a key', async () => {
    expect((await post({ name: 'n' })).status).toBe(201);
    expect((await post({ name: 'n' })).status).toBe(201);
  });
});

describe.each(ADAPTERS)(
  'allUnsafeMethods and storeServerErrors on %s',
  (adapter) => {
    let running: RunningApp;
    const send = (
      method: 'POST' | 'PATCH',
      path: string,
      body: unknown,
      key: string | undefined,
      user = 'ann',
    ) =>
      fetch(`${running.baseUrl}${path}`, {
        method,
        body: JSON.stringify(body),
        headers: {
          'content-type': 'application/json',
          'x-user': user,
          ...(key === undefined ? {} : { 'idempotency-key': key }),
        },
      });

    beforeAll(async () => {
      @Module(
        idempotencyFixtureModule({
          idempotency: { allUnsafeMethods: true, storeServerErrors: true },
        }),
      )
      class UnsafeMethodsModule {}
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [UnsafeMethodsModule] }),
      );
    });
    afterAll(() => running.close());

    it('replays a POST and a PATCH that carry no @Idempotent(), without running the handler or its interceptors', async () => {
      const key = newKey();
      const first = await send('POST', '/notes', { text: 'a' }, key);
      expect(first.status).toBe(201);
      const sent = (await first.json()) as Json;
      const handlerRuns = noteCalls.count;
      const interceptorRuns = routeInterceptorCalls.count;
      const replay = await send('POST', '/notes', { text: 'a' }, key);
      expect(replay.status).toBe(200);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.headers.get('location')).toBe(
        first.headers.get('location'),
      );
      expect(replay.headers.get('content-type')).toBe(
        first.headers.get('content-type'),
      );
      expect(await replay.json()).toEqual(sent);
      expect(noteCalls.count).toBe(handlerRuns);
      expect(routeInterceptorCalls.count).toBe(interceptorRuns);

      const patchKey = newKey();
      const patched = await send('PATCH', '/notes/1', { text: 'b' }, patchKey);
      expect(patched.status).toBe(200);
      expect(patched.headers.get('idempotent-replayed')).toBeNull();
      const again = await send('PATCH', '/notes/1', { text: 'b' }, patchKey);
      expect(again.status).toBe(200);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await again.json()).toEqual(await patched.json());
    });

    it('leaves redirects alone: they cannot be replayed, so the key takes no lock', async () => {
      const key = newKey();
      const redirects = [];
      for (let i = 0; i < 2; i++)
        redirects.push(
          await fetch(`${running.baseUrl}/extras/redirect`, {
            method: 'POST',
            redirect: 'manual',
            body: JSON.stringify({ name: 'r' }),
            headers: {
              'content-type': 'application/json',
              'idempotency-key': key,
            },
          }),
        );
      expect(redirects.map((response) => response.status)).toEqual([303, 303]);
    });

    it('leaves safe methods alone', async () => {
      const key = newKey();
      const first = await fetch(`${running.baseUrl}/notes/count`, {
        headers: { 'idempotency-key': key },
      });
      const second = await fetch(`${running.baseUrl}/notes/count`, {
        headers: { 'idempotency-key': key },
      });
      expect(second.headers.get('idempotent-replayed')).toBeNull();
      expect(((await second.json()) as Json).calls).toBe(
        ((await first.json()) as Json).calls,
      );
    });

    it('scopes keys by the principal that an app guard sets, as it runs before the idempotency step', async () => {
      const key = newKey();
      const ann = await send('POST', '/notes', { text: 'same' }, key, 'ann');
      const bob = await send('POST', '/notes', { text: 'same' }, key, 'bob');
      expect(ann.status).toBe(201);
      expect(bob.status).toBe(201);
      expect(((await bob.json()) as Json).id).not.toBe(
        ((await ann.json()) as Json).id,
      );
    });

    it("scopes keys by an app guard's user that has an id but no subject", async () => {
      const key = newKey();
      const as = (id: string) =>
        fetch(`${running.baseUrl}/notes`, {
          method: 'POST',
          body: JSON.stringify({ text: 'same' }),
          headers: {
            'content-type': 'application/json',
            'x-user-id': id,
            'idempotency-key': key,
          },
        });
      const first = await as('1');
      const second = await as('2');
      expect(first.status).toBe(201);
      expect(second.status).toBe(201);
      expect(second.headers.get('idempotent-replayed')).toBeNull();
      expect(((await second.json()) as Json).id).not.toBe(
        ((await first.json()) as Json).id,
      );
      expect((await as('1')).headers.get('idempotent-replayed')).toBe('true');
    });

    it('stores a 5xx and replays it, without running the handler again', async () => {
      const key = newKey();
      const first = await expectProblem(
        await send('POST', '/notes', { text: 'x', fail: true }, key),
        500,
      );
      const handlerRuns = noteCalls.count;
      const replay = await send(
        'POST',
        '/notes',
        { text: 'x', fail: true },
        key,
      );
      expect(replay.status).toBe(500);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.headers.get('content-type')).toMatch(
        /^application\/problem\+json(;|$)/,
      );
      // The stored problem as first sent, with the replaying request's id
      // (in its header and its body), as every problem has.
      const { requestId: firstId, ...stored } = first;
      const replayId = replay.headers.get('x-request-id');
      expect(replayId).toBeTruthy();
      expect(replayId).not.toBe(firstId);
      expect(await replay.json()).toEqual({ ...stored, requestId: replayId });
      expect(noteCalls.count).toBe(handlerRuns);
    });

    it('stores no 5xx that says to retry (Retry-After): the retry runs the handler', async () => {
      const key = newKey();
      const busy = await send('POST', '/notes', { text: 'y', busy: true }, key);
      expect(busy.headers.get('retry-after')).toBe('5');
      await expectProblem(busy, 503);
      const handlerRuns = noteCalls.count;
      const retry = await send(
        'POST',
        '/notes',
        { text: 'y', busy: true },
        key,
      );
      expect(retry.headers.get('idempotent-replayed')).toBeNull();
      await expectProblem(retry, 503);
      expect(noteCalls.count).toBe(handlerRuns + 1);
    });
  },
);

/** An app-wide timeout, as many Nest apps have: it answers 408 while the handler runs on. */
class TimeoutInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler) {
    return next.handle().pipe(
      timeout(100),
      catchError((error: unknown) =>
        throwError(() =>
          error instanceof TimeoutError ? new RequestTimeoutException() : error,
        ),
      ),
    );
  }
}

describe.each(ADAPTERS)(
  'an idempotent request answered by an outer timeout on %s',
  (adapter) => {
    let running: RunningApp;
    let post: ReturnType<typeof poster>;

    beforeAll(async () => {
      const metadata = idempotencyFixtureModule();
      @Module({
        ...metadata,
        providers: [{ provide: APP_INTERCEPTOR, useClass: TimeoutInterceptor }],
      })
      class TimedOutModule {}
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [TimedOutModule] }),
      );
      post = poster(running.baseUrl);
    });
    afterAll(() => running.close());

    it('keeps the key locked while the handler runs on, so a retry never runs it twice', async () => {
      const key = newKey();
      const body = { name: 'slow', delayMs: 300 };
      const runs = calls.count;
      expect((await post(body, key)).status).toBe(408);
      await expectProblem(await post(body, key), 409);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(calls.count).toBe(runs + 1);
      // Its result was never written, so there is nothing to replay: still locked.
      await expectProblem(await post(body, key), 409);
      expect(calls.count).toBe(runs + 1);
    });
  },
);

/** An app-wide interceptor that stops at the first value, before the source completes. */
class FirstValueInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler) {
    return next.handle().pipe(first());
  }
}

describe.each(ADAPTERS)(
  'an idempotent request under an outer first() on %s',
  (adapter) => {
    it('stores the response and replays it: taking the first value is no timeout', async () => {
      const metadata = idempotencyFixtureModule();
      @Module({
        ...metadata,
        providers: [
          { provide: APP_INTERCEPTOR, useClass: FirstValueInterceptor },
        ],
      })
      class FirstValueModule {}
      const running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [FirstValueModule] }),
      );
      try {
        const post = poster(running.baseUrl);
        const key = newKey();
        const runs = calls.count;
        expect((await post({ name: 'first' }, key)).status).toBe(201);
        const replay = await post({ name: 'first' }, key);
        expect(replay.status).toBe(200);
        expect(replay.headers.get('idempotent-replayed')).toBe('true');
        expect(calls.count).toBe(runs + 1);
      } finally {
        await running.close();
      }
    });
  },
);

describe('@Idempotent() on a handler Nest does not send through reply', () => {
  it('fails the start with the handler named', async () => {
    await expect(
      Test.createTestingModule({
        imports: [HalProblemModule.forRoot()],
        controllers: [RedirectingIdempotentController],
      }).compile(),
    ).rejects.toThrow(
      /RedirectingIdempotentController\.create: @Idempotent\(\) cannot replay a handler with @Redirect\(\)/,
    );
  });
});

describe.each(ADAPTERS)(
  "idempotency with the platform's own body parser on %s",
  (adapter) => {
    let running: RunningApp;

    beforeAll(async () => {
      @Module(
        idempotencyFixtureModule({ idempotency: { allUnsafeMethods: true } }),
      )
      class OwnParserModule {}
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [OwnParserModule] }),
        undefined,
        { strictBodies: false },
      );
    });
    afterAll(() => running.close());

    it('fingerprints a deeply nested body the route takes, rather than answering 500', async () => {
      // Neither platform's own JSON parser limits the depth, and a body
      // typed by an interface is not transformed: the route takes it
      // without a key, so with one it must not become a 500.
      const depth = 10_000;
      const body = `{"text":"deep","more":${'{"t":'.repeat(depth)}1${'}'.repeat(depth + 1)}`;
      const send = (key?: string) =>
        fetch(`${running.baseUrl}/notes`, {
          method: 'POST',
          body,
          headers: {
            'content-type': 'application/json',
            'x-user': 'deep',
            ...(key === undefined ? {} : { 'idempotency-key': key }),
          },
        });
      expect((await send()).status).toBe(201);
      const key = newKey();
      const before = noteCalls.count;
      const first = await send(key);
      expect(first.status).toBe(201);
      const replay = await send(key);
      expect(replay.status).toBe(200);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(noteCalls.count).toBe(before + 1);
    });
  },
);

/** Reads and writes one value: a GET that were replayed would show an old one. */
const counter = { value: 0 };

@Controller('counter')
@Public()
@Idempotent()
class CounterController {
  @Post()
  increment(): { value: number } {
    return { value: ++counter.value };
  }

  @Get()
  read(): { value: number } {
    return { value: counter.value };
  }

  /** Every method: a GET here is as safe as on `read`. */
  @All('any')
  any(@Req() request: { method: string }): { value: number } {
    return {
      value: request.method === 'GET' ? counter.value : ++counter.value,
    };
  }
}

describe.each(ADAPTERS)(
  '@Idempotent() on a controller with safe methods on %s',
  (adapter) => {
    let running: RunningApp;

    beforeAll(async () => {
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({
          imports: [HalProblemModule.forRoot()],
          controllers: [CounterController],
        }),
      );
    });
    afterAll(() => running.close());

    it('leaves its GET routes alone: a key never replays a stale representation', async () => {
      const key = newKey();
      const read = () =>
        fetch(`${running.baseUrl}/counter`, {
          headers: { 'idempotency-key': key },
        });
      const before = (await (await read()).json()) as Json;
      const increment = () =>
        fetch(`${running.baseUrl}/counter`, {
          method: 'POST',
          headers: { 'idempotency-key': newKey() },
        });
      expect((await increment()).status).toBe(201);
      const after = await read();
      expect(after.headers.get('idempotent-replayed')).toBeNull();
      expect(((await after.json()) as Json).value).toBe(before.value + 1);
    });

    it('leaves a GET to an @All() route alone, and makes its POST idempotent', async () => {
      const key = newKey();
      const call = (method: string) =>
        fetch(`${running.baseUrl}/counter/any`, {
          method,
          headers: { 'idempotency-key': key },
        });
      const before = (await (await call('GET')).json()) as Json;
      expect((await call('POST')).status).toBe(200);
      const after = await call('GET');
      expect(after.headers.get('idempotent-replayed')).toBeNull();
      expect(((await after.json()) as Json).value).toBe(before.value + 1);
      const replay = await call('POST');
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
    });

    it('still makes its POST routes idempotent', async () => {
      const key = newKey();
      const send = () =>
        fetch(`${running.baseUrl}/counter`, {
          method: 'POST',
          headers: { 'idempotency-key': key },
        });
      const first = (await (await send()).json()) as Json;
      const replay = await send();
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(((await replay.json()) as Json).value).toBe(first.value);
    });
  },
);

describe('@Idempotent() on a safe method', () => {
  it('fails the start with the handler named', async () => {
    @Controller('stale')
    class StaleController {
      @Get()
      @Idempotent()
      read(): void {}
    }
    await expect(
      Test.createTestingModule({
        imports: [HalProblemModule.forRoot()],
        controllers: [StaleController],
      }).compile(),
    ).rejects.toThrow(
      /StaleController\.read: @Idempotent\(\) on a GET handler/,
    );
  });
});

describe('idempotency durations and key length', () => {
  // A lock of 0, a negative or NaN ms (an unset environment variable read
  // with Number()) was never held: two requests with one key both ran.
  it.each([
    [
      { lockTtlMs: 0 },
      /idempotency\.lockTtlMs must be a number of milliseconds above 0, not 0/,
    ],
    [{ lockTtlMs: Number.NaN }, /idempotency\.lockTtlMs .* not NaN/],
    [{ ttlMs: -1 }, /idempotency\.ttlMs .* not -1/],
    [
      { maxKeyLength: 0 },
      /idempotency\.maxKeyLength must be a whole number above 0/,
    ],
  ])('fails the start for %o', async (idempotency, message) => {
    await expect(
      Test.createTestingModule(
        idempotencyFixtureModule({ idempotency }),
      ).compile(),
    ).rejects.toThrow(message);
  });

  it("fails the start for a handler's ttlMs that is no duration, naming the handler", async () => {
    @Controller('never-kept')
    class NeverKeptController {
      @Post()
      @Idempotent({ ttlMs: Number.NaN })
      create(): void {}
    }
    await expect(
      Test.createTestingModule({
        imports: [HalProblemModule.forRoot()],
        controllers: [NeverKeptController],
      }).compile(),
    ).rejects.toThrow(
      /NeverKeptController\.create: @Idempotent\(\) ttlMs .* not NaN/,
    );
  });
});

describe.each(ADAPTERS)('idempotency record expiry on %s', (adapter) => {
  it('forgets a key after its TTL', async () => {
    @Module(idempotencyFixtureModule({ idempotency: { ttlMs: 150 } }))
    class ShortLivedModule {}
    const running = await startTestingApp(
      adapter,
      Test.createTestingModule({ imports: [ShortLivedModule] }),
    );
    try {
      const post = poster(running.baseUrl);
      const key = newKey();
      expect((await post({ name: 'e' }, key)).status).toBe(201);
      expect((await post({ name: 'e' }, key)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await post({ name: 'e' }, key)).status).toBe(201);
    } finally {
      await running.close();
    }
  });
});

describe.each(ADAPTERS)(
  'a full in-memory idempotency store on %s',
  (adapter) => {
    let running: RunningApp;
    let post: ReturnType<typeof poster>;
    let warnings: jest.SpyInstance;

    beforeAll(async () => {
      @Module(
        idempotencyFixtureModule({
          idempotency: {
            store: new InMemoryIdempotencyStore({ maxRecords: 2 }),
          },
        }),
      )
      class FullStoreModule {}
      running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [FullStoreModule] }),
      );
      post = poster(running.baseUrl);
      warnings = jest.spyOn(Logger.prototype, 'warn');
    });
    afterAll(async () => {
      warnings.mockRestore();
      await running.close();
    });

    it('drops the oldest stored response for a new key, and warns', async () => {
      const [first, second, third] = [newKey(), newKey(), newKey()];
      for (const key of [first, second, third])
        expect((await post({ name: 'full' }, key)).status).toBe(201);
      expect(warnings).toHaveBeenCalledWith(
        expect.stringContaining(
          'The in-memory idempotency store is full (2 keys)',
        ),
      );
      // The two newest are still replayed...
      expect((await post({ name: 'full' }, third)).status).toBe(200);
      expect((await post({ name: 'full' }, second)).status).toBe(200);
      // ...and the oldest runs again: it was dropped to make room.
      const before = created.length;
      expect((await post({ name: 'full' }, first)).status).toBe(201);
      expect(created.length).toBe(before + 1);
    });

    it('refuses a new key with a 503 while every kept key is in flight, creating nothing', async () => {
      const slow = [newKey(), newKey()].map((key) =>
        post({ name: 'slow', delayMs: 400 }, key),
      );
      await new Promise((resolve) => setTimeout(resolve, 150));
      const before = created.length;
      const refused = await post({ name: 'refused' }, newKey());
      const body = await expectProblem(refused, 503);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(JSON.stringify(body)).not.toMatch(/in-memory|full of keys/);
      expect(created.length).toBe(before);
      expect(
        (await Promise.all(slow)).map((response) => response.status),
      ).toEqual([201, 201]);
    });
  },
);

describeWithRedis.each(ADAPTERS)(
  'idempotency shared through Redis on %s',
  (adapter) => {
    let redis: Redis;
    beforeAll(async () => {
      redis = await redisClient();
    });
    afterAll(() => redis.quit());

    it('replays on another instance and creates one resource under concurrency across instances', async () => {
      const prefix = uniquePrefix('idempotency');
      const start = async () => {
        @Module(
          idempotencyFixtureModule({
            idempotency: { store: new RedisIdempotencyStore(redis, prefix) },
          }),
        )
        class SharedModule {}
        return startTestingApp(
          adapter,
          Test.createTestingModule({ imports: [SharedModule] }),
        );
      };
      const first = await start();
      const second = await start();
      try {
        const key = newKey();
        const created1 = await poster(first.baseUrl)({ name: 'r' }, key);
        expect(created1.status).toBe(201);
        const replay = await poster(second.baseUrl)({ name: 'r' }, key);
        expect(replay.status).toBe(200);
        expect(replay.headers.get('location')).toBe(
          created1.headers.get('location'),
        );

        const before = created.length;
        const concurrentKey = newKey();
        const responses = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            poster((i % 2 ? first : second).baseUrl)(
              { name: 'z', delayMs: 150 },
              concurrentKey,
            ),
          ),
        );
        expect(
          responses.filter((response) => response.status === 201),
        ).toHaveLength(1);
        expect(created.length).toBe(before + 1);
      } finally {
        await first.close();
        await second.close();
      }
    });
  },
);

describe.each(ADAPTERS)(
  'idempotency with two trusted issuers on %s',
  (adapter) => {
    it('keeps the same subject of two issuers apart', async () => {
      @Module(
        idempotencyFixtureModule({
          auth: {
            ...(AUTH_OPTIONS.auth as JwtAuthOptions),
            issuer: [TEST_ISSUER, 'partner-issuer'],
          },
        }),
      )
      class TwoIssuersModule {}
      const running = await startTestingApp(
        adapter,
        Test.createTestingModule({ imports: [TwoIssuersModule] }),
      );
      const post = (issuer: string) =>
        fetch(`${running.baseUrl}/things`, {
          method: 'POST',
          body: JSON.stringify({ name: 'shared-sub' }),
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${signToken({ sub: 'client-1' }, { issuer })}`,
            'idempotency-key': '"same-key"',
          },
        });
      try {
        const ours = await post(TEST_ISSUER);
        expect(ours.status).toBe(201);
        // Another issuer's client-1 is another client: no replay of ours.
        const theirs = await post('partner-issuer');
        expect(theirs.status).toBe(201);
        expect(theirs.headers.get('idempotent-replayed')).toBeNull();
        expect((await post(TEST_ISSUER)).status).toBe(200);
      } finally {
        await running.close();
      }
    });
  },
);
