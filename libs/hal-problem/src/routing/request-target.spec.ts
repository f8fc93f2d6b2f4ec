import { originForm } from './request-target';

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
    ['/a%2', '/a%2'],
    ['/a%zz', '/a%zz'],
  ])('%s -> %s', (target, expected) => {
    expect(originForm(target)).toBe(expected);
  });
});
