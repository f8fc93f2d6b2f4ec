import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProblemInstanceStyle } from '../hal-problem-module-options.interface';
import { originForm, pathOf } from '../routing/request-target';
import { reasonPhrase } from './http-status';
import { DEFAULT_REQUEST_ID_HEADER } from './problem.config';
import { ensureRequestId } from './request-id';

/** The part of a `net.Socket` a client error is answered on. */
interface ClientSocket {
  readonly writable: boolean;
  readonly destroyed: boolean;
  readonly server?: object | null;
  /** The response Node is writing on this connection, if any. */
  readonly _httpMessage?: { readonly headersSent?: boolean } | null;
  write(data: string): unknown;
  destroy(error?: Error): unknown;
}

/** Each app's Node HTTP server → the request id header it sends. */
const headers = new WeakMap<object, string>();

/**
 * Called by the module's filter at bootstrap with the app's Node server.
 * Where nothing answers Node's client errors yet (Express: Node's default
 * writes a bare 400 with no body), the module answers them from now on, and
 * unknown expectations (a bare 417 otherwise) on either platform.
 */
export function answerClientErrorsOf(
  server: EventEmitter,
  requestIdHeader: string,
  instanceStyle: ProblemInstanceStyle = 'request-path',
): void {
  headers.set(server, requestIdHeader);
  if (server.listenerCount('clientError') === 0)
    server.on('clientError', problemClientErrors);
  // Node answers an unknown expectation with a bare 417 unless the server
  // listens for it (both platforms' servers are Node's, and neither does).
  if (server.listenerCount('checkExpectation') === 0)
    server.on(
      'checkExpectation',
      (request: IncomingMessage, response: ServerResponse) =>
        answerFailedExpectation(
          request,
          response,
          requestIdHeader,
          instanceStyle,
        ),
    );
}

/**
 * A request whose `Expect` is anything but `100-continue`: RFC 9110
 * §10.1.1 lets a server answer 417, and Node does so before any framework
 * sees the request (no route, guard or filter runs), so the problem is
 * written here. Its path is known, unlike a parser refusal's. Its `instance`
 * is what the filter would write: the path without the query (which may
 * carry a token, RFC 6750 §2.3), or a fresh `urn:uuid:`.
 */
function answerFailedExpectation(
  request: IncomingMessage,
  response: ServerResponse,
  requestIdHeader: string,
  instanceStyle: ProblemInstanceStyle,
): void {
  const id = ensureRequestId(request, requestIdHeader.toLowerCase());
  const body = problemText(
    417,
    'The only expectation this server meets is 100-continue.',
    instanceStyle === 'urn-uuid'
      ? `urn:uuid:${randomUUID()}`
      : pathOf(originForm(request.url ?? '/')),
    id,
  );
  // Node drops the body of a response to HEAD; its length is still right.
  response.writeHead(417, {
    'Content-Type': 'application/problem+json',
    'Content-Length': Buffer.byteLength(body),
    [requestIdHeader]: id,
  });
  response.end(body);
}

/** The problem document written here, below any framework: `about:blank` with its status's title. */
function problemText(
  status: number,
  detail: string | undefined,
  instance: string,
  requestId: string,
): string {
  return JSON.stringify({
    type: 'about:blank',
    title: reasonPhrase(status),
    status,
    detail,
    instance,
    requestId,
  });
}

/** Node's parser error codes → the status RFC 9110 gives them. */
function statusOf(code: string | undefined): number {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return 431;
    // RFC 9110 §9.1: an unrecognized method is a 501, not a malformed request.
    case 'HPE_INVALID_METHOD':
      return 501;
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 413;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 408;
    default:
      return 400;
  }
}

const DETAILS: Readonly<Record<number, string>> = {
  400: 'The request is not well-formed HTTP.',
  408: 'The request was not received in time.',
  413: 'The request has chunk extensions larger than the server accepts.',
  431: 'The request line and headers are larger than the server accepts.',
  501: 'The request method is not one this server recognizes.',
};

/**
 * Answers a request Node's HTTP parser refused before any framework saw it
 * (a malformed request line, an unknown method, headers over
 * `maxHeaderSize`, a request timeout) with a problem document and a new
 * request id, then closes the connection, as Node's default does. The path
 * is unknown, so `instance` names the occurrence (`urn:uuid:` + the id).
 *
 * Express apps get it from the module at bootstrap. On Fastify, which
 * answers these with its own JSON, pass it when creating the adapter:
 *
 *   new FastifyAdapter({ clientErrorHandler: problemClientErrors })
 */
export function problemClientErrors(
  error: Error & { code?: string },
  socket: ClientSocket,
): void {
  // A reset connection has nobody to answer (Node's and Fastify's rule).
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  // Node's own rule too: a response already under way on this connection
  // (a pipelined request refused mid-stream) must not get a second one
  // written into its body. Read as Node's default handler reads it.
  if (!socket.writable || socket._httpMessage?.headersSent === true) {
    socket.destroy(error);
    return;
  }
  const status = statusOf(error.code);
  const title = reasonPhrase(status);
  const id = randomUUID();
  const body = problemText(status, DETAILS[status], `urn:uuid:${id}`, id);
  const header =
    (socket.server ? headers.get(socket.server) : undefined) ??
    DEFAULT_REQUEST_ID_HEADER;
  // Written, then the connection closed, as Node's own answer does.
  socket.write(
    `HTTP/1.1 ${status} ${title}\r\n` +
      'Content-Type: application/problem+json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `${header}: ${id}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
  socket.destroy();
}
