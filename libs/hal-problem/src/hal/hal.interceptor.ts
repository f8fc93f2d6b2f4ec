import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
  StreamableFile,
  type Type,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { map, type Observable } from 'rxjs';
import { HAL_CONTENT_TYPE } from './hal.constants';
import type { HalContext } from './hal-link.interface';
import { HalRenderer } from './hal.renderer';
import { Operation } from '../operations/operation';

type HttpRequest = {
  headers: Record<string, string | string[] | undefined>;
  params?: Record<string, string>;
  query?: Record<string, unknown>;
  user?: unknown;
};

/** Bodies a handler may return that are not resources and pass through untouched. */
function isResource(value: unknown): value is object {
  return (
    typeof value === 'object' &&
    value !== null &&
    !(value instanceof StreamableFile) &&
    !(value instanceof Response) &&
    !Buffer.isBuffer(value) &&
    !(value instanceof Uint8Array) &&
    !ArrayBuffer.isView(value) &&
    typeof (value as { pipe?: unknown }).pipe !== 'function'
  );
}

/**
 * A client that names `application/json` but neither HAL nor a wildcard
 * gets the same body labelled `application/json`.
 */
function contentTypeFor(accept: string | string[] | undefined): string {
  const value = Array.isArray(accept) ? accept.join(',') : accept;
  if (!value) return HAL_CONTENT_TYPE;
  const types = value
    .split(',')
    .map((part) => part.split(';')[0].trim().toLowerCase());
  if (
    types.some(
      (type) =>
        type === HAL_CONTENT_TYPE || type === '*/*' || type === 'application/*',
    )
  ) {
    return HAL_CONTENT_TYPE;
  }
  return types.includes('application/json')
    ? 'application/json'
    : HAL_CONTENT_TYPE;
}

/**
 * Renders every successful body as HAL: resolves the handler's result,
 * adds links and embedded resources, sets `Content-Type` and `Vary`, and
 * for 201/202 sets `Location` to the new resource's (or monitor's) `self`.
 * An empty result becomes 204 unless the handler declares its status with
 * `@HttpCode()`; strings, buffers, streams and `@SkipHal()` handlers pass
 * through untouched.
 */
@Injectable()
export class HalInterceptor implements NestInterceptor {
  constructor(
    private readonly renderer: HalRenderer,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const plan = this.renderer.planFor(
      context.getClass<Type>(),
      context.getHandler() as (...args: unknown[]) => unknown,
    );
    if (plan.skip) return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<HttpRequest>();
    const response = http.getResponse<unknown>();
    return next.handle().pipe(
      map((value: unknown) => {
        // Nothing to send: 204. Nest 12 sends a returned web Response with its
        // own status, the public way to choose a status per request.
        if ((value === undefined || value === null) && !plan.explicitStatus) {
          return new Response(null, { status: 204 });
        }
        return isResource(value)
          ? this.renderBody(value, plan, request, response)
          : value;
      }),
    );
  }

  private renderBody(
    value: object,
    plan: ReturnType<HalRenderer['planFor']>,
    request: HttpRequest,
    response: unknown,
  ): unknown {
    const url = String(
      this.adapterHost.httpAdapter.getRequestUrl(request) ?? '/',
    );
    // A body that is HAL already is sent as it is, only labelled.
    if (typeof (value as { _links?: unknown })._links === 'object') {
      return this.label(
        value as Record<string, unknown>,
        value,
        plan,
        request,
        response,
      );
    }
    const halContext: HalContext = {
      request,
      principal: request.user,
      params: request.params ?? {},
      query: request.query ?? {},
    };
    const document = this.renderer.render(value, plan, halContext, url);
    // Emitting a promise is fine: Nest resolves what the interceptor chain settles on.
    return document instanceof Promise
      ? document.then((resolved) =>
          this.label(resolved, value, plan, request, response),
        )
      : this.label(document, value, plan, request, response);
  }

  private label(
    document: Record<string, unknown>,
    value: object,
    plan: ReturnType<HalRenderer['planFor']>,
    request: HttpRequest,
    response: unknown,
  ): Record<string, unknown> {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter.isHeadersSent(response)) return document;
    adapter.setHeader(
      response,
      'Content-Type',
      contentTypeFor(request.headers.accept),
    );
    // Keep what others vary on (CORS adds Origin).
    const vary: unknown = adapter.getHeader(response, 'Vary');
    const existing = typeof vary === 'string' && vary ? vary : undefined;
    if (!existing) adapter.setHeader(response, 'Vary', 'Accept');
    else if (!/(^|,)\s*(accept|\*)\s*(,|$)/i.test(existing))
      adapter.setHeader(response, 'Vary', `${existing}, Accept`);
    if (value instanceof Operation && !value.finished) {
      adapter.setHeader(response, 'Retry-After', String(value.retryAfter));
    }
    if (
      (plan.status === 201 || plan.status === 202) &&
      this.renderer.declaresSelf(value, plan)
    ) {
      // The new resource's (or status monitor's) own declared URL.
      const self = HalRenderer.selfOf(document);
      if (self !== undefined) adapter.setHeader(response, 'Location', self);
    }
    return document;
  }
}
