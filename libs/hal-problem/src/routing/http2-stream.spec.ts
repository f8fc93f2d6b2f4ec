import { constants } from 'node:http2';
import { hasContent, http2StreamOf, resetHttp2Stream } from './http2-stream';

/** node:http2's compat request, as Node hands it over: its stream attached. */
const http2Request = (endAfterHeaders: boolean) => ({
  stream: { endAfterHeaders, closed: false, close: jest.fn() },
});

describe('http2StreamOf', () => {
  it("finds the stream on Node's HTTP/2 request and on one wrapped as raw", () => {
    const node = http2Request(true);
    expect(http2StreamOf(node)).toBe(node.stream);
    expect(http2StreamOf({ raw: node })).toBe(node.stream);
  });

  it('finds none on an HTTP/1 request, or on something else called stream', () => {
    expect(http2StreamOf({ headers: {} })).toBeUndefined();
    expect(http2StreamOf({ raw: { headers: {} } })).toBeUndefined();
    expect(http2StreamOf({ stream: 'x' })).toBeUndefined();
    expect(http2StreamOf(undefined)).toBeUndefined();
  });
});

describe('hasContent', () => {
  it('reads HTTP/1.1 framing: Transfer-Encoding or a non-zero Content-Length', () => {
    expect(hasContent({}, { 'transfer-encoding': 'chunked' })).toBe(true);
    expect(hasContent({}, { 'content-length': '3' })).toBe(true);
    expect(hasContent({}, { 'content-length': '0' })).toBe(false);
    expect(hasContent({}, {})).toBe(false);
  });

  it('reads an HTTP/2 request without Content-Length from its stream', () => {
    expect(hasContent(http2Request(false), {})).toBe(true);
    expect(hasContent({ raw: http2Request(false) }, {})).toBe(true);
    expect(hasContent(http2Request(true), {})).toBe(false);
    // A Content-Length the client sent anyway is read as over HTTP/1.1.
    expect(hasContent(http2Request(false), { 'content-length': '0' })).toBe(
      false,
    );
  });
});

describe('resetHttp2Stream', () => {
  it('resets an open HTTP/2 stream with INTERNAL_ERROR, once', () => {
    const request = http2Request(false);
    expect(resetHttp2Stream({ raw: request })).toBe(true);
    expect(request.stream.close).toHaveBeenCalledWith(
      constants.NGHTTP2_INTERNAL_ERROR,
    );
    const closed = {
      stream: { endAfterHeaders: false, closed: true, close: jest.fn() },
    };
    expect(resetHttp2Stream(closed)).toBe(true);
    expect(closed.stream.close).not.toHaveBeenCalled();
  });

  it('leaves an HTTP/1 request to its caller', () => {
    expect(resetHttp2Stream({ headers: {} })).toBe(false);
  });
});
