import { toUriTemplate, withWildcardSegments } from './route-table';

describe('toUriTemplate', () => {
  it.each([
    ['/orders', '/orders', [], []],
    ['/orders/:id', '/orders/{id}', ['id'], []],
    [
      '/orders/:orderId/items/:itemId',
      '/orders/{orderId}/items/{itemId}',
      ['orderId', 'itemId'],
      [],
    ],
    // The rest of the path: segments, each encoded (no `?` or `#` let through).
    ['/files/*path', '/files{/path*}', ['path'], ['path']],
    ['/files-*path', '/files-{+path}', ['path'], []],
    ['/orders{/:id}', '/orders{/id}', ['id'], []],
  ])('%s → %s', (path, template, params, wildcards) => {
    expect(toUriTemplate(path)).toEqual({ template, params, wildcards });
  });
});

describe('withWildcardSegments', () => {
  it('gives a wildcard string as its segments and reads the rest through', () => {
    const values = withWildcardSegments({ path: 'x/y//z', id: 7 }, ['path']);
    expect(values.path).toEqual(['x', 'y', 'z']);
    expect(values.id).toBe(7);
  });
});
