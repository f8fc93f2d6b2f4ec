import { Logger } from '@nestjs/common';
import { InMemoryThrottlerStorage } from './in-memory-throttler.storage';

describe('InMemoryThrottlerStorage', () => {
  const start = new Date('2026-11-26T12:00:00.000Z').getTime();
  let storage: InMemoryThrottlerStorage;
  const hit = (key = 'ip:1', ttl = 1_000, limit = 3, block = 1_000) =>
    storage.increment(key, ttl, limit, block, 'default');
  const advance = (ms: number) => jest.setSystemTime(Date.now() + ms);

  beforeEach(() => {
    jest.useFakeTimers({ now: start });
    storage = new InMemoryThrottlerStorage();
  });
  afterEach(() => jest.useRealTimers());

  it('counts hits in a window started by the first hit, its end in whole seconds rounded up', async () => {
    expect(await hit('ip:1', 2_500)).toEqual({
      totalHits: 1,
      timeToExpire: 3,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
    advance(1_600);
    expect(await hit('ip:1', 2_500)).toMatchObject({
      totalHits: 2,
      timeToExpire: 1,
    });
  });

  it('starts a new window exactly when the old one ends (milliseconds, not seconds)', async () => {
    await hit('ip:1', 300);
    await hit('ip:1', 300);
    advance(299);
    expect((await hit('ip:1', 300)).totalHits).toBe(3);
    advance(1);
    expect((await hit('ip:1', 300)).totalHits).toBe(1);
  });

  it('blocks for blockDuration once the count passes the limit, without counting while blocked', async () => {
    for (let i = 0; i < 3; i++) await hit('ip:1', 10_000, 3, 2_000);
    // The window ends with the block, 8 s early.
    expect(await hit('ip:1', 10_000, 3, 2_000)).toEqual({
      totalHits: 4,
      timeToExpire: 2,
      isBlocked: true,
      timeToBlockExpire: 2,
    });
    advance(1_500);
    expect(await hit('ip:1', 10_000, 3, 2_000)).toEqual({
      totalHits: 4,
      timeToExpire: 1,
      isBlocked: true,
      timeToBlockExpire: 1,
    });
    // The block is over: a new window, so Retry-After (the block's end) held.
    advance(500);
    expect(await hit('ip:1', 10_000, 3, 2_000)).toEqual({
      totalHits: 1,
      timeToExpire: 10,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
  });

  it('keeps a block longer than the window, and the window with it', async () => {
    for (let i = 0; i < 4; i++) await hit('ip:1', 1_000, 3, 5_000);
    advance(2_000);
    expect(await hit('ip:1', 1_000, 3, 5_000)).toEqual({
      totalHits: 4,
      timeToExpire: 3,
      isBlocked: true,
      timeToBlockExpire: 3,
    });
    advance(3_000);
    expect((await hit('ip:1', 1_000, 3, 5_000)).totalHits).toBe(1);
  });

  it('keeps keys and named throttlers apart', async () => {
    await hit('ip:1');
    await hit('ip:1');
    expect((await hit('ip:2')).totalHits).toBe(1);
    expect(
      (await storage.increment('ip:1', 1_000, 3, 1_000, 'burst')).totalHits,
    ).toBe(1);
  });

  it('costs one bucket per key whatever the limit, and drops ended buckets', async () => {
    for (let i = 0; i < 100_000; i++) await hit('ip:1', 60_000, 1e9);
    expect((await hit('ip:1', 60_000, 1e9)).totalHits).toBe(100_001);
    await hit('ip:2', 1_000);
    expect(storage.size).toBe(2);
    advance(1_000);
    await hit('ip:3', 1_000);
    // ip:2's window ended; ip:1's has 59 s left; ip:3 is new.
    expect(storage.size).toBe(2);
    advance(60_000);
    await hit('ip:4', 1_000);
    expect(storage.size).toBe(1);
  });
});

describe('InMemoryThrottlerStorage with maxBuckets', () => {
  const start = new Date('2026-11-26T12:00:00.000Z').getTime();
  const advance = (ms: number) => jest.setSystemTime(Date.now() + ms);
  let warn: jest.SpyInstance;

  beforeEach(() => {
    jest.useFakeTimers({ now: start });
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
  });
  afterEach(() => {
    jest.useRealTimers();
    warn.mockRestore();
  });

  it('drops the bucket of the longest window started first when full, and warns once a minute', async () => {
    const storage = new InMemoryThrottlerStorage({ maxBuckets: 3 });
    const hit = (key: string, ttl: number) =>
      storage.increment(key, ttl, 5, ttl, 'default');
    await hit('a', 60_000);
    await hit('a', 60_000);
    await hit('b', 60_000);
    await hit('c', 1_000);
    expect(storage.size).toBe(3);
    // Full: a new client drops "a" (60 s window, oldest), not "c" (1 s).
    await hit('d', 1_000);
    expect(storage.size).toBe(3);
    expect((await hit('a', 60_000)).totalHits).toBe(1);
    expect((await hit('c', 1_000)).totalHits).toBe(2);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toContain('3 buckets');
    advance(59_000);
    await hit('e', 60_000);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('counts a blocked bucket in the lane of its block, so its end drops it', async () => {
    const storage = new InMemoryThrottlerStorage({ maxBuckets: 10 });
    for (let i = 0; i < 3; i++)
      await storage.increment('a', 60_000, 2, 2_000, 'default');
    expect(storage.size).toBe(1);
    advance(2_000);
    await storage.increment('b', 60_000, 2, 2_000, 'default');
    // "a"'s block ended 58 s before its window would have: dropped.
    expect(storage.size).toBe(1);
  });

  it('never drops a blocked bucket to make room: a flood of new keys does not lift a block', async () => {
    const storage = new InMemoryThrottlerStorage({ maxBuckets: 100 });
    // Blocked for 15 minutes after 3 hits in a 60 s window.
    const victim = () =>
      storage.increment('victim', 60_000, 3, 900_000, 'default');
    for (let i = 0; i < 4; i++) await victim();
    expect((await victim()).isBlocked).toBe(true);
    for (let i = 0; i < 1_000; i++)
      await storage.increment(`flood-${i}`, 60_000, 3, 900_000, 'default');
    expect(storage.size).toBe(100);
    expect(await victim()).toMatchObject({ isBlocked: true, totalHits: 4 });
  });

  it('still counts a new client when the oldest buckets are blocked ones', async () => {
    const storage = new InMemoryThrottlerStorage({ maxBuckets: 100 });
    const hit = (key: string) =>
      storage.increment(key, 60_000, 2, 60_000, 'default');
    for (let i = 0; i < 64; i++)
      for (let n = 0; n < 3; n++) await hit(`blocked-${i}`);
    for (let i = 0; i < 36; i++) await hit(`single-${i}`);
    expect(storage.size).toBe(100);
    await hit('new');
    await hit('new');
    expect(await hit('new')).toMatchObject({ totalHits: 3, isBlocked: true });
    expect((await hit('blocked-0')).isBlocked).toBe(true);
  });

  it('counts nothing for a new client while every bucket kept is blocked', async () => {
    const storage = new InMemoryThrottlerStorage({ maxBuckets: 2 });
    for (const key of ['a', 'b'])
      for (let i = 0; i < 3; i++)
        await storage.increment(key, 60_000, 2, 60_000, 'default');
    for (let i = 0; i < 3; i++)
      expect(
        await storage.increment('c', 60_000, 2, 60_000, 'default'),
      ).toMatchObject({ totalHits: 1, isBlocked: false });
    expect(
      (await storage.increment('a', 60_000, 2, 60_000, 'default')).isBlocked,
    ).toBe(true);
  });

  it('refuses a maxBuckets that is not a whole number above 0 when built', () => {
    expect(() => new InMemoryThrottlerStorage({ maxBuckets: 0 })).toThrow(
      'InMemoryThrottlerStorage: maxBuckets must be a whole number above 0',
    );
    expect(
      () => new InMemoryThrottlerStorage({ maxBuckets: Infinity }),
    ).not.toThrow();
  });
});
