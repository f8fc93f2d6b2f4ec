import { toJsonSafe } from './json-safe';

describe('toJsonSafe', () => {
  it('keeps plain JSON data', () => {
    const value = { a: 1, b: 'x', c: [true, null], d: { e: 2 } };
    expect(toJsonSafe(value)).toEqual(value);
  });

  it('drops cycles, functions, symbols, errors and non-finite numbers', () => {
    const value: Record<string, unknown> = {
      fn: () => 1,
      sym: Symbol('s'),
      err: new Error('secret'),
      nan: Number.NaN,
      kept: 1,
    };
    value.self = value;
    expect(toJsonSafe(value)).toEqual({ kept: 1 });
  });

  it('drops a value whose toJSON throws and honours a working toJSON', () => {
    expect(
      toJsonSafe({
        bad: {
          toJSON: () => {
            throw new Error('x');
          },
        },
        date: new Date(0),
      }),
    ).toEqual({
      date: '1970-01-01T00:00:00.000Z',
    });
  });

  it('survives throwing getters and drops prototype keys', () => {
    const value = Object.defineProperty({ ok: 1 }, 'boom', {
      enumerable: true,
      get() {
        throw new Error('x');
      },
    });
    expect(toJsonSafe(value)).toEqual({ ok: 1 });
    expect(toJsonSafe(JSON.parse('{"__proto__":{"x":1},"y":2}'))).toEqual({
      y: 2,
    });
  });

  it('bounds depth', () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 20; i++) deep = deep.next = {};
    expect(
      JSON.stringify(toJsonSafe(root)).split('next').length - 1,
    ).toBeLessThan(10);
  });

  it('converts bigint to a string', () => {
    expect(toJsonSafe({ n: 10n })).toEqual({ n: '10' });
  });
});
