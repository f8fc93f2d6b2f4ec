import { checkedMaxRecords, ExpiringMap } from './expiring-map';

describe('ExpiringMap', () => {
  it('expires each entry after its own TTL', () => {
    const map = new ExpiringMap<string>();
    map.set('a', 'A', 1_000, 0);
    map.set('b', 'B', 100, 0);
    expect(map.get('a', 500)).toBe('A');
    expect(map.get('b', 500)).toBeUndefined();
  });

  it('sweeps short-lived entries stored behind a long-lived one', () => {
    const map = new ExpiringMap<number>();
    map.set('day', 0, 86_400_000, 0);
    for (let i = 0; i < 1_000; i++) map.set(`lock-${i}`, i, 60_000, i);
    map.sweep(61_000);
    expect(map.size).toBe(1);
    expect(map.get('day', 61_000)).toBe(0);
  });

  it('sweeps an entry set after a sweep with an earlier expiry', () => {
    const map = new ExpiringMap<string>();
    map.set('long', 'L', 10_000, 0);
    map.sweep(5_000);
    map.set('short', 'S', 100, 5_000);
    map.sweep(6_000);
    expect(map.size).toBe(1);
    map.sweep(10_000);
    expect(map.size).toBe(0);
  });

  it('moves a key to its new TTL when it is set again', () => {
    const map = new ExpiringMap<string>();
    map.set('k', 'lock', 60_000, 0);
    map.set('k', 'record', 86_400_000, 10);
    map.sweep(70_000);
    expect(map.get('k', 70_000)).toBe('record');
    map.delete('k');
    expect(map.size).toBe(0);
  });

  describe('with a capacity', () => {
    const capped = (maxEntries: number, onEvict?: (key: string) => void) =>
      new ExpiringMap<string>({
        maxEntries,
        evictable: (value) => value !== 'lock',
        onEvict,
      });

    it('drops expired entries before anything live', () => {
      const evicted: string[] = [];
      const map = capped(2, (key) => evicted.push(key));
      map.set('old', 'record', 100, 0);
      map.set('live', 'record', 10_000, 0);
      expect(map.set('new', 'record', 10_000, 200)).toBe(true);
      expect(evicted).toEqual([]);
      expect(map.get('live', 200)).toBe('record');
      expect(map.size).toBe(2);
    });

    it('drops the oldest evictable entry of the longest-lived lane', () => {
      const evicted: string[] = [];
      const map = capped(3, (key) => evicted.push(key));
      map.set('lock', 'lock', 60_000, 0);
      map.set('first', 'record', 86_400_000, 1);
      map.set('second', 'record', 86_400_000, 2);
      expect(map.set('third', 'record', 86_400_000, 3)).toBe(true);
      expect(evicted).toEqual(['first']);
      expect(map.get('lock', 3)).toBe('lock');
      expect(map.get('second', 3)).toBe('record');
      expect(map.size).toBe(3);
    });

    it('passes over entries it may not drop', () => {
      const map = capped(3);
      map.set('held', 'lock', 60_000, 0);
      map.set('done', 'record', 60_000, 1);
      map.set('held-too', 'lock', 60_000, 2);
      expect(map.set('new', 'lock', 60_000, 3)).toBe(true);
      expect(map.get('held', 3)).toBe('lock');
      expect(map.get('done', 3)).toBeUndefined();
    });

    it('looks past any number of entries it may not drop in one lane', () => {
      const map = capped(40);
      for (let i = 0; i < 33; i++) map.set(`running-${i}`, 'lock', 60_000, i);
      for (let i = 0; i < 7; i++)
        map.set(`done-${i}`, 'record', 60_000, 40 + i);
      expect(map.set('new', 'lock', 60_000, 50)).toBe(true);
      expect(map.get('done-0', 50)).toBeUndefined();
      expect(map.get('running-0', 50)).toBe('lock');
    });

    it('refuses a new key when nothing may be dropped, storing nothing', () => {
      const map = capped(2);
      map.set('a', 'lock', 60_000, 0);
      map.set('b', 'lock', 60_000, 0);
      expect(map.set('c', 'lock', 60_000, 1)).toBe(false);
      expect(map.get('c', 1)).toBeUndefined();
      expect(map.size).toBe(2);
    });

    it('never drops a pinned entry, and searches past none', () => {
      const asked: string[] = [];
      const map = new ExpiringMap<string>({
        maxEntries: 3,
        evictable: (value) => {
          asked.push(value);
          return true;
        },
      });
      map.set('blocked', 'pinned', 60_000, 0, { pinned: true });
      map.set('a', 'a', 60_000, 1);
      map.set('b', 'b', 60_000, 2);
      expect(map.set('c', 'c', 60_000, 3)).toBe(true);
      expect(map.get('blocked', 3)).toBe('pinned');
      expect(map.get('a', 3)).toBeUndefined();
      expect(asked).toEqual(['a']);
      // Only pinned entries left to drop: nothing is stored.
      const full = new ExpiringMap<string>({
        maxEntries: 1,
        evictable: () => true,
      });
      full.set('x', 'x', 60_000, 0, { pinned: true });
      expect(full.set('y', 'y', 60_000, 1)).toBe(false);
      // A pinned entry still expires.
      full.sweep(60_000);
      expect(full.size).toBe(0);
    });

    it('asks each entry whether it may go at most once, however many go behind a lock', () => {
      let asked = 0;
      const map = new ExpiringMap<string>({
        maxEntries: 1_000,
        evictable: (value) => {
          asked++;
          return value !== 'lock';
        },
      });
      map.set('held', 'lock', 60_000, 0);
      for (let i = 0; i < 999; i++) map.set(`r${i}`, 'record', 60_000, 1);
      for (let i = 0; i < 5_000; i++) map.set(`n${i}`, 'record', 60_000, 2);
      expect(map.get('held', 2)).toBe('lock');
      expect(map.size).toBe(1_000);
      // One question per entry dropped, plus one for the lock, give or take
      // a compaction: not one walk over every emptied slot per drop.
      expect(asked).toBeLessThan(5_000 + 10);
    });

    it('always has room for a key it holds', () => {
      const map = capped(1);
      map.set('a', 'lock', 60_000, 0);
      expect(map.set('a', 'record', 86_400_000, 1)).toBe(true);
      expect(map.get('a', 1)).toBe('record');
    });
  });

  describe('checkedMaxRecords', () => {
    it.each([0, -1, 1.5, NaN, Number.MAX_VALUE])('refuses %p', (value) => {
      expect(() => checkedMaxRecords('Store', value)).toThrow(
        /Store: maxRecords must be a whole number above 0 or Infinity/,
      );
    });

    it.each([1, 100_000, Infinity])('accepts %p', (value) => {
      expect(checkedMaxRecords('Store', value)).toBe(value);
    });
  });
});

describe('ExpiringMap lanes', () => {
  it('keeps every live entry when a lane held up by a long-lived entry is compacted', () => {
    const map = new ExpiringMap<string>();
    // A long-lived entry at the lane's front, then 3,000 behind it of which
    // 2,500 are deleted or moved: the lane is mostly dead items.
    map.set('first', 'F', 100_000, 0);
    for (let i = 0; i < 3_000; i++) map.set(`k${i}`, `v${i}`, 100_000, 1);
    for (let i = 0; i < 2_500; i++) {
      if (i % 2) map.delete(`k${i}`);
      else map.set(`k${i}`, `moved${i}`, 50, 2);
    }
    expect(map.size).toBe(1 + 500 + 1_250);
    for (let i = 2_500; i < 3_000; i++)
      expect(map.get(`k${i}`, 3)).toBe(`v${i}`);
    expect(map.get('k0', 3)).toBe('moved0');
    expect(map.get('k1', 3)).toBeUndefined();
    map.sweep(60);
    expect(map.size).toBe(501);
    for (let i = 2_500; i < 3_000; i++)
      expect(map.get(`k${i}`, 60)).toBe(`v${i}`);
    expect(map.get('first', 60)).toBe('F');
    map.sweep(100_001);
    expect(map.size).toBe(0);
  });
});
