import type { HttpException, ValidationPipeOptions } from '@nestjs/common';
import type { ProblemException } from './problem/problem.exception';
import type { ProblemType } from './problem/problem-type';
import type { HalOptions } from './hal/hal.config';
import type { JwtAuthOptions } from './auth/auth-options.interface';
import type { HalThrottleOptions } from './throttle/throttle-options.interface';
import type { IdempotencyOptions } from './idempotency/idempotency-options.interface';
import type { OperationsOptions } from './operations/operations.service';

/** How a problem's `instance` member identifies the occurrence. */
export type ProblemInstanceStyle = 'request-path' | 'urn-uuid';

/** What an error mapper knows about the failed request. */
export interface ProblemErrorContext {
  readonly method: string;
  /** The request path, without the query string. */
  readonly path: string;
  readonly requestId: string;
}

/**
 * Turns an error the library does not know (an ORM error, a client library's
 * error) into an HTTP error. Return `undefined` to leave it to the defaults,
 * which answer 500 with a generic detail.
 */
export type ProblemErrorMapper = (
  error: unknown,
  context: ProblemErrorContext,
) => ProblemException | HttpException | undefined;

/** Options of the validation pipe the module installs globally. */
export type ProblemValidationOptions = Omit<
  ValidationPipeOptions,
  'exceptionFactory'
>;

/**
 * Options of {@link HalProblemModule}. Every option has a safe default, so
 * `HalProblemModule.forRoot()` with no options is a complete setup.
 */
export interface HalProblemModuleOptions {
  /**
   * Prefix of the `type` URI of problem types declared with a slug, e.g.
   * `https://api.example.com/problems/`. Must be an absolute URI.
   * Default: `urn:problem-type:`.
   */
  problemTypeBaseUri?: string;
  /** `instance` as the request path (default) or as a fresh `urn:uuid:`. */
  instance?: ProblemInstanceStyle;
  /** The request-id header, read when well-formed and always sent back. Default `X-Request-Id`. */
  requestIdHeader?: string;
  /**
   * The global validation pipe (class-validator). `true` (default) installs it
   * with `whitelist`, `forbidNonWhitelisted` and `transform`; an object
   * overrides those; `false` installs none.
   */
  validation?: boolean | ProblemValidationOptions;
  /**
   * Media types a request body may have (`type/subtype`, `type/*` or
   * `application/*+json`) unless a handler says otherwise with `@Consumes()`.
   * Default: JSON, `+json` types, form-urlencoded and multipart.
   */
  acceptedContentTypes?: readonly string[];
  /** The largest request body in bytes, reported in 413 problems when the parser does not say it. */
  bodyLimit?: number;
  /** Maps errors the library does not know to HTTP errors (e.g. ORM errors). */
  mapError?: ProblemErrorMapper;
  /** Problem types to list in the catalog besides those declared with `defineProblemType`. */
  problemTypes?: readonly ProblemType[];
  /** The HAL side: how links are written, extension relations, CURIEs. */
  hal?: HalOptions;
  /** Bearer JWT authentication (RFC 6750) with `@Public()` and `@Scopes()`. Off when absent. */
  auth?: JwtAuthOptions | false;
  /**
   * How the module's throttler guard behaves. The guard is installed when
   * `ThrottlerModule.forRoot(...)` is imported too (it holds the limits and
   * the storage); `false` leaves throttling to the app.
   */
  throttle?: HalThrottleOptions | false;
  /** Idempotent requests with `Idempotency-Key` (see `@Idempotent()`); the store is `IDEMPOTENCY_STORE`. */
  idempotency?: IdempotencyOptions;
  /** 202 operations: the lease that tells other instances a killed one's work will not finish. */
  operations?: OperationsOptions;
}
