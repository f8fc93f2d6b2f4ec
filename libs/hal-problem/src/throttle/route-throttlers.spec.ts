import 'reflect-metadata';
import { Reflector } from '@nestjs/core';
import {
  SkipThrottle,
  Throttle,
  type ThrottlerOptions,
} from '@nestjs/throttler';
import {
  readRouteThrottlers,
  resolveNumber,
  skipsThrottler,
  THROTTLER_METADATA,
  throttlerNames,
} from './route-throttlers';

const routeTracker = () => 'route-tracker';
const routeKey = () => 'route-key';
const commonTracker = () => 'common-tracker';
const commonKey = () => 'common-key';

@SkipThrottle({ burst: true })
class Orders {
  @Throttle({
    sustained: {
      limit: 3,
      ttl: 1_000,
      blockDuration: 5_000,
      getTracker: routeTracker,
      generateKey: routeKey,
    },
  })
  create() {}

  @SkipThrottle({ burst: false })
  list() {}

  @SkipThrottle({ sustained: true })
  health() {}
}

const THROTTLERS: ThrottlerOptions[] = [
  { name: 'burst', limit: 10, ttl: 100 },
  { name: 'sustained', limit: 100, ttl: 60_000, skipIf: () => false },
];
const read = (handler: keyof Orders) =>
  readRouteThrottlers(
    new Reflector(),
    THROTTLERS,
    { getTracker: commonTracker, generateKey: commonKey },
    [Orders.prototype[handler], Orders],
  );

describe('readRouteThrottlers', () => {
  it("finds @Throttle()'s values under the keys @nestjs/throttler writes them", () => {
    const keys = Reflect.getMetadataKeys(Orders.prototype.create) as string[];
    for (const key of [
      'limit',
      'ttl',
      'blockDuration',
      'getTracker',
      'generateKey',
    ] as const)
      expect(keys).toContain(`${THROTTLER_METADATA[key]}sustained`);
    expect(Reflect.getMetadataKeys(Orders)).toContain(
      `${THROTTLER_METADATA.skip}burst`,
    );
  });

  it("takes a handler's @Throttle() over the throttler's options", () => {
    const [sustained, ...rest] = read('create');
    expect(rest).toEqual([]);
    expect(sustained).toMatchObject({
      throttler: { name: 'sustained' },
      limit: 3,
      ttl: 1_000,
      blockDuration: 5_000,
      getTracker: routeTracker,
      generateKey: routeKey,
    });
    expect(sustained.skipIf).toBe(THROTTLERS[1].skipIf);
  });

  it("lets a handler's @SkipThrottle({ name: false }) undo its controller's", () => {
    const names = read('list').map((route) => route.throttler.name);
    expect(names).toEqual(['burst', 'sustained']);
    const [burst] = read('list');
    expect(burst).toMatchObject({
      limit: 10,
      ttl: 100,
      blockDuration: undefined,
      getTracker: commonTracker,
      generateKey: commonKey,
    });
  });

  it('resolves plain numbers once, and leaves functions and invalid values to each request', () => {
    expect(read('create')[0].fixed).toEqual({
      limit: 3,
      ttl: 1_000,
      blockDuration: 5_000,
    });
    // No blockDuration: the window's.
    expect(read('list')[0].fixed).toEqual({
      limit: 10,
      ttl: 100,
      blockDuration: 100,
    });
    const [perRequest, invalid] = readRouteThrottlers(
      new Reflector(),
      [
        { name: 'a', limit: () => 1, ttl: 1 },
        { name: 'b', limit: 'many' as unknown as number, ttl: 1 },
      ],
      { getTracker: commonTracker, generateKey: commonKey },
      [Orders.prototype.list, Orders],
    );
    expect(perRequest.fixed).toBeUndefined();
    expect(invalid.fixed).toBeUndefined();
  });

  it('leaves out every throttler a route skips', () => {
    expect(read('health')).toEqual([]);
  });

  it("names an unnamed throttler 'default', as @nestjs/throttler does", () => {
    const [route] = readRouteThrottlers(
      new Reflector(),
      [{ limit: 1, ttl: 1 }],
      { getTracker: commonTracker, generateKey: commonKey },
      [Orders.prototype.list, Orders],
    );
    expect(route.throttler.name).toBe('default');
  });
});

describe('throttlerNames and skipsThrottler', () => {
  it("names the throttlers of either forRoot form, an unnamed one 'default'", () => {
    expect(throttlerNames([{ limit: 1, ttl: 1 }, ...THROTTLERS])).toEqual([
      'default',
      'burst',
      'sustained',
    ]);
    expect(throttlerNames({ throttlers: THROTTLERS })).toEqual([
      'burst',
      'sustained',
    ]);
  });

  it('says which named throttlers a route skips, handler over controller', () => {
    const skips = (handler: keyof Orders) =>
      ['burst', 'sustained', 'default'].filter((name) =>
        skipsThrottler(new Reflector(), name, [
          Orders.prototype[handler],
          Orders,
        ]),
      );
    expect(skips('create')).toEqual(['burst']);
    expect(skips('list')).toEqual([]);
    expect(skips('health')).toEqual(['burst', 'sustained']);
  });
});

describe('resolveNumber', () => {
  it('takes numbers and strings of digits', () => {
    expect(resolveNumber(5, 'limit', 'default')).toBe(5);
    expect(resolveNumber(' 7 ', 'limit', 'default')).toBe(7);
  });

  it.each([['many'], [''], [undefined], [Number.NaN], [{}]])(
    'refuses %p as a configuration error',
    (value) => {
      expect(() => resolveNumber(value, 'ttl', 'burst')).toThrow(
        /^Invalid "ttl" for the "burst" throttler: expected a number/,
      );
    },
  );
});

describe('readRouteThrottlers and overridden policies', () => {
  class Reports {
    @Throttle({ sustained: { limit: 1, ttl: 60_000 } })
    strict() {}

    plain() {}
  }
  const readReports = (handler: keyof Reports, commonKeyIsDefault = true) =>
    readRouteThrottlers(
      new Reflector(),
      THROTTLERS,
      { getTracker: commonTracker, generateKey: commonKey },
      [Reports.prototype[handler], Reports],
      commonKeyIsDefault,
    ).find((route) => route.throttler.name === 'sustained')!;

  it('gives a route its own bucket only where it changes the policy and the key is the module’s', () => {
    expect(readReports('strict').overridden).toBe(true);
    expect(readReports('plain').overridden).toBe(false);
    // A key the app chose, module-wide or on the route, is kept as it is.
    expect(readReports('strict', false).overridden).toBe(false);
    expect(
      read('create').find((r) => r.throttler.name === 'sustained')!.overridden,
    ).toBe(false);
  });
});
