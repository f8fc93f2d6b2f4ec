import { HttpException } from '@nestjs/common';
import { genericDetail, isErrorStatus, reasonPhrase } from './http-status';
import type { ProblemFieldError } from './problem-details.interface';
import type { ProblemType } from './problem-type';

/** What an occurrence adds to its problem type. */
export interface ProblemExceptionOptions {
  /**
   * The human-readable explanation of this occurrence, sent as written, on a
   * 5xx too (a 503's "retry after the maintenance window"): never put an
   * error's message in it; pass the error as `cause`, which is logged.
   */
  detail?: string;
  /** Extension members sent beside the standard ones, as written (5xx included). */
  extensions?: Readonly<Record<string, unknown>>;
  /** The `errors` member: one entry per violated rule. */
  errors?: readonly ProblemFieldError[];
  /** Sent as a `Retry-After` header: seconds from now, or a date. */
  retryAfter?: number | Date;
  /**
   * Extra response headers, e.g. `WWW-Authenticate` or `Allow`. Framing and
   * hop-by-hop headers (`Content-Length`, `Transfer-Encoding`, `Connection`...),
   * `Content-Type` and the request id header are the module's: dropped.
   */
  headers?: Readonly<Record<string, string>>;
  /** The underlying error; logged on 5xx, never sent. */
  cause?: unknown;
}

/**
 * An error that is sent as a Problem Details document exactly as declared.
 * Throw it with a type declared by `defineProblemType`, or with a bare
 * status for `about:blank` problems.
 */
export class ProblemException extends HttpException {
  /** The declared type, or `undefined` for an `about:blank` problem. */
  readonly problemType: ProblemType | undefined;
  readonly detail: string;
  readonly extensions: Readonly<Record<string, unknown>>;
  readonly errors: readonly ProblemFieldError[] | undefined;
  readonly retryAfter: number | Date | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    type: ProblemType | number,
    options: ProblemExceptionOptions = {},
  ) {
    const status = typeof type === 'number' ? type : type.status;
    if (!isErrorStatus(status)) {
      throw new RangeError(
        `A problem needs a 4xx or 5xx status, got ${String(status)}`,
      );
    }
    const title = typeof type === 'number' ? reasonPhrase(status) : type.title;
    const detail = options.detail ?? genericDetail(status);
    // Nest-shaped response, so code that reads HttpException bodies still works.
    super({ statusCode: status, message: detail, error: title }, status, {
      cause: options.cause,
    });
    this.problemType = typeof type === 'number' ? undefined : type;
    this.detail = detail;
    this.extensions = options.extensions ?? {};
    this.errors = options.errors;
    this.retryAfter = options.retryAfter;
    this.headers = options.headers ?? {};
    this.name = 'ProblemException';
  }

  /** 501: the server does not support what the request needs. */
  static notImplemented(detail?: string): ProblemException {
    return new ProblemException(501, { detail });
  }

  /** 503 with `Retry-After`: the service is down for a while (maintenance, a store unreachable). */
  static serviceUnavailable(
    detail?: string,
    options: { retryAfter?: number | Date; cause?: unknown } = {},
  ): ProblemException {
    return new ProblemException(503, { detail, ...options });
  }
}

/** The problem thrown by the validation pipe: 400 with one `errors` entry per violation. */
export class ValidationProblemException extends ProblemException {
  constructor(errors: readonly ProblemFieldError[]) {
    super(400, { detail: 'Request failed validation', errors });
    this.name = 'ValidationProblemException';
  }
}
