import { toUriTemplate } from './route-table';

describe('toUriTemplate', () => {
  it.each([
    ['/orders', '/orders', []],
    ['/orders/:id', '/orders/{id}', ['id']],
    [
      '/orders/:orderId/items/:itemId',
      '/orders/{orderId}/items/{itemId}',
      ['orderId', 'itemId'],
    ],
    ['/files/*path', '/files/{+path}', ['path']],
    ['/orders{/:id}', '/orders{/id}', ['id']],
  ])('%s → %s', (path, template, params) => {
    expect(toUriTemplate(path)).toEqual({ template, params });
  });
});
