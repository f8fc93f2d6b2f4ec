import { ExpiringMap } from './expiring-map';

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
});
