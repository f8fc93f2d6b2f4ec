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
    return target;
  const authority = SCHEME_AND_AUTHORITY.exec(target);
  const rest = authority ? target.slice(authority[0].length) : target;
  const path = rest.replace(/^[/\\]+/, '');
  return `/${path}`;
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
