type HttpRequest = {
  headers: Record<string, string | string[] | undefined>;
  socket?: { remoteAddress?: string };
  raw?: { socket?: { remoteAddress?: string } };
};

/**
 * The client's address for rate limiting. Behind `hops` trusted proxies it
 * is the entry `hops` from the right of `X-Forwarded-For` (each proxy
 * appends the address it saw), so a client cannot choose its bucket by
 * sending its own header; without trusted proxies the header is ignored.
 */
export function clientAddress(request: HttpRequest, hops: number): string {
  const socketAddress =
    request.socket?.remoteAddress ??
    request.raw?.socket?.remoteAddress ??
    'unknown';
  if (hops <= 0) return socketAddress;
  const header = request.headers['x-forwarded-for'];
  const entries = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  // The socket peer is the last proxy; each earlier hop is one entry further left.
  const chain = [...entries, socketAddress];
  return chain[Math.max(chain.length - 1 - hops, 0)];
}

/** `trustProxy` as a hop count: `true` is the nearest proxy (1), `false` or absent none. */
export function proxyHops(trust: boolean | number | undefined): number {
  if (trust === true) return 1;
  return typeof trust === 'number' ? Math.max(0, Math.floor(trust)) : 0;
}
