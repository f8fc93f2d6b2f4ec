import {
  createServer,
  request,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';

/** A reverse proxy listening on loopback, and a base URL to call it. */
export interface AppendingProxy {
  readonly baseUrl: string;
  close(): Promise<void>;
}

/**
 * A reverse proxy in front of `target` that behaves as the common ones do
 * (nginx with `$proxy_add_x_forwarded_for`, HAProxy, Traefik): it adds its
 * own line to `X-Forwarded-For`, `X-Forwarded-Host` and `X-Forwarded-Proto`
 * (or, with `family: 'forwarded'`, one `Forwarded` element with `for`,
 * `host` and `proto`), after any line of the same name it received, and
 * passes every other header of its client on untouched, that client's own
 * `Forwarded` or `X-Forwarded-*` included. `Host` becomes the target's
 * address, as nginx's default `proxy_set_header Host $proxy_host` does, so
 * a link built from `Host` shows that the forwarded one was not read.
 * `proto` is the scheme it reports: the TLS a real proxy would terminate.
 */
export async function startAppendingProxy(
  target: string,
  {
    family = 'x-forwarded',
    proto = 'https',
  }: { family?: 'x-forwarded' | 'forwarded'; proto?: string } = {},
): Promise<AppendingProxy> {
  const upstream = new URL(target);
  const server = createServer((incoming, outgoing) => {
    const headers = forwardedHeaders(incoming, family, proto);
    headers.host = upstream.host;
    const proxied = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers,
        agent: false,
      },
      (response) => {
        outgoing.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(outgoing);
      },
    );
    proxied.on('error', () => {
      outgoing.statusCode = 502;
      outgoing.end();
    });
    incoming.pipe(proxied);
  });
  await new Promise<void>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve()),
  );
  const { port } = server.address() as { port: number };
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The client's headers with this proxy's line appended to its family's, each as a header line of its own. */
function forwardedHeaders(
  incoming: IncomingMessage,
  family: 'x-forwarded' | 'forwarded',
  proto: string,
): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  const append = (name: string, value: string) => {
    const lines = headers[name];
    headers[name] =
      lines === undefined
        ? value
        : [...(Array.isArray(lines) ? lines : [String(lines)]), value];
  };
  // rawHeaders keeps the client's lines as they were sent, repeated names included.
  const raw = incoming.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (name !== 'host' && name !== 'connection') append(name, raw[i + 1]);
  }
  const client = incoming.socket.remoteAddress ?? 'unknown';
  const host = incoming.headers.host ?? '';
  if (family === 'forwarded') {
    append(
      'forwarded',
      `for="${client.includes(':') ? `[${client}]` : client}";host="${host}";proto=${proto}`,
    );
  } else {
    append('x-forwarded-for', client);
    append('x-forwarded-host', host);
    append('x-forwarded-proto', proto);
  }
  return headers;
}
