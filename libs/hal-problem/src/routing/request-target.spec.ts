import { originForm, routedPath } from './request-target';

describe('originForm', () => {
  it.each([
    ['/orders/1?x=1', '/orders/1?x=1'],
    ['/', '/'],
    ['http://other.example/orders/1?x=1', '/orders/1?x=1'],
    ['HTTPS://other.example:8443/orders', '/orders'],
    ['http://other.example', '/'],
    ['http://other.example?page=2', '/?page=2'],
    ['http://user@other.example/a', '/a'],
    ['//other.example/orders', '/other.example/orders'],
    ['///orders', '/orders'],
    ['/\\other.example/x', '/other.example/x'],
    ['/\\/x', '/x'],
    ['*', '/*'],
    ['', '/'],
    // Characters no URI holds as they are: percent-encoded, byte for byte.
    ['/things?x={y}|^', '/things?x=%7By%7D%7C%5E'],
    ['/caf\xc3\xa9', '/caf%C3%A9'],
    ['/a%20b?q=%7B', '/a%20b?q=%7B'],
    // Percent-encodings normalized: unreserved decoded, hex in upper case.
    ['/%6frders/%41%7e?q=%2d%5f', '/orders/A~?q=-_'],
    ['/a%2fb?c=%3d%e2%82%ac', '/a%2Fb?c=%3D%E2%82%AC'],
    ['/orders/%2e%2e', '/orders/%2E%2E'],
    // A `%` that starts no escape: encoded, so nothing decodes into one.
    ['/a%2', '/a%252'],
    ['/a%zz', '/a%25zz'],
    ['/a%', '/a%25'],
    ['/%%34%31', '/%2541'],
    ['/%%41%4a%4', '/%25AJ%254'],
    ['/x?q=%e2%82%ac&r=%7b', '/x?q=%E2%82%AC&r=%7B'],
    ['/caf\xe9?%41', '/caf%E9?A'],
  ])('%s -> %s', (target, expected) => {
    expect(originForm(target)).toBe(expected);
  });
});

describe('routedPath', () => {
  const adapter = {
    getRequestUrl: (request: object) => (request as { url: string }).url,
  };
  it.each([
    ['/%74hings?x=%41', '/%74hings'],
    ['http://other.example/a{b}?q', '/a%7Bb%7D'],
    ['/plain', '/plain'],
    // Both routers end the path at a fragment, which Node lets through.
    ['/things#x', '/things'],
    ['/%74hings#a?b', '/%74hings'],
    ['http://other.example/things#x', '/things'],
    // Neither router serves `//things` or `/\things` from `/things`.
    ['//things', '//things'],
    ['/\\things', '/%5Cthings'],
    ['http://other.example//things?q', '//things'],
    ['http://other.example', '/'],
  ])('%s -> %s: origin form, encodings as sent, no query', (url, expected) => {
    expect(routedPath(adapter, { url })).toBe(expected);
  });
});
