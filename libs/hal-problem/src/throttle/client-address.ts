import ipaddr from 'ipaddr.js';
import { isIPv4 } from 'node:net';

type HttpRequest = {
  headers: Record<string, string | string[] | undefined>;
  socket?: { remoteAddress?: string };
  raw?: { socket?: { remoteAddress?: string } };
};

/**
 * The `for` of each element of a `Forwarded` header (RFC 7239), in order:
 * quotes, an IPv6 address's brackets and a port removed; `unknown` where
 * an element names none or is malformed. Elements are split on every comma
 * before anything is unquoted: no node value holds a comma, and a quote a
 * client leaves open must not swallow the elements proxies append after
 * its own (`for="[203.0.113.9], for=<real>` would otherwise read as the
 * client's choice).
 */
export function forwardedFor(header: string | string[] | undefined): string[] {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  const nodes: string[] = [];
  for (const element of text.split(',')) {
    if (element.trim() === '') continue;
    let node: string | undefined;
    for (const pair of element.split(';')) {
      const equals = pair.indexOf('=');
      if (equals < 0 || pair.slice(0, equals).trim().toLowerCase() !== 'for')
        continue;
      node = unquote(pair.slice(equals + 1).trim());
    }
    nodes.push((node && nodeAddress(node)) || 'unknown');
  }
  return nodes;
}

/** A token, or a whole quoted-string with its escapes undone; undefined if malformed. */
export function unquote(value: string): string | undefined {
  if (!value.startsWith('"')) return value.includes('"') ? undefined : value;
  if (value.length < 2 || !value.endsWith('"')) return undefined;
  const inner = value.slice(1, -1);
  let result = '';
  for (let i = 0; i < inner.length; i++) {
    const char = inner[i];
    if (char === '"') return undefined;
    if (char === '\\') {
      if (i + 1 >= inner.length) return undefined;
      result += inner[++i];
    } else result += char;
  }
  return result;
}

/** `[2001:db8::1]:4711` → `2001:db8::1`, `192.0.2.43:80` → `192.0.2.43`. */
function nodeAddress(node: string): string {
  if (node.startsWith('[')) {
    const end = node.indexOf(']');
    return end > 0 ? node.slice(1, end) : node;
  }
  const colon = node.indexOf(':');
  return colon >= 0 && colon === node.lastIndexOf(':')
    ? node.slice(0, colon)
    : node;
}

/**
 * The client's address for rate limiting. Behind `hops` trusted proxies it
 * is the entry `hops` from the right of `X-Forwarded-For` (each proxy
 * appends the address it saw), so a client cannot choose its bucket by
 * sending its own header; without trusted proxies the header is ignored.
 * Without `X-Forwarded-For`, the `for` entries of `Forwarded` (RFC 7239)
 * count the same way. `X-Forwarded-For` comes first because the common
 * proxies append to it and pass a client's own `Forwarded` on untouched:
 * read first, that header would let a client choose its bucket.
 */
export function clientAddress(request: HttpRequest, hops: number): string {
  const socketAddress =
    request.socket?.remoteAddress ??
    request.raw?.socket?.remoteAddress ??
    'unknown';
  if (hops <= 0) return socketAddress;
  const header = request.headers['x-forwarded-for'];
  let entries = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((entry) => nodeAddress(entry.trim()))
    .filter(Boolean);
  if (header === undefined) entries = forwardedFor(request.headers.forwarded);
  // The socket peer is the last proxy; each earlier hop is one entry further left.
  const chain = [...entries, socketAddress];
  return chain[Math.max(chain.length - 1 - hops, 0)];
}

/**
 * The rate-limit bucket of an address: an IPv4 address (an IPv4-mapped
 * IPv6 one included) as it is, an IPv6 address as its network of
 * `ipv6Prefix` bits (`2001:db8:1:2::/64`), since one host is usually given a
 * whole /64 and could otherwise take a fresh bucket per address, as
 * `@nestjs/throttler`'s own tracker does with `ipv6SubnetPrefix`. Anything
 * else (`unknown`, an obfuscated `Forwarded` node) is its own bucket.
 */
export function addressBucket(address: string, ipv6Prefix = 64): string {
  // The common case first: node:net's check is ~30 ns, parsing ~1.5 µs
  // (a loop of 1M on Node 20), and this runs on every anonymous request.
  if (isIPv4(address)) return address;
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const prefix = Number.isFinite(ipv6Prefix)
    ? Math.min(Math.max(Math.trunc(ipv6Prefix), 0), 128)
    : 64;
  const network = ipaddr.IPv6.networkAddressFromCIDR(
    `${(parsed as ipaddr.IPv6).toString().replace(/%.*$/, '')}/${prefix}`,
  );
  return `${network.toString()}/${prefix}`;
}

/**
 * A `trustProxy` option, checked at start: a boolean or a whole number of
 * proxies from 0 (absent: false). Anything else fails the start: `'true'`
 * read from an environment variable silently trusted no proxy (every
 * client behind it shared one bucket), and `NaN` made no address at all.
 */
export function checkedTrustProxy(
  option: string,
  trust: unknown,
): boolean | number {
  if (trust === undefined || trust === null) return false;
  if (
    typeof trust === 'boolean' ||
    (typeof trust === 'number' && Number.isSafeInteger(trust) && trust >= 0)
  )
    return trust;
  throw new Error(
    `HalProblemModule: ${option} must be true, false or the number of proxies in front of the app (a whole number from 0), got ${
      typeof trust === 'string'
        ? `"${trust}"`
        : typeof trust === 'number'
          ? String(trust)
          : typeof trust
    }`,
  );
}

/** `throttle.trustProxy` as a hop count: `true` is the nearest proxy (1), `false` or absent none. */
export function proxyHops(trust: unknown): number {
  const checked = checkedTrustProxy('throttle.trustProxy', trust);
  return checked === true ? 1 : checked === false ? 0 : checked;
}
