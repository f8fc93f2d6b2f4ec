import { constants } from 'node:http2';

/** The part of node:http2's `Http2Stream` the module uses. */
interface RequestStream {
  /** The client's HEADERS frame ended the stream: the request has no content. */
  readonly endAfterHeaders: boolean;
  readonly closed: boolean;
  close(code: number): unknown;
}

type NodeRequest = { stream?: unknown; raw?: { stream?: unknown } };

/**
 * The HTTP/2 stream a request came on; undefined over HTTP/1.x. Read by
 * feature, not by platform: node:http2's compatibility request has
 * `stream` (documented), an HTTP/1 request has none. Express's request is
 * Node's own (it cannot serve HTTP/2 anyway); Fastify's wraps it as `raw`,
 * its documented field for Node's request. Nest's HTTP adapter exposes no
 * HTTP version, and what HTTP/2 changes here (a body without
 * `Content-Length`, one stream of a shared connection) needs the stream.
 */
export function http2StreamOf(request: unknown): RequestStream | undefined {
  const node = request as NodeRequest | null | undefined;
  const stream = (node?.raw ?? node)?.stream as
    Partial<RequestStream> | null | undefined;
  return typeof stream?.endAfterHeaders === 'boolean' &&
    typeof stream.close === 'function'
    ? (stream as RequestStream)
    : undefined;
}

/**
 * Whether a request has content (RFC 9110 §6.4.1): HTTP/1.1 announces it
 * with `Transfer-Encoding` or a non-zero `Content-Length`; HTTP/2 needs
 * neither (RFC 9113 §8.1), and a client may send no `Content-Length`
 * there (Node's own client, a browser's streamed upload): the content is
 * whatever DATA frames follow HEADERS that did not end the stream.
 */
export function hasContent(
  request: unknown,
  headers: Record<string, string | string[] | undefined>,
): boolean {
  const length = headers['content-length'];
  if (headers['transfer-encoding'] !== undefined) return true;
  if (length !== undefined) return length !== '0';
  return http2StreamOf(request)?.endAfterHeaders === false;
}

/**
 * Ends an HTTP/2 response whose headers went out before it failed, and
 * reports whether it did (false over HTTP/1.x). Only its stream is reset:
 * the request's `socket` is the whole connection's, shared by other
 * clients' streams, and node:http2 maps `socket.end()` to ending the
 * stream normally (END_STREAM), so a cut body looked whole. INTERNAL_ERROR
 * (RFC 9113 §7), not NO_ERROR, which clients read as the end of a whole
 * response.
 */
export function resetHttp2Stream(request: unknown): boolean {
  const stream = http2StreamOf(request);
  if (!stream) return false;
  if (!stream.closed) stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  return true;
}
