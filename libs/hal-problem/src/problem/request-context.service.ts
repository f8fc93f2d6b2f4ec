import { type ExecutionContext, Injectable } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { Consumes } from './consumes.decorator';
import { shortened } from './echoed-text';
import {
  compileMediaTypes,
  essence,
  type MediaTypeMatcher,
} from './media-type';
import { ProblemConfig } from './problem.config';
import { ensureRequestId } from './request-id';
import { clientProblem } from './without-stack';
import { hasContent } from '../routing/http2-stream';
import { perHandler } from '../routing/per-handler-cache';

type HttpRequest = { headers: Record<string, string | string[] | undefined> };

/**
 * Fixes the request id and sends it back (errors raised earlier get theirs
 * from the exception filter), and answers 415 when a request carries a body
 * in a media type the route does not take. Part of the module's last guard
 * (`HalProblemGuard`) rather than a middleware: Nest middleware costs a full
 * extra pass per request on Fastify (middie).
 *
 * The media-type check: Express's body parsers silently skip such bodies (the
 * handler would see no body at all); Fastify rejects unknown types itself,
 * and this adds the per-route `@Consumes()` on top. Runs after the module's
 * rate limit and authentication, so a client without a token learns nothing
 * about a route's media types; guards of a controller or route run later.
 */
@Injectable()
export class RequestContextService {
  private readonly defaultMatcher: MediaTypeMatcher;

  constructor(
    private readonly reflector: Reflector,
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: ProblemConfig,
  ) {
    this.defaultMatcher = compileMediaTypes(config.acceptedContentTypes);
  }

  /** The request-context step of an HTTP request; gives the request id. */
  prepare(context: ExecutionContext): string {
    const http = context.switchToHttp();
    const request = http.getRequest<HttpRequest>();
    const id = ensureRequestId(request, this.config.requestIdHeaderKey);
    this.adapterHost.httpAdapter.setHeader(
      http.getResponse(),
      this.config.requestIdHeader,
      id,
    );
    const { headers } = request;
    if (hasContent(request, headers)) {
      const contentType =
        typeof headers['content-type'] === 'string'
          ? essence(headers['content-type'])
          : '';
      if (!(this.matcherFor(context) ?? this.defaultMatcher)(contentType)) {
        throw clientProblem(415, {
          detail: contentType
            ? `The media type ${shortened(contentType)} is not accepted here.`
            : 'The request has a body but no Content-Type.',
        });
      }
    }
    return id;
  }

  /** The route's own `@Consumes()` matcher, compiled on its first request. */
  private readonly matcherFor = perHandler((targets) => {
    const declared = this.reflector.getAllAndOverride(Consumes, targets);
    return declared ? compileMediaTypes(declared) : undefined;
  });
}
