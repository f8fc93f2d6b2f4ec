import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { from, mergeMap, type Observable, of } from 'rxjs';
import { peekResponsePlan } from '../routing/response-plan';

/**
 * Put by `IdempotencyService` on idempotent routes only, at bootstrap. It
 * holds no state: the app's service comes with the plan the module's guard
 * attached to the response, so one instance serves every app in a process.
 * An interceptor (not a guard) because it must run after every guard, to
 * know the principal, and must be able to skip the handler for a replay.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const plan = peekResponsePlan(context.switchToHttp().getResponse<object>());
    // No plan: the route belongs to an app without the module.
    const started = plan?.idempotencyService.begin(context, plan);
    if (!started) return next.handle();
    return from(started).pipe(
      // A replay is sent by HalResponseWriter from `plan.replay`.
      mergeMap(() => (plan?.replay ? of(undefined) : next.handle())),
    );
  }
}

export const IDEMPOTENCY_INTERCEPTOR = new IdempotencyInterceptor();
