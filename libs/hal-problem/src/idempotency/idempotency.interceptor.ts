import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { Observable, type Subscription } from 'rxjs';
import type { StoredResponse } from './idempotency-store.interface';
import { peekResponsePlan } from '../routing/response-plan';
import { clearRepresentationHeaders } from '../problem/representation-headers';

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
    // One Observable written out rather than from/mergeMap/tap/catchError:
    // the same steps, without four operator subscriptions per request
    // (profiled as most of a replay's cost, docs/performance.md).
    return new Observable<unknown>((subscriber) => {
      let handling: Subscription | undefined;
      let unsubscribed = false;
      let settled = false;
      const proceed = () => {
        // Given up while the key was being taken: the handler never runs.
        if (unsubscribed) return void service.failed(plan);
        // A replay is sent by HalResponseWriter from `plan.replay`.
        if (plan.replay) {
          // A stored problem is replayed as it was sent: without the
          // success headers the route set again before this ran.
          if (plan.replay.status >= 400) clearRepresentationHeaders(response);
          subscriber.next(storedValue(plan.replay));
          subscriber.complete();
          return;
        }
        handling = next.handle().subscribe({
          // Once the handler's result is out, the writer stores it, even
          // when an outer `first()` tears this down before completion.
          next: (value) => {
            settled = true;
            subscriber.next(value);
          },
          error: (error: unknown) => {
            settled = true;
            void service
              .failed(plan, error)
              .then(() => subscriber.error(error));
          },
          complete: () => {
            settled = true;
            if (service.isHeadersSent(response)) void service.failed(plan);
            subscriber.complete();
          },
        });
      };
      started.then(
        () => {
          try {
            proceed();
          } catch (error) {
            subscriber.error(error);
          }
        },
        (error: unknown) => subscriber.error(error),
      );
      return () => {
        unsubscribed = true;
        // Torn down while the handler runs: an outer interceptor (a timeout)
        // answered first, and a promise's work goes on regardless.
        if (handling && !settled) service.abandon(plan);
        handling?.unsubscribe();
      };
    });
  }
}

export const IDEMPOTENCY_INTERCEPTOR = new IdempotencyInterceptor();
