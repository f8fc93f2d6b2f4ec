import type { HandlerPlan } from '../hal/hal.renderer';
import type { StoredResponse } from '../idempotency/idempotency-store.interface';
import type { IdempotencyService } from '../idempotency/idempotency.service';
import type { ProblemResponse } from '../problem/problem.mapper';

/** The parts of a request the response steps read, on Express and Fastify alike. */
export interface PlannedRequest {
  readonly method?: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly params?: Record<string, string>;
  readonly query?: Record<string, unknown>;
  readonly body?: unknown;
  readonly user?: unknown;
}

/** An idempotent request whose key is locked until its outcome is stored. */
export interface PendingIdempotency {
  /** Stores what was sent, for replays. Never rejects. */
  complete(response: StoredResponse): Promise<void>;
  /** Releases the key, or stores a 5xx when configured to. Never rejects. */
  fail(problem: ProblemResponse): Promise<void>;
  /** Releases the key: there is nothing whole to replay. Never rejects. */
  release(): Promise<void>;
}

/**
 * What the module's guard worked out for one request, read when the handler's
 * result is sent (`HalResponseWriter`) or when it fails (the exception
 * filter). Whichever comes first takes it, so it is used once.
 */
export interface ResponsePlan {
  /** The request id, fixed by the guard (no need to check it again). */
  readonly requestId: string;
  readonly handler: HandlerPlan;
  readonly request: PlannedRequest;
  /**
   * The `Content-Type` the response had when the guard ran (an app's
   * middleware may set one on every response): not the handler's choice.
   */
  readonly contentTypeBefore: unknown;
  /** The app's idempotency service, for the route-scoped interceptor. */
  readonly idempotencyService: IdempotencyService;
  /** Set by the idempotency interceptor once it holds the key's lock. */
  idempotency?: PendingIdempotency;
  /** Set by the idempotency interceptor: send this stored response instead. */
  replay?: StoredResponse;
}

/**
 * Keyed by the platform's response object, so a plan lives exactly as long as
 * its response and needs no cleanup, and apps in one process never share one.
 * A symbol-keyed property on the response instead was measured (instructions
 * per request for a resource, V8 `--predictable`): 0.6% fewer on Fastify,
 * 14% more on Express (720.8k -> 824.4k), whose `ServerResponse` it reshapes.
 */
const plans = new WeakMap<object, ResponsePlan>();

export function attachResponsePlan(response: object, plan: ResponsePlan): void {
  plans.set(response, plan);
}

/** The plan of a response still being prepared (the handler has not answered yet). */
export function peekResponsePlan(response: object): ResponsePlan | undefined {
  return plans.get(response);
}

/** The plan of a response about to be written; later writes see none. */
export function takeResponsePlan(response: object): ResponsePlan | undefined {
  const plan = plans.get(response);
  if (plan) plans.delete(response);
  return plan;
}
