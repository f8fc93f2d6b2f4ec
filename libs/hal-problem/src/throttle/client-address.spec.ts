import { clientAddress } from './client-address';

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
