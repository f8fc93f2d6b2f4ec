/** `scheme://authority` at the start of an absolute-form request target. */
const SCHEME_AND_AUTHORITY = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;

/**
 * The request target in origin form (`/path?query`), as links and
 * `instance` must show it. A client may send the absolute form
 * (`GET http://other.example/orders HTTP/1.1`, RFC 9112 §3.2.2): Express and
 * Fastify route it by its path, but report the whole target as the URL, so
 * its authority would become the `self` link, a page link or `instance`
 * (a link to a host the client chose, which a shared cache may keep). A
 * leading `//` (or `/\`, which URL parsers read the same) would make a
 * network-path reference, so it is one `/`.
 */
export function originForm(target: string): string {
  return normalized(asSent(target));
}

/** {@link originForm} without the percent-encoding normalization: the path as the platform routed it. */
function asSent(target: string): string {
  // The common case, checked without a regex: one leading slash, followed
  // by neither `/` nor `\` (which URL parsers read as `/`).
  const second = target.charCodeAt(1);
  if (target.charCodeAt(0) === 47 && second !== 47 && second !== 92)
    return asUri(target);
  const authority = SCHEME_AND_AUTHORITY.exec(target);
  const rest = authority ? target.slice(authority[0].length) : target;
  const path = rest.replace(/^[/\\]+/, '');
  return asUri(`/${path}`);
}

const HEX = '0123456789ABCDEF';

/** The value of a hex digit's char code, or -1. */
function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 65 && code <= 70) return code - 55;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

/** Unreserved (RFC 3986 §2.3) but `.`: decoded by {@link normalized}. */
function isDecoded(code: number): boolean {
  return (
    (code >= 97 && code <= 122) ||
    (code >= 65 && code <= 90) ||
    (code >= 48 && code <= 57) ||
    code === 45 ||
    code === 95 ||
    code === 126
  );
}

/**
 * The target with its percent-encodings normalized (RFC 3986 §6.2.2.1-2):
 * an encoded unreserved character decoded, the hex digits of the others in
 * upper case, a `%` that starts no escape encoded. `/%6frders` and `/orders` are one URI, and Fastify's router
 * serves both from one route: without this, one resource had two
 * `instance` values, two `self` links, and two idempotency scopes, so the
 * same key and body sent to both created two resources. `%2E` stays
 * encoded, so that no decoding makes a `.` or `..` segment that a client
 * resolving the link would remove. One pass of `charCodeAt`, copying only
 * where something changes: a regex with a callback per escape cost about
 * 0.4 µs each, so a 14 kB query of escapes cost milliseconds per request.
 */
function normalized(target: string): string {
  let at = target.indexOf('%');
  if (at === -1) return target;
  let out = '';
  let copied = 0;
  for (; at !== -1; at = target.indexOf('%', at)) {
    const first = target.charCodeAt(at + 1);
    const second = target.charCodeAt(at + 2);
    const high = hexValue(first);
    const low = hexValue(second);
    if (high === -1 || low === -1) {
      // A `%` that starts no escape is no URI character: encoded, so that
      // decoding what follows cannot make one (`%%34%31` is not `%41`).
      out += `${target.slice(copied, at)}%25`;
      copied = at += 1;
      continue;
    }
    const code = high * 16 + low;
    if (isDecoded(code)) {
      out += target.slice(copied, at) + String.fromCharCode(code);
      copied = at + 3;
    } else if (first >= 97 || second >= 97) {
      out += `${target.slice(copied, at)}%${HEX[high]}${HEX[low]}`;
      copied = at + 3;
    }
    at += 3;
  }
  return copied === 0 ? target : out + target.slice(copied);
}

/** A character a URI may not hold as it is (RFC 3986 §2): `{`, `|`, `"`, a space... */
const NOT_IN_URI = /[^A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]/;

/**
 * Whether a character code may stand in a URI as it is (RFC 3986 §2:
 * unreserved, reserved and `%`), by a table built once.
 */
const IN_URI = (() => {
  const table = new Uint8Array(128);
  const allowed =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%";
  for (let i = 0; i < allowed.length; i++) table[allowed.charCodeAt(i)] = 1;
  return table;
})();

/**
 * Node's parser lets `{`, `}`, `|`, `^` and bytes above 0x7f through in a
 * request target, so a `self` link or `instance` copied from it would be no
 * URI (and `{...}` would read as a template). They are percent-encoded, byte
 * for byte: Node hands the target over as Latin-1, one character per byte.
 * One pass, copying only around what it encodes (as {@link normalized}).
 */
function asUri(target: string): string {
  // Nearly every target: one native regex scan, no copy.
  if (!NOT_IN_URI.test(target)) return target;
  let out = '';
  let copied = 0;
  for (let i = 0; i < target.length; i++) {
    const code = target.charCodeAt(i);
    if (code < 128 && IN_URI[code] === 1) continue;
    out += target.slice(copied, i);
    out +=
      code < 0x100
        ? `%${HEX[code >> 4]}${HEX[code & 15]}`
        : encodeURIComponent(target[i]);
    copied = i + 1;
  }
  return copied === 0 ? target : out + target.slice(copied);
}

/** A request target's path, without its query (which may carry a token). */
export function pathOf(target: string): string {
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}

/**
 * The request's target in origin form, as the HTTP adapter reports its URL:
 * what links, `instance` and idempotency records are built from.
 */
export function requestTarget(
  adapter: { getRequestUrl(request: object): string | undefined },
  request: object,
): string {
  return originForm(String(adapter.getRequestUrl(request) ?? '/'));
}

/**
 * The request's path as the platform routed it: in origin form, but its
 * percent-encodings as sent. Express's router does not decode `/%74hings`
 * and Fastify's does, so which methods a path serves is asked with this.
 * Unlike {@link originForm}, a leading `//` or `/\` stays: neither router
 * serves `//things` from `/things`, so it must not answer 405 there. The
 * path ends at `?` or `#`: Node lets a fragment through, and both routers
 * (parseurl, find-my-way) cut it off before matching.
 */
export function routedPath(
  adapter: { getRequestUrl(request: object): string | undefined },
  request: object,
): string {
  const url = String(adapter.getRequestUrl(request) ?? '/');
  const authority =
    url.charCodeAt(0) === 47 ? null : SCHEME_AND_AUTHORITY.exec(url);
  const rest = authority ? url.slice(authority[0].length) : url;
  const end = rest.search(/[?#]/);
  const path = end === -1 ? rest : rest.slice(0, end);
  return asUri(path.charCodeAt(0) === 47 ? path : `/${path}`);
}
