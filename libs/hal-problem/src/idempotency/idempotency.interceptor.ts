import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import {
  catchError,
  from,
  mergeMap,
  type Observable,
  of,
  tap,
  throwError,
} from 'rxjs';
import type { StoredResponse } from './idempotency-store.interface';
import { peekResponsePlan } from '../routing/response-plan';

/** What interceptors outside this one see of a replay: the stored document. */
function storedValue(stored: StoredResponse): unknown {
  if (stored.body === null) return undefined;
  try {
    return JSON.parse(stored.body) as unknown;
  } catch {
    return stored.body;
  }
}

/**
 * Put by `IdempotencyService` on idempotent routes only, at bootstrap. It
 * holds no state: the app's service comes with the plan the module's guard
 * attached to the response, so one instance serves every app in a process.
 * An interceptor (not a guard) because it must run after every guard, to
 * know the principal, and must be able to skip the handler for a replay.
 *
 * On the way out it settles the key when the handler threw (whichever
 * exception filter answers), or when the handler wrote the response itself
 * (`@Res()`), which then cannot be replayed. Otherwise `HalResponseWriter`
 * stores the response as it sends it.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const response = context.switchToHttp().getResponse<object>();
    const plan = peekResponsePlan(response);
    // No plan: the route belongs to an app without the module.
    const started = plan?.idempotencyService.begin(context, plan);
    if (!plan || !started) return next.handle();
    const service = plan.idempotencyService;
    return from(started).pipe(
      mergeMap(() => {
        // A replay is sent by HalResponseWriter from `plan.replay`.
        if (plan.replay) return of(storedValue(plan.replay));
        return next.handle().pipe(
          tap({
            complete: () => {
              if (service.isHeadersSent(response)) void service.failed(plan);
            },
          }),
          catchError((error: unknown) =>
            from(service.failed(plan, error)).pipe(
              mergeMap(() => throwError(() => error)),
            ),
          ),
        );
      }),
    );
  }
}

export const IDEMPOTENCY_INTERCEPTOR = new IdempotencyInterceptor();
