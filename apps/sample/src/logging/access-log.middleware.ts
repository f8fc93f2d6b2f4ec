import { Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import { ensureRequestId } from 'nestjs-hal-problem';

/** The scheme and authority of a request target in absolute form. */
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;

type NodeRequest = {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
};
type NodeResponse = {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  once(event: 'finish', listener: () => void): unknown;
};

/**
 * One log line per request, with the request id the client receives, so a
 * support request quoting `X-Request-Id` leads to its line. The id is fixed
 * here first (the library's `ensureRequestId`), and the module reuses it.
 * It is also sent from here, for what the module's guard never sees: the
 * Swagger UI and document, which are not Nest routes.
 */
@Injectable()
export class AccessLogMiddleware implements NestMiddleware {
  private readonly logger = new Logger('HTTP');

  use(request: NodeRequest, response: NodeResponse, next: () => void): void {
    const started = process.hrtime.bigint();
    const id = ensureRequestId(request, 'x-request-id');
    response.setHeader('X-Request-Id', id);
    response.once('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      // A request in absolute form (`GET http://user:pass@host/path`) names
      // a host and maybe credentials: the line names the path the platform
      // routed, as the module's own lines do, never the query.
      const path =
        (request.url ?? '/').replace(ABSOLUTE_FORM, '').split('?')[0] || '/';
      this.logger.log(
        `${request.method} ${path} ${response.statusCode} ${ms.toFixed(1)}ms requestId=${id}`,
      );
    });
    next();
  }
}
