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
