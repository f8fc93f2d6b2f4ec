import {
  type CanActivate,
  type ExecutionContext,
  Injectable,
  type Type,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { HalRenderer } from './hal/hal.renderer';
import { IdempotencyService } from './idempotency/idempotency.service';
import { RequestContextService } from './problem/request-context.service';
import {
  attachResponsePlan,
  type PlannedRequest,
} from './routing/response-plan';

/**
 * The module's last global guard, after rate limiting, authentication and
 * scopes: fixes the request id, checks the body's media type, and attaches
 * the handler's render plan to the response for `HalResponseWriter`. Doing
 * this in a guard instead of a global interceptor spares every request
 * Nest's RxJS interceptor pipeline, which measured as the bulk of the
 * module's cost (docs/performance.md). Synchronous: Nest then awaits nothing
 * for it.
 */
@Injectable()
export class HalProblemGuard implements CanActivate {
  constructor(
    private readonly requestContext: RequestContextService,
    private readonly renderer: HalRenderer,
    private readonly idempotency: IdempotencyService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  canActivate(context: ExecutionContext): true {
    if (context.getType() !== 'http') return true;
    const requestId = this.requestContext.prepare(context);
    const http = context.switchToHttp();
    const response = http.getResponse<object>();
    attachResponsePlan(response, {
      requestId,
      handler: this.renderer.planFor(
        context.getClass<Type>(),
        context.getHandler() as (...args: unknown[]) => unknown,
      ),
      request: http.getRequest<PlannedRequest>(),
      contentTypeBefore: this.adapterHost.httpAdapter.getHeader(
        response,
        'content-type',
      ) as unknown,
      idempotencyService: this.idempotency,
    });
    return true;
  }
}
