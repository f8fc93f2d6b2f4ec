import { Injectable, type NestMiddleware } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ProblemConfig } from './problem.config';
import { ensureRequestId } from './request-id';

/**
 * Fixes the request id as early as Nest lets a module run, and sends it back
 * on every response, success or error. Errors raised before middleware runs
 * (body parsing on Express) get theirs from the exception filter.
 */
@Injectable()
export class RequestIdMiddleware implements NestMiddleware {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: ProblemConfig,
  ) {}

  use(
    request: { headers: Record<string, string | string[] | undefined> },
    response: unknown,
    next: () => void,
  ): void {
    const id = ensureRequestId(request, this.config.requestIdHeaderKey);
    this.adapterHost.httpAdapter.setHeader(
      response,
      this.config.requestIdHeader,
      id,
    );
    next();
  }
}
