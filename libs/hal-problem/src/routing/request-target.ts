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
  // The common case, checked without a regex: one leading slash, followed
  // by neither `/` nor `\` (which URL parsers read as `/`).
  const second = target.charCodeAt(1);
  if (target.charCodeAt(0) === 47 && second !== 47 && second !== 92)
    return normalized(asUri(target));
  const authority = SCHEME_AND_AUTHORITY.exec(target);
  const rest = authority ? target.slice(authority[0].length) : target;
  const path = rest.replace(/^[/\\]+/, '');
  return normalized(asUri(`/${path}`));
}

const PERCENT_ENCODED = /%([0-9A-Fa-f]{2})/g;
/** Unreserved characters (RFC 3986 §2.3) but `.`, by code. */
const DECODED = /[A-Za-z0-9_~-]/;

/**
 * The target with its percent-encodings normalized (RFC 3986 §6.2.2.1-2):
 * an encoded unreserved character decoded, the hex digits of the others in
 * upper case. `/%6frders` and `/orders` are one URI, and Fastify's router
 * serves both from one route: without this, one resource had two
 * `instance` values, two `self` links, and two idempotency scopes, so the
 * same key and body sent to both created two resources. `%2E` stays
 * encoded, so that no decoding makes a `.` or `..` segment that a client
 * resolving the link would remove.
 */
function normalized(target: string): string {
  if (target.indexOf('%') === -1) return target;
  return target.replace(PERCENT_ENCODED, (encoded, hex: string) => {
    const character = String.fromCharCode(parseInt(hex, 16));
    return DECODED.test(character) ? character : encoded.toUpperCase();
  });
}

/** Characters a URI may not hold as they are (RFC 3986 §2): `{`, `|`, `"`, a space... */
const NOT_IN_URI = /[^A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]/;
const EACH_NOT_IN_URI = new RegExp(NOT_IN_URI.source, 'g');

/**
 * Node's parser lets `{`, `}`, `|`, `^` and bytes above 0x7f through in a
 * request target, so a `self` link or `instance` copied from it would be no
 * URI (and `{...}` would read as a template). They are percent-encoded, byte
 * for byte: Node hands the target over as Latin-1, one character per byte.
 */
function asUri(target: string): string {
  if (!NOT_IN_URI.test(target)) return target;
  return target.replace(EACH_NOT_IN_URI, (character) => {
    const code = character.charCodeAt(0);
    return code < 0x100
      ? `%${code.toString(16).toUpperCase().padStart(2, '0')}`
      : encodeURIComponent(character);
  });
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
