import { NotFoundException } from '@nestjs/common';

type RequestReader = {
  getRequestMethod(request: object): string;
  getRequestUrl(request: object): string;
};

/** The message of the 404 the router raises for `request`. */
function routerMessage(adapter: RequestReader, request: object): string {
  return `Cannot ${adapter.getRequestMethod(request)} ${adapter.getRequestUrl(request)}`;
}

/**
 * The router's own "no route" 404, as Nest's RoutesResolver raises it from
 * the not-found handler it gives each platform: a plain
 * `NotFoundException(\`Cannot ${method} ${url}\`)`, method and URL read
 * through the same adapter. Only that one may become a 405 or an OPTIONS
 * answer: a NotFoundException the app threw (a middleware's "no such
 * tenant") is answered as thrown. Nothing else marks the router's (it has no
 * cause, and the ArgumentsHost of a middleware's error looks the same), and
 * its message is built from this very request, so an app's message matches
 * it only if the app copies it word for word.
 */
export function isRouterNotFound(
  exception: unknown,
  adapter: RequestReader,
  request: object,
): exception is NotFoundException {
  return (
    exception instanceof NotFoundException &&
    exception.message === routerMessage(adapter, request)
  );
}

/** The 404 the router would raise for `request`, for paths it never sees. */
export function routerNotFound(
  adapter: RequestReader,
  request: object,
): NotFoundException {
  return new NotFoundException(routerMessage(adapter, request));
}
