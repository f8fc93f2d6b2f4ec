import { HalConfig } from './hal.config';

const request = (headers: Record<string, string>, encrypted = false) => ({
  headers,
  socket: { encrypted },
});

describe('HalConfig', () => {
  describe('relations', () => {
    const config = new HalConfig({
      hal: {
        relations: ['orders'],
        curies: [{ name: 'acme', href: 'https://docs.test/{rel}' }],
      },
    });

    it.each([
      'self',
      'next',
      'collection',
      'orders',
      'acme:widgets',
      'https://rels.test/thing',
      'result',
    ])('accepts %s', (rel) =>
      expect(() => config.assertRelation(rel, 'X')).not.toThrow(),
    );

    it.each(['frobnicate', 'other:widgets', 'Self '])(
      'refuses %s with a clear message',
      (rel) => {
        expect(() => config.assertRelation(rel, 'Where.here')).toThrow(
          /on Where\.here/,
        );
      },
    );
  });

  describe('base URLs', () => {
    it('writes path-absolute links by default, ignoring forwarded headers', () => {
      expect(
        new HalConfig({}).baseUrlFor(
          request({ host: 'a.test', 'x-forwarded-prefix': '/p' }),
        ),
      ).toBe('');
    });

    it('honours a safe X-Forwarded-Prefix only with trustProxy', () => {
      const config = new HalConfig({ hal: { trustProxy: true } });
      expect(
        config.baseUrlFor(request({ 'x-forwarded-prefix': '/shop/' })),
      ).toBe('/shop');
      expect(
        config.baseUrlFor(request({ 'x-forwarded-prefix': '//evil.test' })),
      ).toBe('');
      expect(
        config.baseUrlFor(
          request({ 'x-forwarded-prefix': 'javascript:alert(1)' }),
        ),
      ).toBe('');
    });

    it('takes the trailing slashes off a prefix of any length, in one scan', () => {
      // The worst case of the `/\/+$/` this replaced (quadratic: 200 ms):
      // 16 kB of slashes, then something else.
      const slashes = '/'.repeat(16_000);
      const config = new HalConfig({ hal: { trustProxy: true } });
      expect(
        config.baseUrlFor(request({ 'x-forwarded-prefix': `${slashes}x` })),
      ).toBe('');
      expect(
        config.baseUrlFor(request({ 'x-forwarded-prefix': `/shop${slashes}` })),
      ).toBe('/shop');
      expect(
        config.baseUrlFor(request({ 'x-forwarded-prefix': slashes })),
      ).toBe('');
    });

    it('builds absolute links from the request', () => {
      const config = new HalConfig({ hal: { links: 'request' } });
      expect(config.baseUrlFor(request({ host: 'API.test:8080' }))).toBe(
        'http://api.test:8080',
      );
      expect(config.baseUrlFor(request({ host: 'api.test' }, true))).toBe(
        'https://api.test',
      );
      expect(config.baseUrlFor(request({ host: 'evil.test/path?x' }))).toBe('');
      expect(
        config.baseUrlFor(
          request({ host: 'a.test', 'x-forwarded-host': 'b.test' }),
        ),
      ).toBe('http://a.test');
    });

    it("takes an HTTP/2 request's host from :authority, before any Host", () => {
      const config = new HalConfig({ hal: { links: 'request' } });
      expect(
        config.baseUrlFor(request({ ':authority': 'api.test:8443' }, true)),
      ).toBe('https://api.test:8443');
      expect(
        config.baseUrlFor(
          request({ ':authority': 'api.test', host: 'other.test' }, true),
        ),
      ).toBe('https://api.test');
      expect(
        config.baseUrlFor(request({ ':authority': 'evil.test/path' }, true)),
      ).toBe('');
    });

    it('prefers Forwarded, then X-Forwarded-*, with trustProxy', () => {
      const config = new HalConfig({
        hal: { links: 'request', trustProxy: true },
      });
      expect(
        config.baseUrlFor(
          request({
            host: 'internal',
            forwarded: 'for=1.1.1.1;proto=https;host="api.test", for=2.2.2.2',
            'x-forwarded-host': 'x.test',
          }),
        ),
      ).toBe('https://api.test');
      expect(
        config.baseUrlFor(
          request({
            host: 'internal',
            'x-forwarded-host': 'x.test, y.test',
            'x-forwarded-proto': 'https',
          }),
        ),
      ).toBe('https://x.test');
      expect(
        config.baseUrlFor(
          request({ host: 'internal', 'x-forwarded-proto': 'gopher' }),
        ),
      ).toBe('http://internal');
    });

    it('keeps trustProxy: true reading the first element, Forwarded first', () => {
      // Today's behaviour, kept for compatibility: a client's own leftmost
      // element wins, which is why a hop count is recommended.
      const config = new HalConfig({
        hal: { links: 'request', trustProxy: true },
      });
      expect(
        config.baseUrlFor(
          request({
            host: 'internal',
            forwarded: 'host=evil.test;proto=https',
            'x-forwarded-host': 'api.test',
            'x-forwarded-for': '1.2.3.4',
          }),
        ),
      ).toBe('https://evil.test');
      expect(
        config.baseUrlFor(
          request({
            host: 'internal',
            'x-forwarded-host': 'evil.test, api.test',
            'x-forwarded-prefix': '/evil, /shop',
          }),
        ),
      ).toBe('http://evil.test/evil');
    });

    describe('with a hop count', () => {
      const hops = (trustProxy: number, links = 'request') =>
        new HalConfig({ hal: { links, trustProxy } });

      it('reads each X-Forwarded-* header N elements from the right', () => {
        const headers = {
          host: 'internal',
          'x-forwarded-host': 'evil.test, outer.test, inner.test',
          'x-forwarded-proto': 'http, https, http',
          'x-forwarded-prefix': '/evil, /shop, /inner',
        };
        expect(hops(1).baseUrlFor(request(headers))).toBe(
          'http://inner.test/inner',
        );
        expect(hops(2).baseUrlFor(request(headers))).toBe(
          'https://outer.test/shop',
        );
        expect(hops(2, 'path').baseUrlFor(request(headers))).toBe('/shop');
      });

      it('reads the leftmost element of a header with fewer than N, which a proxy replaced', () => {
        expect(
          hops(2).baseUrlFor(
            request({
              host: 'internal',
              'x-forwarded-host': 'api.test',
              'x-forwarded-proto': 'https',
              'x-forwarded-prefix': '/shop',
            }),
          ),
        ).toBe('https://api.test/shop');
        // Each header on its own: a proxy that overwrites Proto but appends Host.
        expect(
          hops(2).baseUrlFor(
            request({
              host: 'internal',
              'x-forwarded-host': 'a.test, b.test',
              'x-forwarded-proto': 'https',
            }),
          ),
        ).toBe('https://a.test');
        // An empty element is not skipped for a fuller one.
        expect(
          hops(3).baseUrlFor(
            request({ host: 'internal', 'x-forwarded-host': ', b.test' }),
          ),
        ).toBe('http://internal');
      });

      it("ignores a client's Forwarded when the proxy appended X-Forwarded-*", () => {
        const cases: [Record<string, string>, string][] = [
          [
            { 'x-forwarded-host': 'api.test', 'x-forwarded-proto': 'https' },
            'https://api.test',
          ],
          // No -Host: the host is the Host header, never the client's Forwarded one.
          [{ 'x-forwarded-proto': 'https' }, 'https://internal'],
          // nginx's usual setup: X-Forwarded-For only.
          [{ 'x-forwarded-for': '192.0.2.1' }, 'http://internal'],
        ];
        for (const [appended, base] of cases) {
          expect(
            hops(1).baseUrlFor(
              request({
                host: 'internal',
                forwarded: 'for=6.6.6.6;host=evil.test;proto=http',
                ...appended,
              }),
            ),
          ).toBe(base);
        }
        expect(
          hops(1).baseUrlFor(
            request({
              host: 'internal',
              forwarded: 'host=evil.test;proto=https',
              'x-forwarded-host': 'api.test',
            }),
          ),
        ).toBe('http://api.test');
        // Fewer X-Forwarded-Host elements than hops still keep Forwarded out.
        expect(
          hops(2).baseUrlFor(
            request({
              host: 'internal',
              forwarded: 'host=evil.test, host=evil.test',
              'x-forwarded-host': 'api.test',
            }),
          ),
        ).toBe('http://api.test');
      });

      it('reads Forwarded N elements from the right when no X-Forwarded-* came', () => {
        const forwarded =
          'for=6.6.6.6;host=evil.test, for=192.0.2.1;host="api.test:8443";proto=https';
        expect(
          hops(1).baseUrlFor(request({ host: 'internal', forwarded })),
        ).toBe('https://api.test:8443');
        expect(
          hops(2).baseUrlFor(request({ host: 'internal', forwarded })),
        ).toBe('http://evil.test');
        // Fewer elements than hops: the leftmost, a replacing proxy's.
        expect(
          hops(3).baseUrlFor(
            request({
              host: 'internal',
              forwarded: 'host=api.test;proto=https',
            }),
          ),
        ).toBe('https://api.test');
        // The trusted element names no host: the Host header, not an element further left.
        expect(
          hops(1).baseUrlFor(
            request({
              host: 'internal',
              forwarded: 'host=evil.test, for=192.0.2.1;proto=https',
            }),
          ),
        ).toBe('https://internal');
        // X-Forwarded-Prefix is read beside it (Forwarded has no prefix).
        expect(
          hops(1).baseUrlFor(
            request({
              host: 'internal',
              forwarded: 'host=api.test',
              'x-forwarded-prefix': '/shop',
            }),
          ),
        ).toBe('http://api.test/shop');
      });

      it('counts header lines in order, and empty elements', () => {
        expect(
          hops(1).baseUrlFor({
            headers: {
              host: 'internal',
              forwarded: ['host=evil.test', 'host=api.test;proto=https'],
            },
          }),
        ).toBe('https://api.test');
        // An empty element of the proxy is not skipped for the client's.
        expect(
          hops(1).baseUrlFor(
            request({ host: 'internal', 'x-forwarded-host': 'evil.test, ' }),
          ),
        ).toBe('http://internal');
        expect(
          hops(2).baseUrlFor(
            request({
              host: 'internal',
              'x-forwarded-host': ', , api.test, inner',
            }),
          ),
        ).toBe('http://api.test');
      });

      it("keeps a client's open quote or repeated parameter from taking the proxy's element", () => {
        expect(
          hops(1).baseUrlFor(
            request({
              host: 'internal',
              forwarded: 'host="evil.test, for=192.0.2.1;host=api.test',
            }),
          ),
        ).toBe('http://api.test');
        expect(
          hops(1).baseUrlFor(
            request({
              host: 'internal',
              forwarded: 'host=api.test;host=evil.test',
            }),
          ),
        ).toBe('http://internal');
        expect(
          hops(1).baseUrlFor(
            request({ host: 'internal', forwarded: 'host="api.test' }),
          ),
        ).toBe('http://internal');
      });

      it('still checks the values it reads', () => {
        expect(
          hops(1).baseUrlFor(
            request({
              host: 'internal',
              'x-forwarded-host': 'evil.test/path',
              'x-forwarded-proto': 'gopher',
              'x-forwarded-prefix': '//evil.test',
            }),
          ),
        ).toBe('http://internal');
      });

      it('treats 0 as false', () => {
        expect(
          hops(0).baseUrlFor(
            request({ host: 'internal', 'x-forwarded-host': 'api.test' }),
          ),
        ).toBe('http://internal');
      });
    });

    it.each([true, false, 0, 1, 3])('accepts trustProxy: %p', (trustProxy) =>
      expect(() => new HalConfig({ hal: { trustProxy } })).not.toThrow(),
    );

    it.each([
      ['true', /got "true"/],
      [-1, /got -1/],
      [1.5, /got 1\.5/],
      [Number.NaN, /got NaN/],
      [Number.POSITIVE_INFINITY, /got Infinity/],
      ['1', /got "1"/],
    ])('refuses trustProxy: %p with a clear message', (trustProxy, got) => {
      const create = () =>
        new HalConfig({ hal: { trustProxy: trustProxy as number } });
      expect(create).toThrow(
        /hal\.trustProxy must be true, false or the number of proxies/,
      );
      expect(create).toThrow(got);
    });

    it('uses a fixed base URL', () => {
      expect(
        new HalConfig({ hal: { links: 'https://api.test/v2/' } }).baseUrlFor(
          request({ host: 'x' }),
        ),
      ).toBe('https://api.test/v2');
      expect(() => new HalConfig({ hal: { links: 'ftp://x' } })).toThrow(
        /hal.links/,
      );
    });

    it('refuses a CURIE without {rel}', () => {
      expect(
        () =>
          new HalConfig({
            hal: { curies: [{ name: 'acme', href: 'https://docs.test/' }] },
          }),
      ).toThrow(/CURIE/);
    });
  });
});
