import {
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  Logger,
  type NestInterceptor,
  Optional,
  RequestMethod,
} from '@nestjs/common';
import { HTTP_CODE_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { createHash } from 'node:crypto';
import { catchError, from, mergeMap, type Observable } from 'rxjs';
import type { HalProblemModuleOptions } from '../hal-problem-module-options.interface';
import { HAL_PROBLEM_MODULE_OPTIONS } from '../hal-problem.module-definition';
import { ProblemException } from '../problem/problem.exception';
import { ProblemMapper } from '../problem/problem.mapper';
import { clientAddress, proxyHops } from '../throttle/client-address';
import { perHandler } from '../routing/per-handler-cache';
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
  type IdempotencyStore,
  type StoredResponse,
} from './idempotency-store.interface';
import { Idempotent } from './idempotent.decorator';
import { InMemoryIdempotencyStore } from './in-memory-idempotency.store';

type HttpRequest = {
  method?: string;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
  user?: { subject?: unknown };
  socket?: { remoteAddress?: string };
  raw?: { socket?: { remoteAddress?: string } };
};

/** Headers a replay repeats; never Set-Cookie or rate-limit fields. */
const REPLAYED_HEADERS = [
  'content-type',
  'location',
  'content-location',
  'etag',
  'link',
];
const DAY_MS = 24 * 60 * 60 * 1000;
const STORE_RETRY_AFTER_SECONDS = 5;

/**
 * Idempotent requests (draft-ietf-httpapi-idempotency-key-header) for
 * handlers marked `@Idempotent()`. Runs after guards (so the principal is
 * known) and outside the HAL interceptor (so it stores the body as sent).
 *
 * - the record is keyed by principal (token subject, else client address),
 *   method, path and key, so one client never reads another's result;
 * - the fingerprint is a hash of the body's canonical JSON (key order does not matter);
 * - the lock is taken atomically by the store: a concurrent retry gets 409;
 * - any error releases the key and stores nothing (unless `storeServerErrors`
 *   for 5xx), so a client can fix a 4xx and retry with the same key.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly logger = new Logger('HalProblem');
  private readonly options: Required<Omit<IdempotencyOptions, 'store'>>;
  private readonly store: IdempotencyStore;
  private readonly hops: number;

  constructor(
    private readonly reflector: Reflector,
    private readonly adapterHost: HttpAdapterHost,
    private readonly mapper: ProblemMapper,
    @Inject(HAL_PROBLEM_MODULE_OPTIONS)
    moduleOptions: HalProblemModuleOptions = {},
    @Optional() @Inject(IDEMPOTENCY_STORE) store?: IdempotencyStore,
  ) {
    const options = moduleOptions.idempotency ?? {};
    this.options = {
      ttlMs: options.ttlMs ?? DAY_MS,
      lockTtlMs: options.lockTtlMs ?? 60_000,
      allUnsafeMethods: options.allUnsafeMethods ?? false,
      storeServerErrors: options.storeServerErrors ?? false,
      maxKeyLength: options.maxKeyLength ?? 255,
    };
    this.store = options.store ?? store ?? new InMemoryIdempotencyStore();
    this.hops = proxyHops(
      moduleOptions.throttle ? moduleOptions.throttle.trustProxy : false,
    );
  }

  /** Whether (and how) a route is idempotent, worked out once per route. */
  private readonly routeOf = perHandler((targets) => {
    const [handler] = targets;
    const declared = this.reflector.getAllAndOverride(Idempotent, targets);
    const method = this.reflector.get<RequestMethod | undefined>(
      METHOD_METADATA,
      handler,
    );
    const unsafe =
      method === RequestMethod.POST || method === RequestMethod.PATCH;
    if (!declared && !(this.options.allUnsafeMethods && unsafe))
      return undefined;
    const status =
      this.reflector.get<number | undefined>(HTTP_CODE_METADATA, handler) ??
      (method === RequestMethod.POST ? 201 : 200);
    return { declared, status };
  });

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const route = this.routeOf(context);
    if (!route) return next.handle();
    const { declared, status } = route;

    const request = context.switchToHttp().getRequest<HttpRequest>();
    const response = context.switchToHttp().getResponse<object>();
    const header = request.headers['idempotency-key'];
    if (header === undefined) {
      if (declared?.required) {
        throw new ProblemException(IdempotencyKeyMissing, {
          detail:
            'Send an Idempotency-Key header, e.g. Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324".',
        });
      }
      return next.handle();
    }
    const key =
      typeof header === 'string'
        ? parseIdempotencyKey(header, this.options.maxKeyLength)
        : undefined;
    if (key === undefined) {
      throw new ProblemException(IdempotencyKeyInvalid, {
        detail: `The Idempotency-Key header must be one string of 1 to ${this.options.maxKeyLength} printable characters.`,
      });
    }
    const adapter = this.adapterHost.httpAdapter;
    const url = String(adapter.getRequestUrl(request) ?? '/');
    const path = url.split('?')[0];
    const principal =
      typeof request.user?.subject === 'string'
        ? `sub:${request.user.subject}`
        : undefined;
    const scope = principal ?? `ip:${clientAddress(request, this.hops)}`;
    const recordKey = createHash('sha256')
      .update(`${scope}\n${request.method ?? ''}\n${path}\n${key}`)
      .digest('base64url');
    const fingerprint = fingerprintOf(request.body);
    const ttlMs = declared?.ttlMs ?? this.options.ttlMs;
    // A store that cannot answer (Redis down) must not run the handler
    // unguarded: the client is asked to retry instead.
    const acquired = this.store
      .acquire(recordKey, fingerprint, this.options.lockTtlMs)
      .catch((error: unknown) => {
        throw ProblemException.serviceUnavailable(
          'Idempotency keys cannot be checked right now; retry the request with the same key.',
          { retryAfter: STORE_RETRY_AFTER_SECONDS, cause: error },
        );
      });
    return from(acquired).pipe(
      mergeMap((existing) => {
        if (existing) return from([this.answerExisting(existing, fingerprint)]);
        return next.handle().pipe(
          mergeMap(async (value: unknown) => {
            try {
              await this.store.complete(
                recordKey,
                {
                  fingerprint,
                  state: 'completed',
                  response: this.capture(value, status, response),
                },
                ttlMs,
              );
            } catch (error) {
              // The work is done: answer it. The in-flight lock expires after lockTtlMs.
              this.logger.warn(
                `Could not store an idempotent response: ${error instanceof Error ? error.message : 'unknown error'}`,
              );
            }
            return value;
          }),
          catchError((error: unknown) =>
            from(this.onFailure(recordKey, fingerprint, ttlMs, error, url)),
          ),
        );
      }),
    );
  }

  private answerExisting(
    existing: { fingerprint: string; state: string; response?: StoredResponse },
    fingerprint: string,
  ): Response {
    if (existing.fingerprint !== fingerprint) {
      throw new ProblemException(IdempotencyKeyReused, {
        detail:
          'This Idempotency-Key was already used with a different request body.',
      });
    }
    if (existing.state !== 'completed' || !existing.response) {
      throw new ProblemException(IdempotencyRequestInFlight, {
        detail:
          'The first request with this Idempotency-Key is still being processed.',
        retryAfter: 1,
      });
    }
    const stored = existing.response;
    // The contract: a creation replayed is 200 OK, the same resource and Location.
    return new Response(stored.body, {
      status: stored.status === 201 ? 200 : stored.status,
      headers: { ...stored.headers, 'Idempotent-Replayed': 'true' },
    });
  }

  /** What a replay must repeat: status, the headers that matter, the body as sent. */
  private capture(
    value: unknown,
    status: number,
    response: object,
  ): StoredResponse {
    const adapter = this.adapterHost.httpAdapter;
    const headers: Record<string, string> = {};
    for (const name of REPLAYED_HEADERS) {
      const header: unknown = adapter.getHeader(response, name);
      if (typeof header === 'string') headers[name] = header;
    }
    if (value instanceof Response)
      return { status: value.status, headers, body: null };
    if (value === undefined || value === null)
      return { status, headers, body: null };
    if (typeof value === 'string')
      return {
        status,
        headers: { 'content-type': 'text/plain; charset=utf-8', ...headers },
        body: value,
      };
    return {
      status,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(value),
    };
  }

  private async onFailure(
    recordKey: string,
    fingerprint: string,
    ttlMs: number,
    error: unknown,
    url: string,
  ): Promise<never> {
    try {
      const problem = this.mapper.map(error, {
        method: 'POST',
        path: url.split('?')[0],
        requestId: '',
      });
      if (this.options.storeServerErrors && problem.status >= 500) {
        const { requestId: _requestId, ...body } = problem.body;
        await this.store.complete(
          recordKey,
          {
            fingerprint,
            state: 'completed',
            response: {
              status: problem.status,
              headers: {
                'content-type': 'application/problem+json',
                ...problem.headers,
              },
              body: JSON.stringify(body),
            },
          },
          ttlMs,
        );
      } else {
        await this.store.release(recordKey);
      }
    } catch (storeError) {
      // The lock then expires on its own after lockTtlMs.
      this.logger.warn(
        `Could not release an idempotency key: ${storeError instanceof Error ? storeError.message : 'unknown error'}`,
      );
    }
    throw error;
  }
}
