import { HalPage } from './hal-page';

describe('HalPage', () => {
  it('takes whole page and size numbers of at least 1 and a total of at least 0', () => {
    const page = new HalPage([], { page: 3, size: 20, total: 0 });
    expect(page.totalPages).toBe(0);
    expect(new HalPage([1], { page: 1, size: 20, total: 41 }).totalPages).toBe(
      3,
    );
  });

  it.each([
    ['page', { page: -5, size: 20, total: 10 }],
    ['page', { page: 0, size: 20, total: 10 }],
    ['page', { page: 1.5, size: 20, total: 10 }],
    ['page', { page: Number.NaN, size: 20, total: 10 }],
    ['size', { page: 1, size: 0, total: 10 }],
    ['size', { page: 1, size: Infinity, total: 10 }],
    ['total', { page: 1, size: 20, total: -1 }],
    ['page', { page: '2' as unknown as number, size: 20, total: 10 }],
  ])('refuses a bad %s, which would make nonsense links', (name, meta) => {
    expect(() => new HalPage([], meta)).toThrow(
      new RegExp(`^HalPage: ${name} must be a whole number`),
    );
  });
});
