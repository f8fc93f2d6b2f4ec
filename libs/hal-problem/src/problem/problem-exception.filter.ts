import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  Optional,
  type Type,
} from '@nestjs/common';
import { FILTER_CATCH_EXCEPTIONS } from '@nestjs/common/constants';
import { ApplicationConfig, HttpAdapterHost } from '@nestjs/core';
import type { EventEmitter } from 'node:events';
import { answerClientErrorsOf } from './client-errors';
import { shortened } from './echoed-text';
import { ProblemConfig } from './problem.config';
import { AuthConfig } from '../auth/auth.config';
import { bearerChallenge } from '../auth/bearer-challenge';
import { bareServerError } from './http-status';
import {
  ProblemMapper,
  type ProblemRequestContext,
  type ProblemResponse,
} from './problem.mapper';
import { isRouterNotFound } from './router-not-found';
import {
  answerFrameworkErrorsOf,
  frameworkErrorHost,
  frameworkException,
} from './fastify-framework-errors';
import { ensureRequestId } from './request-id';
import { takeResponsePlan } from '../routing/response-plan';
import { pathOf, requestTarget, routedPath } from '../routing/request-target';
import { RouteTable } from '../routing/route-table';
import { resetHttp2Stream } from '../routing/http2-stream';
import { clientProblem } from './without-stack';
import { clearRepresentationHeaders } from './representation-headers';
import { setHeaderAddingVary } from './vary';
import { describeError, logText } from './describe-error';
import { graphqlSafeError } from './graphql-errors';

/** The media type of problem documents (RFC 9457 §3). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Where a problem happened, as the mapper and the log lines name it. */
export function problemRequestContext(
  adapter: {
    getRequestMethod(request: object): string;
    getRequestUrl(request: object): string;
  },
  request: object,
  requestId: string,
): ProblemRequestContext {
  return {
    method: String(adapter.getRequestMethod(request)).toUpperCase(),
    path: pathOf(requestTarget(adapter, request)),
    requestId,
  };
}

const FALLBACK_PROBLEM = bareServerError('/');

/** The bare 500 of a filter that failed; the request id is a checked one. */
function fallbackBody(requestId: string | undefined): string {
  return JSON.stringify(
    requestId === undefined
      ? FALLBACK_PROBLEM
      : { ...FALLBACK_PROBLEM, requestId },
  );
}

type HttpRequest = { headers: Record<string, string | string[] | undefined> };

/** An app's global filter that names the exceptions it catches. */
interface NarrowerFilter {
  readonly filter: ExceptionFilter;
  readonly types: readonly Type[];
}

/**
 * The one exception filter of the module: whatever was thrown, from any
 * layer, the client receives an RFC 9457 problem document. Responses are
 * written only through the HTTP adapter, so Express and Fastify share this
 * code path. In RPC, WebSocket and GraphQL contexts the filter stands aside,
 * leaving the answer to Nest's own handler or the GraphQL server.
 */
@Catch()
@Injectable()
export class ProblemExceptionFilter
  implements ExceptionFilter, OnApplicationBootstrap
{
  private readonly logger = new Logger('HalProblem');

  /**
   * The challenge a 401 gets when whoever raised it set none (a handler's
   * `UnauthorizedException`): RFC 9110 §15.5.2 requires one on every 401.
   */
  private readonly challenge: string | undefined;

  /**
   * The app's other global filters with `@Catch(SomeError)`, in the order
   * Nest tries them: each answers its own exceptions, wherever registered.
   */
  private narrower: readonly NarrowerFilter[] = [];

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly mapper: ProblemMapper,
    private readonly routes: RouteTable,
    private readonly config: ProblemConfig,
    private readonly appConfig: ApplicationConfig,
    @Optional() auth?: AuthConfig,
  ) {
    this.challenge = auth?.enabled
      ? bearerChallenge(auth.options.realm)
      : undefined;
  }

  /**
   * Lets `problemClientErrors` (Node's parser refusals; installed on the
   * server here if nothing answers them yet) and `problemFrameworkErrors`
   * (Fastify's router refusals) answer as this filter does.
   */
  onApplicationBootstrap(): void {
    this.assertImportedOnce();
    this.narrower = this.narrowerFilters();
    const server: unknown = this.adapterHost.httpAdapter?.getHttpServer();
    if (server && typeof (server as EventEmitter).listenerCount === 'function')
      answerClientErrorsOf(
        server as EventEmitter,
        this.config.requestIdHeader,
        this.config.instance,
      );
    const instance: unknown = this.adapterHost.httpAdapter?.getInstance();
    if (typeof instance !== 'object' && typeof instance !== 'function') return;
    if (instance === null) return;
    // Fastify's router refusals never reach Nest's filters: answered here.
    answerFrameworkErrorsOf(instance, (error, request, reply) => {
      this.answer(
        frameworkException(error),
        frameworkErrorHost(request, reply),
      );
    });
  }

  /**
   * Each `forRoot()` is a module of its own (Nest's `ConfigurableModuleBuilder`
   * gives each an id): a second import, in a feature module, would run a
   * second set of guards and pipe on every request (two request ids under
   * two headers, tokens checked and hits counted twice), each with its own
   * options, and keep its own services (operations, idempotency keys).
   */
  private assertImportedOnce(): void {
    const copies = this.appConfig
      .getGlobalFilters()
      .filter((filter) => filter instanceof ProblemExceptionFilter).length;
    if (copies > 1)
      throw new Error(
        `HalProblemModule is imported ${copies} times (forRoot() or forRootAsync() in more than one module): its guards, pipe and filter would each run ${copies} times per request, with their own options. Import it once, in the root module; to inject its services (OperationsService, RouteTable...) elsewhere, use forRoot({ isGlobal: true }).`,
      );
  }

  /**
   * Nest tries global filters from the last registered, and this one catches
   * everything: an app's `APP_FILTER` with `@Catch(SomeError)` registered
   * before it (in the root module, which Nest reads first) would never run.
   * Such filters are found once here and given their exceptions first.
   */
  private narrowerFilters(): NarrowerFilter[] {
    const narrower: NarrowerFilter[] = [];
    for (const filter of this.appConfig.getGlobalFilters() as unknown[]) {
      if (
        filter instanceof ProblemExceptionFilter ||
        typeof filter !== 'object' ||
        filter === null ||
        typeof (filter as ExceptionFilter).catch !== 'function'
      )
        continue;
      const types = (Reflect.getMetadata(
        FILTER_CATCH_EXCEPTIONS,
        filter.constructor,
      ) ?? []) as Type[];
      // A catch-all of the app's competes with this one as Nest orders them.
      if (types.length > 0)
        narrower.push({ filter: filter as ExceptionFilter, types });
    }
    return narrower.reverse();
  }

  catch(exception: unknown, host: ArgumentsHost): unknown {
    for (const { filter, types } of this.narrower)
      if (types.some((type) => exception instanceof type))
        return filter.catch(exception, host);
    this.answer(exception, host);
    return undefined;
  }

  private answer(exception: unknown, host: ArgumentsHost): void {
    // Nothing returned: Nest's own RPC handler answers as without the module
    // (`{ status: 'error', message }` for an RpcException, else "Internal
    // server error", logged). Re-throwing sent the raw error to the client,
    // its own properties (a cause, a query) included. Gateways get no global
    // filter at all.
    const type: string = host.getType();
    if (type !== 'http') {
      // A resolver's error goes back to the GraphQL server, which formats
      // it; the one kind it cannot format is replaced. ('graphql' is
      // @nestjs/graphql's type, not in Nest's ContextType.)
      const replaced =
        type === 'graphql' ? graphqlSafeError(exception) : undefined;
      if (replaced) throw replaced;
      return;
    }
    try {
      this.handle(exception, host);
    } catch (filterError) {
      // The last line of defence must not fail: answer a bare 500.
      const http = host.switchToHttp();
      const request = http.getRequest<unknown>();
      const requestId = this.knownRequestId(request);
      this.logFilterFailure(filterError, exception, requestId);
      this.sendFallback(http.getResponse<unknown>(), request, requestId);
    }
  }

  /** The request's id for a fallback: fixed on the request by now, or fixed here. */
  private knownRequestId(request: unknown): string | undefined {
    try {
      return ensureRequestId(
        request as HttpRequest,
        this.config.requestIdHeaderKey,
      );
    } catch {
      return undefined;
    }
  }

  /** Names the request and what was thrown, which the fallback's 500 does not. */
  private logFilterFailure(
    filterError: unknown,
    exception: unknown,
    requestId: string | undefined,
  ): void {
    const original = describeError(exception);
    const failure = describeError(filterError);
    this.logger.error(
      `The problem filter failed (requestId=${requestId ?? 'unknown'}) on ${original.message}: ${failure.message}`,
      [original.stack, failure.stack].filter(Boolean).join('\n') || undefined,
    );
  }

  private handle(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<HttpRequest>();
    const response = http.getResponse<unknown>();
    const adapter = this.adapterHost.httpAdapter;
    // Taken so the problem is not rendered as HAL, and to settle an idempotency key.
    const plan = takeResponsePlan(response as object);
    const requestId =
      plan?.requestId ??
      ensureRequestId(request, this.config.requestIdHeaderKey);
    const context = problemRequestContext(adapter, request, requestId);

    if (adapter.isHeadersSent(response)) {
      // Too late for a problem document: log once and cut the response off;
      // an idempotency key is given up, as there is nothing whole to replay.
      this.log(this.mapper.map(exception, context), context);
      void plan?.idempotency?.release();
      this.cutOff(request, response);
      return;
    }

    // With a plan, a route was matched: its 404 is the handler's, not the router's.
    const unserved = plan
      ? undefined
      : this.unservedMethod(exception, request, context);
    if (unserved?.allow && unserved.method === 'OPTIONS') {
      adapter.setHeader(response, 'Allow', unserved.allow);
      adapter.setHeader(response, this.config.requestIdHeader, requestId);
      adapter.reply(response, undefined, 204);
      return;
    }
    let problem = this.mapper.map(
      unserved === undefined
        ? exception
        : unserved.allow
          ? clientProblem(405, {
              detail: `${unserved.refused ?? context.method} is not supported by ${shortened(context.path)}; use ${unserved.allow}.`,
              headers: { Allow: unserved.allow },
            })
          : // Nest's "Cannot GET /path?query" would echo the query (a key,
            // a token in it) that `instance` leaves out, in Nest's wording.
            // The path as routed, not `instance`'s normal form: Express
            // serves nothing at `/%6frders` or `//orders`, but does at `/orders`.
            clientProblem(404, {
              detail: `Nothing is served at ${shortened(unserved.path)}.`,
            }),
      context,
    );
    this.log(problem, context);
    if (
      problem.status === 401 &&
      this.challenge !== undefined &&
      !Object.keys(problem.headers).some(
        (name) => name.toLowerCase() === 'www-authenticate',
      )
    )
      problem = {
        ...problem,
        headers: { ...problem.headers, 'WWW-Authenticate': this.challenge },
      };
    // The module's guard sent the request id already when it planned the response.
    const idToSend = plan ? undefined : requestId;
    const pending = plan?.idempotency;
    if (!pending) {
      this.send(response, problem, idToSend);
      return;
    }
    // The key is released (or the 5xx stored) before the client hears of the
    // failure, so a retry right after it is not told the request is in flight.
    void pending
      .fail(problem)
      .then(() => this.send(response, problem, idToSend))
      .catch((error: unknown) => {
        this.logFilterFailure(error, exception, requestId);
        this.sendFallback(response, request, requestId);
      });
  }

  /**
   * The router's own 404 (undefined for any other exception): for a path
   * that some route serves with other methods it is really a 405 (or, for
   * OPTIONS, a description of the methods), with `allow`; otherwise a 404
   * of the module's wording. An app's NotFoundException is answered as
   * thrown. `refused`: the method a 405's detail names, when not the request's.
   */
  private unservedMethod(
    exception: unknown,
    request: object,
    context: ProblemRequestContext,
  ):
    | { method: string; path: string; allow?: string; refused?: string }
    | undefined {
    const adapter = this.adapterHost.httpAdapter;
    if (!isRouterNotFound(exception, adapter, request)) return undefined;
    // The path as the platform routed it, not the normalized `instance`:
    // Express's router does not decode `/%74hings`, so a 405 there would
    // name GET for a path whose GET is a 404.
    const path = routedPath(adapter, request);
    const { served, allow } = this.routes.lookup(path);
    if (allow.length === 0 || served.has(context.method))
      return { method: context.method, path };
    // A HEAD is answered as its GET would be, without the body (RFC 9110
    // §9.3.2), and its Content-Length must be the GET's (§8.6): where GET is
    // refused too, the detail names GET, so both bodies have one length.
    const refused =
      context.method === 'HEAD' && !served.has('GET') ? 'GET' : undefined;
    return { method: context.method, path, allow: allow.join(', '), refused };
  }

  /** `requestId`: the id to send in its header, if it is not sent yet. */
  private send(
    response: unknown,
    problem: ProblemResponse,
    requestId: string | undefined,
  ): void {
    const adapter = this.adapterHost.httpAdapter;
    let payload: string;
    try {
      payload = JSON.stringify(problem.body);
    } catch {
      // Extensions are made JSON-safe by the mapper; this is a last resort.
      const { type, title, status, detail, instance, requestId } = problem.body;
      payload = JSON.stringify({
        type,
        title,
        status,
        detail,
        instance,
        requestId,
      });
    }
    // Before the problem's own headers, which may use the same names.
    clearRepresentationHeaders(response);
    for (const [name, value] of Object.entries(problem.headers))
      setHeaderAddingVary(adapter, response, name, value);
    if (requestId !== undefined)
      adapter.setHeader(response, this.config.requestIdHeader, requestId);
    adapter.setHeader(response, 'Content-Type', PROBLEM_CONTENT_TYPE);
    adapter.reply(response, payload, problem.status);
  }

  /**
   * Ends a response whose headers went out before it failed. Ending it
   * normally would send the last chunk (or leave a Content-Length unmet on
   * a kept-alive connection), so a cut body would look whole or hang the
   * client: the connection is closed after what was written instead (RFC
   * 9112 §8), as Nest does for a StreamableFile that fails mid-stream. Both
   * platforms' requests expose the socket. Over HTTP/2 the response's
   * stream is reset instead (`routing/http2-stream.ts`).
   */
  private cutOff(request: unknown, response: unknown): void {
    // A response already whole (`@Res()` sent it, then the handler threw) is
    // left alone: its connection may serve the next request by now.
    // (`writableEnded`: Node's and Express's response; `sent`: Fastify's reply.)
    const finished = response as { writableEnded?: unknown; sent?: unknown };
    if (finished.writableEnded === true || finished.sent === true) return;
    // HTTP/2: the connection is every stream's, and node:http2 maps this
    // socket's end() to the stream's normal end; only the stream is reset.
    if (resetHttp2Stream(request)) return;
    const socket = (request as { socket?: { end?: unknown } } | undefined)
      ?.socket;
    if (typeof socket?.end === 'function')
      (socket.end as () => void).call(socket);
    else this.adapterHost.httpAdapter.end(response);
  }

  private sendFallback(
    response: unknown,
    request: unknown,
    requestId: string | undefined,
  ): void {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter.isHeadersSent(response)) {
      this.cutOff(request, response);
      return;
    }
    clearRepresentationHeaders(response);
    if (requestId !== undefined)
      adapter.setHeader(response, this.config.requestIdHeader, requestId);
    adapter.setHeader(response, 'Content-Type', PROBLEM_CONTENT_TYPE);
    adapter.reply(response, fallbackBody(requestId), 500);
  }

  private log(problem: ProblemResponse, context: ProblemRequestContext): void {
    // Most problems are 4xx at debug level: their line is built only when it is logged.
    if (problem.logLevel === 'debug' && !Logger.isLevelEnabled('debug')) return;
    const line = `${context.method} ${context.path} -> ${problem.status} (requestId=${context.requestId})`;
    if (problem.logLevel === 'debug') {
      this.logger.debug(`${line}: ${logText(problem.body.detail)}`);
      return;
    }
    const { message, stack } = describeError(problem.logError);
    if (problem.logLevel === 'warn') this.logger.warn(`${line}: ${message}`);
    else this.logger.error(`${line}: ${message}`, stack);
  }
}
