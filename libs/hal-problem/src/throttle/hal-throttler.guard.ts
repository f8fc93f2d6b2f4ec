import { type ExecutionContext, Logger } from '@nestjs/common';
import type { HttpAdapterHost, Reflector } from '@nestjs/core';
import {
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerRequest,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import { type AuthConfig, principalScope } from '../auth/auth.config';
import { ProblemException } from '../problem/problem.exception';
import { addressBucket, clientAddress, proxyHops } from './client-address';
import { bearerToken } from '../auth/bearer-challenge';
import {
  invalidPolicyName,
  type RateLimitState,
  rateLimitHeaders,
} from './rate-limit-headers';
import { MAX_SF_INTEGER } from '../problem/http-status';

import type { HalThrottleOptions } from './throttle-options.interface';
import { QuotaExceeded } from './throttle.problems';
import { clientProblem } from '../problem/without-stack';
import { perHandler } from '../routing/per-handler-cache';
import {
  numbersOf,
  readRouteThrottlers,
  type Resolvable,
  type RouteThrottler,
  type ThrottlerNumbers,
} from './route-throttlers';

type HttpRequest = { headers: Record<string, string | string[] | undefined> };

/**
 * The 429 of the policy that blocked: `Retry-After` (whole seconds, rounded
 * up: never earlier than the reset) is the longest wait of every policy
 * counted with nothing left, so a 1 s burst blocking while a 60 s quota
 * counted before it is used up is a 60 s wait.
 */
function quotaExceeded(
  blocked: RateLimitState,
  states: readonly RateLimitState[],
): ProblemException {
  let wait = 1;
  for (const state of states)
    if (state === blocked || state.remaining <= 0)
      wait = Math.max(wait, Math.ceil(state.resetSeconds));
  // A block without end (`Infinity`) still gets a Retry-After, the `t` the
  // RateLimit field shows: an infinite one is no delay-seconds and was dropped.
  wait = Math.min(wait, MAX_SF_INTEGER);
  return clientProblem(QuotaExceeded, {
    detail: `The rate limit "${blocked.name}" of ${blocked.limit} requests per ${Math.ceil(blocked.windowMs / 1000)} s is exhausted; retry after ${wait} s.`,
    extensions: { 'violated-policies': [blocked.name] },
    retryAfter: wait,
  });
}

/** The answer for requests no throttler counts. */
const ALLOWED = Promise.resolve(true);

/** A route throttler's numbers when one of them is a function of the request. */
async function numbersFor(
  route: RouteThrottler,
  context: ExecutionContext,
): Promise<ThrottlerNumbers> {
  const valueOf = (option: Resolvable | undefined) =>
    typeof option === 'function' ? option(context) : option;
  // Resolved one after the other, in ThrottlerGuard's order.
  const limit = await valueOf(route.limit);
  const ttl = await valueOf(route.ttl);
  return numbersOf(
    route.throttler.name,
    limit,
    ttl,
    await valueOf(route.blockDuration),
  );
}

const STORAGE_RETRY_AFTER_SECONDS = 5;
const STORAGE_WARNING_INTERVAL_MS = 10_000;

/**
 * `@nestjs/throttler`'s guard with the contract's answers: the standard
 * `RateLimit`/`RateLimit-Policy` fields on every throttled response, a 429
 * problem with one `Retry-After` in whole seconds, buckets keyed by the
 * verified token subject (else the client address), and a storage outage
 * policy. Installed by the module before authentication, so floods of
 * unauthenticated requests are limited too.
 *
 * Override `getTracker` to key buckets differently.
 */
export class HalThrottlerGuard extends ThrottlerGuard {
  private readonly states = new WeakMap<object, RateLimitState[]>();
  private readonly hops: number;
  private lastStorageWarning = 0;

  constructor(
    options: ThrottlerModuleOptions,
    storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly adapterHost: HttpAdapterHost,
    private readonly auth: AuthConfig,
    private readonly throttle: HalThrottleOptions = {},
  ) {
    super(options, storage, reflector);
    this.hops = proxyHops(throttle.trustProxy);
    this.logger = new Logger('HalProblem');
  }

  /** Upstream's start, then names that could not be sent in the RateLimit fields are refused. */
  override async onModuleInit(): Promise<void> {
    await super.onModuleInit();
    for (const throttler of this.throttlers) {
      const problem = invalidPolicyName(throttler.name ?? 'default');
      if (problem) throw new Error(`HalProblemModule: ${problem}`);
    }
  }

  /** Whether a subclass overrides `shouldSkip` (the base one always says no). */
  private readonly asksShouldSkip =
    this.shouldSkip !==
    (ThrottlerGuard.prototype as unknown as { shouldSkip: unknown }).shouldSkip;

  /** The throttlers of each route, from its metadata, read on its first request. */
  private readonly routeThrottlers = perHandler((targets) =>
    readRouteThrottlers(
      this.reflector,
      this.throttlers,
      this.commonOptions,
      targets,
      // Neither a module-wide generateKey nor a subclass's own override.
      (Array.isArray(this.options) || this.options.generateKey === undefined) &&
        this.generateKey === HalThrottlerGuard.prototype.generateKey,
    ),
  );

  /**
   * `ThrottlerGuard.canActivate`, with the same order and fallbacks, but with
   * each route's metadata read once rather than on every request, and no
   * async step for a request that no throttler counts (a `@SkipThrottle()`
   * route): it gets one promise, already settled, shared by all.
   */
  override canActivate(context: ExecutionContext): Promise<boolean> {
    // Limits, RateLimit fields, client addresses and the 429 are HTTP's: an
    // RPC message or a WebSocket event has no headers to read or write
    // (reading them failed every message of a hybrid app).
    if (context.getType() !== 'http') return ALLOWED;
    if (this.asksShouldSkip) {
      return this.shouldSkip(context).then(
        (skip) => skip || this.throttleRequest(context),
      );
    }
    return this.throttleRequest(context);
  }

  private throttleRequest(context: ExecutionContext): Promise<boolean> {
    let counted: RouteThrottler[] | undefined;
    for (const route of this.routeThrottlers(context)) {
      if (route.skipIf?.(context) || this.ignoresUserAgent(route, context))
        continue;
      (counted ??= []).push(route);
    }
    return counted ? this.count(context, counted) : ALLOWED;
  }

  private ignoresUserAgent(
    route: RouteThrottler,
    context: ExecutionContext,
  ): boolean {
    if (!route.ignoreUserAgents?.length) return false;
    const userAgent = context.switchToHttp().getRequest<HttpRequest>().headers[
      'user-agent'
    ];
    return (
      typeof userAgent === 'string' &&
      route.ignoreUserAgents.some((pattern) => pattern.test(userAgent))
    );
  }

  /**
   * One hit per throttler, in upstream's order (shortest window first),
   * until one blocks, as upstream counts: a refused request is not charged
   * to the windows after it. The 429 `handleRequest` throws then covers
   * every policy counted so far (see `quotaExceeded`).
   */
  private async count(
    context: ExecutionContext,
    routes: readonly RouteThrottler[],
  ): Promise<boolean> {
    let allowed = true;
    for (const route of routes) {
      const numbers = route.fixed ?? (await numbersFor(route, context));
      const passed = await this.handleRequest(
        this.requestOf(route, context, numbers),
      );
      allowed = passed && allowed;
    }
    return allowed;
  }

  /** What `handleRequest` is given for one throttler of a route. */
  private requestOf(
    route: RouteThrottler,
    context: ExecutionContext,
    { limit, ttl, blockDuration }: ThrottlerNumbers,
  ): ThrottlerRequest {
    return {
      context,
      limit,
      ttl,
      throttler: route.throttler,
      blockDuration,
      getTracker: route.getTracker,
      // A route's own @Throttle() policy gets its own bucket per client,
      // named before the tracker: after it, a token subject spelled
      // `<victim>:<limit>/<ttl>/<block>` would name the victim's bucket of
      // that policy (the tracker is the one part a client chooses).
      generateKey: route.overridden
        ? (inner, tracker, name) =>
            route.generateKey(
              inner,
              tracker,
              `${name}@${limit}/${ttl}/${blockDuration}`,
            )
        : route.generateKey,
    };
  }

  /** The verified token subject, never a merely decoded one; else the client address. */
  protected override async getTracker(
    request: Record<string, unknown>,
  ): Promise<string> {
    const header = (request as HttpRequest).headers.authorization;
    const token = bearerToken(header);
    if (token) {
      const principal = await this.auth.verify(token, request);
      if (principal) return principalScope(principal, this.auth.options.issuer);
    }
    return `ip:${addressBucket(
      clientAddress(request as HttpRequest, this.hops),
      // Upstream's option (ThrottlerModule.forRoot({ ipv6SubnetPrefix })),
      // undefined in versions without that option: then /64.
      this.ipv6SubnetPrefix,
    )}`;
  }

  protected override generateKey(
    context: ExecutionContext,
    tracker: string,
    name: string,
  ): string {
    if (this.throttle.scope === 'route')
      return super.generateKey(context, tracker, name);
    return `${name}:${tracker}`;
  }

  protected override async handleRequest(
    props: ThrottlerRequest,
  ): Promise<boolean> {
    const {
      context,
      limit,
      ttl,
      throttler,
      blockDuration,
      getTracker,
      generateKey,
    } = props;
    const http = context.switchToHttp();
    const request = http.getRequest<Record<string, unknown>>();
    const response = http.getResponse<object>();
    const name = throttler.name ?? 'default';
    const tracker = await getTracker(request, context);
    const key = generateKey(context, tracker, name);
    let record;
    try {
      record = await this.storageService.increment(
        key,
        ttl,
        limit,
        blockDuration,
        name,
      );
    } catch (error) {
      return this.onStorageError(error);
    }
    const states = this.states.get(request) ?? [];
    const state: RateLimitState = {
      name,
      limit,
      windowMs: ttl,
      remaining: record.isBlocked ? 0 : limit - record.totalHits,
      resetSeconds: record.isBlocked
        ? record.timeToBlockExpire
        : record.timeToExpire,
    };
    states.push(state);
    this.states.set(request, states);
    this.writeHeaders(response, states);
    if (record.isBlocked) throw quotaExceeded(state, states);
    return true;
  }

  private writeHeaders(
    response: object,
    states: readonly RateLimitState[],
  ): void {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter.isHeadersSent(response)) return;
    const { policy, limit } = rateLimitHeaders(states);
    adapter.setHeader(response, 'RateLimit-Policy', policy);
    adapter.setHeader(response, 'RateLimit', limit);
    if (this.throttle.legacyHeaders) {
      const tightest = states.reduce((a, b) =>
        b.remaining < a.remaining ? b : a,
      );
      adapter.setHeader(response, 'X-RateLimit-Limit', String(tightest.limit));
      adapter.setHeader(
        response,
        'X-RateLimit-Remaining',
        String(Math.max(0, tightest.remaining)),
      );
      adapter.setHeader(
        response,
        'X-RateLimit-Reset',
        String(tightest.resetSeconds),
      );
    }
  }

  private onStorageError(error: unknown): boolean {
    const now = Date.now();
    if (now - this.lastStorageWarning > STORAGE_WARNING_INTERVAL_MS) {
      this.lastStorageWarning = now;
      this.logger.warn(
        `Rate-limit storage failed (${this.throttle.onStorageError ?? 'fail-open'}): ${error instanceof Error ? error.message : 'unknown error'}`,
      );
    }
    if (this.throttle.onStorageError === 'fail-closed') {
      throw ProblemException.serviceUnavailable(
        'Rate limiting is temporarily unavailable; try again shortly.',
        {
          retryAfter: STORAGE_RETRY_AFTER_SECONDS,
          cause: error,
        },
      );
    }
    return true;
  }
}
