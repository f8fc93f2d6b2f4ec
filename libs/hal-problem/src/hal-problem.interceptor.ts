import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import { HalInterceptor } from './hal/hal.interceptor';
import { IdempotencyInterceptor } from './idempotency/idempotency.interceptor';
import { RequestContextInterceptor } from './problem/request-context.interceptor';

/**
 * The module's one global interceptor. Each global interceptor costs Nest an
 * extra RxJS layer per request, so the three steps are composed here with
 * plain calls instead: request id and media type, then idempotency (outside,
 * so it stores what HAL rendered), then HAL rendering.
 */
@Injectable()
export class HalProblemInterceptor implements NestInterceptor {
  constructor(
    private readonly requestContext: RequestContextInterceptor,
    private readonly idempotency: IdempotencyInterceptor,
    private readonly hal: HalInterceptor,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const rendered: CallHandler = {
      handle: () => this.hal.intercept(context, next),
    };
    const idempotent: CallHandler = {
      handle: () => this.idempotency.intercept(context, rendered),
    };
    return this.requestContext.intercept(context, idempotent);
  }
}
