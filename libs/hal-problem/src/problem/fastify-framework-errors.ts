import {
  type ArgumentsHost,
  HttpException,
  type HttpStatus,
} from '@nestjs/common';

type Answer = (error: Error, request: object, reply: object) => void;

/** Each app's Fastify instance → its problem filter, once the module is up. */
const answers = new WeakMap<object, Answer>();

/** Called by the module's filter at bootstrap with the app's HTTP server instance. */
export function answerFrameworkErrorsOf(
  instance: object,
  answer: Answer,
): void {
  answers.set(instance, answer);
}

/** An `ArgumentsHost` for a request the router refused before Nest saw it. */
export function frameworkErrorHost(
  request: object,
  reply: object,
): ArgumentsHost {
  const args = [request, reply];
  const unsupported = (): never => {
    throw new Error('Only an HTTP context exists for a framework error');
  };
  return {
    getArgs: <T extends unknown[]>() => args as T,
    getArgByIndex: <T>(index: number) => args[index] as T,
    getType: <T extends string>() => 'http' as T,
    switchToHttp: () =>
      ({
        getRequest: () => request,
        getResponse: () => reply,
        getNext: () => undefined,
      }) as ReturnType<ArgumentsHost['switchToHttp']>,
    switchToRpc: unsupported,
    switchToWs: unsupported,
  };
}

/** The error the router raised, as Nest would wrap a platform error. */
export function frameworkException(
  error: Error & { statusCode?: number },
): HttpException {
  const status = (error.statusCode ?? 400) as HttpStatus;
  return new HttpException(error.message, status, { cause: error });
}

/**
 * Fastify's router answers two errors itself, before any hook or Nest
 * handler: a path that is not valid percent-encoding (`FST_ERR_BAD_URL`,
 * 400) and a route parameter over `maxParamLength` (`FST_ERR_MAX_PARAM_LENGTH`,
 * 414). Its `frameworkErrors` option is the only way in, and it is read
 * when the instance is created, before the app (and this module) exist; so
 * this function finds the app's problem filter by the request's server when
 * the error happens. Until the app is up, Fastify answers as it would.
 *
 *   new FastifyAdapter({ frameworkErrors: problemFrameworkErrors })
 */
export function problemFrameworkErrors(
  error: Error,
  request: { server?: object },
  // Typed structurally: the library does not depend on Fastify's types.
  reply: object,
): void {
  const answer = request.server ? answers.get(request.server) : undefined;
  if (answer) answer(error, request, reply);
  else (reply as { send(payload: unknown): unknown }).send(error);
}
