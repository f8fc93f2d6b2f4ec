import {
  type ExecutionContext,
  Inject,
  Injectable,
  Logger,
  Optional,
  RequestMethod,
  type Type,
} from '@nestjs/common';
import {
  INTERCEPTORS_METADATA,
  METHOD_METADATA,
  REDIRECT_METADATA,
  RENDER_METADATA,
  SSE_METADATA,
} from '@nestjs/common/constants';
import {
  DiscoveryService,
  HttpAdapterHost,
  MetadataScanner,
  Reflector,
} from '@nestjs/core';
import { hash, randomBytes } from 'node:crypto';
import type { HalProblemModuleOptions } from '../hal-problem-module-options.interface';
import { HAL_PROBLEM_MODULE_OPTIONS } from '../hal-problem.module-definition';
import { ProblemException } from '../problem/problem.exception';
import { PROBLEM_CONTENT_TYPE } from '../problem/problem-exception.filter';
import { ProblemMapper } from '../problem/problem.mapper';
import type {
  PendingIdempotency,
  ResponsePlan,
} from '../routing/response-plan';
import { perHandler } from '../routing/per-handler-cache';
import { pathOf, requestTarget } from '../routing/request-target';
import { clientAddress, proxyHops } from '../throttle/client-address';
import { fingerprintOf } from './canonical-json';
import { parseIdempotencyKey } from './idempotency-key';
import type { IdempotencyOptions } from './idempotency-options.interface';
import {
  IdempotencyKeyInvalid,
  IdempotencyKeyMissing,
  IdempotencyKeyReused,
  IdempotencyRequestInFlight,
} from './idempotency.problems';
import {
  IDEMPOTENCY_STORE,
  type IdempotencyRecord,
  type IdempotencyStore,
  type StoredResponse,
} from './idempotency-store.interface';
import { Idempotent } from './idempotent.decorator';
import { SAFE_METHOD_NAMES, SAFE_METHODS } from './safe-methods';
import { IDEMPOTENCY_INTERCEPTOR } from './idempotency.interceptor';
import { InMemoryIdempotencyStore } from './in-memory-idempotency.store';
import { clientProblem } from '../problem/without-stack';
import { principalScope, trustedIssuers } from '../auth/auth.config';

type HttpRequest = {
  method?: string;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
  user?: {
    subject?: unknown;
    claims?: Readonly<Record<string, unknown>>;
    sub?: unknown;
    id?: unknown;
  };
  socket?: { remoteAddress?: string };
  raw?: { socket?: { remoteAddress?: string } };
};

type Handler = (...args: never[]) => unknown;

/** How one route takes part in idempotency. */
interface IdempotentRoute {
  readonly required: boolean;
  readonly ttlMs: number;
  /** An `@All()` route: a safe method's request to it takes no part. */
  readonly anyMethod: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Lock owners: unique across processes (a random prefix per process) and
 * requests (a counter), without a random draw per request.
 */
const OWNER_PREFIX = randomBytes(12).toString('base64url');
let ownerSequence = 0;
function nextOwner(): string {
  ownerSequence = (ownerSequence + 1) % Number.MAX_SAFE_INTEGER;
  return `${OWNER_PREFIX}.${ownerSequence}`;
}
const STORE_RETRY_AFTER_SECONDS = 5;

/**
 * A duration option in ms, checked at bootstrap: a lock of 0, a negative or
 * NaN ms (`Number(process.env.UNSET)`) is never held, so two requests with
 * one key would both run; Redis refuses a NaN, failing every request.
 */
function checkedMs(name: string, value: number): number {
  if (
    typeof value !== 'number' ||
    !(value > 0) ||
    value > Number.MAX_SAFE_INTEGER
  )
    throw new TypeError(
      `HalProblemModule: ${name} must be a number of milliseconds above 0, not ${String(value)}`,
    );
  return value;
}

/**
 * Idempotent requests (draft-ietf-httpapi-idempotency-key-header) for
 * handlers marked `@Idempotent()` (or every POST and PATCH with
 * `allUnsafeMethods`).
 *
 * At bootstrap it puts the module's idempotency interceptor on exactly those
 * routes, so every other route runs without an interceptor (each one costs
 * Nest an RxJS pipeline per request). The interceptor runs after every guard,
 * so the record is scoped by the principal any of them authenticated.
 *
 * - the record is keyed by principal (token subject, else client address),
 *   method, path and key, so one client never reads another's result;
 * - the fingerprint is a hash of the body's canonical JSON (key order does not matter);
 * - the lock is taken atomically by the store: a concurrent retry gets 409;
 * - `HalResponseWriter` stores the response as sent; the exception filter
 *   releases the key on any error (or stores a 5xx with `storeServerErrors`),
 *   so a client can fix a 4xx and retry with the same key.
 */
@Injectable()
export class IdempotencyService {
  private readonly logger = new Logger('HalProblem');
  private readonly options: Required<Omit<IdempotencyOptions, 'store'>>;
  /** The trusted token issuers, for whom a record is kept (`principalScope`). */
  private readonly issuers: string | readonly string[] | undefined;
  private readonly store: IdempotencyStore;
  private readonly hops: number;

  constructor(
    private readonly reflector: Reflector,
    private readonly adapterHost: HttpAdapterHost,
    private readonly mapper: ProblemMapper,
    discovery: DiscoveryService,
    scanner: MetadataScanner,
    @Inject(HAL_PROBLEM_MODULE_OPTIONS)
    moduleOptions: HalProblemModuleOptions = {},
    @Optional() @Inject(IDEMPOTENCY_STORE) store?: IdempotencyStore,
  ) {
    this.issuers = moduleOptions.auth
      ? trustedIssuers(moduleOptions.auth)
      : undefined;
    const options = moduleOptions.idempotency ?? {};
    const maxKeyLength = options.maxKeyLength ?? 255;
    if (!Number.isSafeInteger(maxKeyLength) || maxKeyLength < 1)
      throw new TypeError(
        `HalProblemModule: idempotency.maxKeyLength must be a whole number above 0, not ${String(maxKeyLength)}`,
      );
    this.options = {
      ttlMs: checkedMs('idempotency.ttlMs', options.ttlMs ?? DAY_MS),
      lockTtlMs: checkedMs(
        'idempotency.lockTtlMs',
        options.lockTtlMs ?? 60_000,
      ),
      allUnsafeMethods: options.allUnsafeMethods ?? false,
      storeServerErrors: options.storeServerErrors ?? false,
      maxKeyLength,
    };
    this.store = options.store ?? store ?? new InMemoryIdempotencyStore();
    this.hops = proxyHops(
      moduleOptions.throttle ? moduleOptions.throttle.trustProxy : false,
    );
    // Providers are created before Nest registers routes, which is when it
    // reads each handler's interceptors: this is the last moment to add one.
    this.addInterceptorToRoutes(discovery, scanner);
  }

  /** Whether (and how) a route is idempotent. */
  private routeFor([handler, controller]: [Handler, Type]):
    IdempotentRoute | undefined {
    const declared = this.reflector.getAllAndOverride(Idempotent, [
      handler,
      controller,
    ]);
    const method = this.reflector.get<RequestMethod | undefined>(
      METHOD_METADATA,
      handler,
    );
    const unsafe =
      method === RequestMethod.POST || method === RequestMethod.PATCH;
    if (!declared && !(this.options.allUnsafeMethods && unsafe))
      return undefined;
    if (method !== undefined && SAFE_METHODS.has(method)) {
      // On the controller it covers the handlers that change something.
      if (this.reflector.get(Idempotent, handler) === undefined)
        return undefined;
      throw new Error(
        `${controller.name}.${handler.name}: @Idempotent() on a ${RequestMethod[method]} handler would replay a stale representation; a safe method needs no Idempotency-Key`,
      );
    }
    // A replay is the handler's result as Nest sends it: a redirect, a
    // rendered view or an event stream is sent another way and cannot be stored.
    const sentElsewhere = [REDIRECT_METADATA, RENDER_METADATA, SSE_METADATA]
      .map((key) => this.reflector.get<unknown>(key, handler))
      .some((value) => value !== undefined);
    if (sentElsewhere) {
      if (!declared) return undefined;
      throw new Error(
        `${controller.name}.${handler.name}: @Idempotent() cannot replay a handler with @Redirect(), @Render() or @Sse(); remove one of them`,
      );
    }
    return {
      required: declared?.required ?? false,
      anyMethod: method === RequestMethod.ALL,
      ttlMs:
        declared?.ttlMs === undefined
          ? this.options.ttlMs
          : checkedMs(
              `${controller.name}.${handler.name}: @Idempotent() ttlMs`,
              declared.ttlMs,
            ),
    };
  }

  private readonly routeOf = perHandler((targets) => this.routeFor(targets));

  /**
   * Whether (and how) a handler's requests are idempotent, by the rule they
   * are handled with (`@Idempotent()`, or `allUnsafeMethods`): for the
   * OpenAPI document.
   */
  routeOptions(
    handler: Handler,
    controller: Type,
  ): { readonly required: boolean } | undefined {
    return this.routeFor([handler, controller]);
  }

  private addInterceptorToRoutes(
    discovery: DiscoveryService,
    scanner: MetadataScanner,
  ): void {
    for (const wrapper of discovery.getControllers()) {
      const controller = wrapper.metatype as Type | null;
      if (!controller) continue;
      const prototype = controller.prototype as Record<string, unknown>;
      for (const name of scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name];
        if (
          typeof handler !== 'function' ||
          this.reflector.get(METHOD_METADATA, handler) === undefined ||
          !this.routeFor([handler as Handler, controller])
        )
          continue;
        // First among the route's interceptors, so a replay skips them: on
        // the controller when it has interceptors of its own (Nest runs those
        // before the handler's), else on the handler alone.
        const classInterceptors = this.reflector.get<unknown[] | undefined>(
          INTERCEPTORS_METADATA,
          controller,
        );
        const target: object = classInterceptors?.length ? controller : handler;
        const interceptors =
          this.reflector.get<unknown[] | undefined>(
            INTERCEPTORS_METADATA,
            target as Handler,
          ) ?? [];
        // One shared, stateless instance: apps in one process that share a
        // controller add it once.
        if (!interceptors.includes(IDEMPOTENCY_INTERCEPTOR))
          Reflect.defineMetadata(
            INTERCEPTORS_METADATA,
            [IDEMPOTENCY_INTERCEPTOR, ...interceptors],
            target,
          );
      }
    }
  }

  /**
   * Checks the key and takes its lock. Resolves once the handler may run
   * (`plan.idempotency` set) or a stored response is to be sent instead
   * (`plan.replay` set); undefined when the request takes no part.
   */
  begin(
    context: ExecutionContext,
    plan: ResponsePlan,
  ): Promise<void> | undefined {
    if (plan.idempotency || plan.replay) return undefined;
    const route = this.routeOf(context);
    if (!route) return undefined;
    const request = plan.request as HttpRequest;
    if (route.anyMethod && SAFE_METHOD_NAMES.has(request.method ?? ''))
      return undefined;
    const header = request.headers['idempotency-key'];
    if (header === undefined) {
      if (route.required) {
        throw clientProblem(IdempotencyKeyMissing, {
          detail:
            'Send an Idempotency-Key header, e.g. Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324".',
        });
      }
      return undefined;
    }
    const key =
      typeof header === 'string'
        ? parseIdempotencyKey(header, this.options.maxKeyLength)
        : undefined;
    if (key === undefined) {
      throw clientProblem(IdempotencyKeyInvalid, {
        detail: `The Idempotency-Key header must be one string of 1 to ${this.options.maxKeyLength} printable characters.`,
      });
    }
    // Path and query: `POST /orders?dryRun=true` is another request than
    // `POST /orders`. (Without a query, the key is what it always was.)
    const target = this.targetOf(request);
    const scope =
      this.principalOf(request.user) ??
      `ip:${clientAddress(request, this.hops)}`;
    const recordKey = hash(
      'sha256',
      `${scope}\n${request.method ?? ''}\n${target}\n${key}`,
      'base64url',
    );
    const fingerprint = fingerprintOf(request.body);
    const owner = nextOwner();
    return this.store
      .acquire(recordKey, fingerprint, this.options.lockTtlMs, owner)
      .then(
        (existing) => {
          if (existing) plan.replay = this.replayOf(existing, fingerprint);
          else
            plan.idempotency = this.pending(
              recordKey,
              fingerprint,
              route,
              owner,
            );
        },
        (error: unknown) => {
          // A store that cannot answer (Redis down) must not run the handler
          // unguarded: the client is asked to retry instead.
          throw ProblemException.serviceUnavailable(
            'Idempotency keys cannot be checked right now; retry the request with the same key.',
            { retryAfter: STORE_RETRY_AFTER_SECONDS, cause: error },
          );
        },
      );
  }

  /**
   * Whom a record belongs to, from the user any guard set: this module's
   * principal (`subject`), else the `sub` or `id` of an app's own user
   * object (passport-local, a session, a JWT strategy returning its
   * payload). Without one, requests with a user would share the scope of
   * their address: one user could be replayed another's stored response.
   */
  private principalOf(user: HttpRequest['user']): string | undefined {
    if (typeof user !== 'object' || user === null) return undefined;
    if (typeof user.subject === 'string')
      return principalScope(
        { subject: user.subject, claims: user.claims },
        this.issuers,
      );
    for (const field of ['sub', 'id'] as const) {
      const value = user[field];
      if (
        (typeof value === 'string' && value !== '') ||
        (typeof value === 'number' && Number.isFinite(value))
      )
        return `user:${JSON.stringify([field, value])}`;
    }
    return undefined;
  }

  private replayOf(
    existing: IdempotencyRecord,
    fingerprint: string,
  ): StoredResponse {
    if (existing.fingerprint !== fingerprint) {
      throw clientProblem(IdempotencyKeyReused, {
        detail:
          'This Idempotency-Key was already used with a different request body.',
      });
    }
    if (existing.state !== 'completed' || !existing.response) {
      throw clientProblem(IdempotencyRequestInFlight, {
        detail:
          'The first request with this Idempotency-Key is still being processed.',
        retryAfter: 1,
      });
    }
    // As stored, not copied: the writer sends a stored 201 as 200 and adds
    // `Idempotent-Replayed` (copying was the largest single cost of a replay).
    return existing.response;
  }

  private pending(
    recordKey: string,
    fingerprint: string,
    route: IdempotentRoute,
    owner: string,
  ): PendingIdempotency {
    // Both leave alone a lock that is no longer this request's.
    const release = (): Promise<void> =>
      this.store.release(recordKey, owner).catch((error: unknown) => {
        // The lock then expires on its own after lockTtlMs.
        this.warn('Could not release an idempotency key', error);
      });
    const save = (response: StoredResponse): Promise<void> =>
      this.store.complete(
        recordKey,
        { fingerprint, state: 'completed', response },
        route.ttlMs,
        owner,
      );
    return {
      complete: (response) =>
        save(response).catch((error: unknown) => {
          // The work is done: answer it. The in-flight lock expires after lockTtlMs.
          this.warn('Could not store an idempotent response', error);
        }),
      fail: (problem) => {
        // A problem that tells the client when to retry (a 503 with
        // Retry-After) is not an outcome: stored, it would be replayed for
        // the whole ttlMs against its own advice.
        if (
          !this.options.storeServerErrors ||
          problem.status < 500 ||
          Object.keys(problem.headers).some(
            (name) => name.toLowerCase() === 'retry-after',
          )
        )
          return release();
        // Stored as sent, without the first request's id.
        const { requestId: _requestId, ...body } = problem.body;
        return save({
          status: problem.status,
          headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...problem.headers },
          body: JSON.stringify(body),
        }).catch((error: unknown) => {
          this.warn('Could not store an idempotent response', error);
        });
      },
      release,
    };
  }

  /**
   * Settles the key of a request whose handler (or a pipe before it) threw:
   * released, or the 5xx stored with `storeServerErrors`, whichever filter
   * then answers.
   */
  failed(plan: ResponsePlan, error?: unknown): Promise<void> {
    const pending = plan.idempotency;
    if (!pending) return Promise.resolve();
    plan.idempotency = undefined;
    // Without an error: the handler sent the response itself, nothing to replay.
    if (error === undefined) return pending.release();
    return pending.fail(
      this.mapper.map(error, {
        method: plan.request.method ?? '',
        path: this.requestPath(plan.request),
        requestId: plan.requestId,
      }),
    );
  }

  /**
   * Keeps the key of a request answered while its handler still runs (an
   * outer interceptor's timeout): released, as the error's problem would
   * have it, a retry would run the handler again beside the first. The
   * result cannot be stored (no response is written for it), so the lock
   * stays until `lockTtlMs`: retries get 409 with Retry-After until then.
   */
  abandon(plan: ResponsePlan): void {
    if (!plan.idempotency) return;
    plan.idempotency = undefined;
    this.logger.warn(
      `${plan.request.method ?? ''} ${this.requestPath(plan.request)} was answered before its handler finished (an interceptor's timeout?): its Idempotency-Key stays locked for ${this.options.lockTtlMs} ms and its result is not stored`,
    );
  }

  /** The request's path, without its query. */
  private requestPath(request: object): string {
    return pathOf(this.targetOf(request));
  }

  /** The request's path and query (origin form). */
  private targetOf(request: object): string {
    return requestTarget(this.adapterHost.httpAdapter, request);
  }

  /** Whether the response has gone out already (a handler with `@Res()`). */
  isHeadersSent(response: object): boolean {
    return this.adapterHost.httpAdapter.isHeadersSent(response) === true;
  }

  private warn(what: string, error: unknown): void {
    this.logger.warn(
      `${what}: ${error instanceof Error ? error.message : 'unknown error'}`,
    );
  }
}
