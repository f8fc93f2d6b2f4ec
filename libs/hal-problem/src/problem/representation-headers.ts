/**
 * Headers that describe the success representation a handler meant to send,
 * or how to cache it: set before the handler ran (`@Header()`, which Nest
 * applies first) or while it rendered, they are false on a problem. With
 * `Cache-Control`/`Expires` a shared cache may store a 500 and serve it as
 * fresh (RFC 9111 §3, §4.2.1, §5.2, §5.3); `ETag`/`Last-Modified` would
 * validate the problem as the success representation (RFC 9110 §8.8);
 * `Location` (§10.2.2), `Content-Location` (§8.7), `Content-Range` (§14.4),
 * `Content-Language` (§8.5) and `Content-Disposition` (RFC 6266) describe a
 * resource or a body that the problem is not. `Content-Encoding` (§8.4)
 * would have the client decode the problem's plain JSON as, say, gzip, and
 * fail; `Content-Digest`, `Repr-Digest` (RFC 9530) and `Digest` (RFC 3230)
 * are checksums of the success body. Targeted cache-control fields
 * (RFC 9213: `CDN-Cache-Control`, or a CDN's own `<Target>-Cache-Control`)
 * and `Surrogate-Control` (W3C Edge Architecture, read by Fastly, Akamai
 * and Varnish) are `Cache-Control` for those caches, which then ignore the
 * plain one: left on a 500, a CDN serves it as fresh, whatever `no-store`
 * the problem says. Everything else stays: CORS, `Set-Cookie`, `Vary`, the
 * request id, rate limits, `Retry-After`, `WWW-Authenticate`, `Allow`.
 */
export const REPRESENTATION_HEADERS: readonly string[] = [
  'cache-control',
  'cdn-cache-control',
  'surrogate-control',
  'expires',
  'etag',
  'last-modified',
  'content-disposition',
  'content-location',
  'location',
  'content-range',
  'content-language',
  'content-encoding',
  'content-digest',
  'repr-digest',
  'digest',
];

const REPRESENTATION = new Set(REPRESENTATION_HEADERS);

/** A targeted field of a named cache (`Cloudflare-CDN-Cache-Control`), by RFC 9213's naming. */
const TARGETED_CACHE_CONTROL = '-cache-control';

function isRepresentationHeader(name: string): boolean {
  return REPRESENTATION.has(name) || name.endsWith(TARGETED_CACHE_CONTROL);
}

type HeaderEditor = {
  getHeaders(): Record<string, unknown>;
  removeHeader(name: string): unknown;
};

/**
 * Removes {@link REPRESENTATION_HEADERS} from a response about to carry a
 * problem; call it only while its headers are unsent. Nest's HTTP adapter
 * has no way to remove a header, but Node's response (Express) and
 * Fastify's reply both have `getHeaders()` (lower-case names) and
 * `removeHeader(name)`: called structurally, so no platform is asked for by
 * name. The headers set are read once and only those present removed: a
 * problem seldom has any, and a `removeHeader` call per name (nine then), each lower-casing
 * its name (twice on Fastify), cost about 9k instructions per problem
 * (`npm run bench:profile`, Fastify 404).
 */
export function clearRepresentationHeaders(response: unknown): void {
  const editor = response as Partial<HeaderEditor> | null | undefined;
  if (
    typeof editor?.getHeaders !== 'function' ||
    typeof editor.removeHeader !== 'function'
  )
    return;
  const present = (editor as HeaderEditor).getHeaders();
  for (const name in present)
    if (isRepresentationHeader(name))
      (editor as HeaderEditor).removeHeader(name);
}
