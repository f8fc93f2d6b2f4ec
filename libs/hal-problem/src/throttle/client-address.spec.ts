import {
  addressBucket,
  clientAddress,
  forwardedFor,
  proxyHops,
} from './client-address';

const request = (xff: string | undefined, remote = '10.0.0.1') => ({
  headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
  socket: { remoteAddress: remote },
});

describe('clientAddress', () => {
  it('uses the socket address and ignores X-Forwarded-For without trusted proxies', () => {
    expect(clientAddress(request('1.2.3.4'), 0)).toBe('10.0.0.1');
  });

  it('takes the entry N hops from the right, never the forgeable leftmost one', () => {
    expect(clientAddress(request('6.6.6.6, 1.1.1.1'), 1)).toBe('1.1.1.1');
    expect(clientAddress(request('6.6.6.6, 1.1.1.1, 172.16.0.2'), 2)).toBe(
      '1.1.1.1',
    );
    expect(clientAddress(request('1.1.1.1'), 5)).toBe('1.1.1.1');
  });

  it('falls back to the socket when there is no header', () => {
    expect(clientAddress(request(undefined), 1)).toBe('10.0.0.1');
  });
});

describe('clientAddress with Forwarded (RFC 7239)', () => {
  const withHeaders = (headers: Record<string, string>) => ({
    headers,
    socket: { remoteAddress: '10.0.0.1' },
  });

  it('counts the for= entries from the right when there is no X-Forwarded-For', () => {
    const request = withHeaders({
      forwarded:
        'for=6.6.6.6;proto=http, for="[2001:db8:cafe::17]:4711";by=proxy',
    });
    expect(clientAddress(request, 1)).toBe('2001:db8:cafe::17');
    expect(clientAddress(request, 2)).toBe('6.6.6.6');
    expect(clientAddress(request, 0)).toBe('10.0.0.1');
    expect(
      clientAddress(withHeaders({ forwarded: 'for="192.0.2.43:47011"' }), 1),
    ).toBe('192.0.2.43');
  });

  it('gives X-Forwarded-For precedence, so a forged Forwarded picks no bucket', () => {
    const request = withHeaders({
      forwarded: 'for=6.6.6.6',
      'x-forwarded-for': '1.1.1.1',
    });
    expect(clientAddress(request, 1)).toBe('1.1.1.1');
  });

  it('never lets a quote a client leaves open swallow what proxies append', () => {
    // The proxy appended ", for=198.51.100.8" to the client's open quote.
    const forged = 'for="[203.0.113.9], for=198.51.100.8';
    expect(forwardedFor(forged)).toEqual(['unknown', '198.51.100.8']);
    expect(clientAddress(withHeaders({ forwarded: forged }), 1)).toBe(
      '198.51.100.8',
    );
    expect(forwardedFor('for="1.2.3.4\\", for=5.6.7.8')).toEqual([
      'unknown',
      '5.6.7.8',
    ]);
    expect(forwardedFor('for=a"b, for="x"y"')).toEqual(['unknown', 'unknown']);
  });

  it('keeps hops without a for', () => {
    expect(forwardedFor('proto=https, for=_hidden, for=unknown')).toEqual([
      'unknown',
      '_hidden',
      'unknown',
    ]);
    expect(
      forwardedFor('for="[2001:db8::\\1]";proto=https, FOR = 9.9.9.9'),
    ).toEqual(['2001:db8::1', '9.9.9.9']);
    expect(forwardedFor(['for=1.1.1.1', 'for=2.2.2.2'])).toEqual([
      '1.1.1.1',
      '2.2.2.2',
    ]);
    expect(forwardedFor(undefined)).toEqual([]);
  });
});

describe('addressBucket', () => {
  it('keeps IPv4, unmaps IPv4-mapped IPv6, and groups IPv6 by network', () => {
    expect(addressBucket('1.1.1.1')).toBe('1.1.1.1');
    expect(addressBucket('::ffff:1.1.1.1')).toBe('1.1.1.1');
    expect(addressBucket('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:db8:1:2:aaaa::9')).toBe('2001:db8:1:2::/64');
    expect(addressBucket('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(addressBucket('2001:db8:1:2::1', 128)).toBe('2001:db8:1:2::1/128');
    expect(addressBucket('2001:db8:1:2::1', 48)).toBe('2001:db8:1::/48');
    expect(addressBucket('fe80::1%eth0')).toBe('fe80::/64');
    // A prefix that is no number falls back to /64, as upstream's does.
    expect(addressBucket('2001:db8:1:2::1', NaN)).toBe('2001:db8:1:2::/64');
  });

  it('leaves what is no address as it is', () => {
    expect(addressBucket('unknown')).toBe('unknown');
    expect(addressBucket('_hidden')).toBe('_hidden');
  });
});

describe('clientAddress and ports', () => {
  it('drops the port of an X-Forwarded-For entry, as of a Forwarded one', () => {
    expect(clientAddress(request('6.6.6.6, 1.1.1.9:50001'), 1)).toBe('1.1.1.9');
    expect(clientAddress(request('[2001:db8::1]:443'), 1)).toBe('2001:db8::1');
    expect(clientAddress(request('2001:db8::1'), 1)).toBe('2001:db8::1');
  });
});

describe('proxyHops', () => {
  it.each([
    [undefined, 0],
    [false, 0],
    [true, 1],
    [0, 0],
    [2, 2],
  ])('reads %p as %d proxies', (trust, hops) => {
    expect(proxyHops(trust)).toBe(hops);
  });

  it.each(['true', '1', 1.5, -1, Number.NaN, Infinity])(
    'refuses %p at startup',
    (trust) => {
      expect(() => proxyHops(trust)).toThrow(/throttle\.trustProxy must be/);
    },
  );
});
