import fc from 'fast-check';
import { ExpiringMap } from './expiring-map';

/** What an `ExpiringMap` should hold, kept the obvious way. */
class Model {
  private seq = 0;
  readonly entries = new Map<
    string,
    { value: string; expiresAt: number; ttl: number; seq: number }
  >();

  constructor(private readonly maxEntries: number) {}

  get(key: string, now: number): string | undefined {
    const entry = this.entries.get(key);
    return entry && entry.expiresAt > now ? entry.value : undefined;
  }

  live(now: number) {
    return [...this.entries].filter(([, e]) => e.expiresAt > now);
  }

  set(key: string, value: string, ttl: number, now: number): boolean {
    if (!this.entries.has(key) && this.entries.size >= this.maxEntries) {
      for (const [k, e] of this.entries)
        if (e.expiresAt <= now) this.entries.delete(k);
      if (this.entries.size >= this.maxEntries) {
        // The oldest evictable entry of the longest TTL that has one.
        const victim = [...this.entries]
          .filter(([, e]) => e.value !== 'lock')
          .sort(([, a], [, b]) => b.ttl - a.ttl || a.seq - b.seq)[0];
        if (!victim) return false;
        this.entries.delete(victim[0]);
      }
    }
    this.entries.delete(key);
    this.entries.set(key, {
      value,
      expiresAt: now + ttl,
      ttl,
      seq: this.seq++,
    });
    return true;
  }
}

const op = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      key: fc.integer({ min: 0, max: 1_500 }),
      value: fc.constantFrom('record', 'record', 'lock'),
      ttl: fc.constantFrom(10, 100, 100_000),
      dt: fc.integer({ min: 0, max: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('delete' as const),
      key: fc.integer({ min: 0, max: 1_500 }),
      dt: fc.integer({ min: 0, max: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('sweep' as const),
      dt: fc.integer({ min: 0, max: 50 }),
    }),
  },
);

describe('ExpiringMap (model-based)', () => {
  // Thousands of operations per run, so lanes pass the size at which they
  // are compacted, with locks (never evicted) holding up their fronts.
  it.each([Infinity, 64, 1_500])(
    'holds what a plain map with expiry holds (maxEntries %s)',
    (maxEntries) => {
      fc.assert(
        fc.property(
          fc.array(op, { minLength: 4_000, maxLength: 8_000 }),
          (ops) => {
            const map = new ExpiringMap<string>({
              maxEntries,
              evictable: (value) => value !== 'lock',
            });
            const model = new Model(maxEntries);
            let now = 0;
            // Held at the long lane's front for the whole run, so that lane
            // is compacted rather than emptied.
            map.set('held', 'lock', 100_000, now);
            model.set('held', 'lock', 100_000, now);
            for (const step of ops) {
              now += step.dt;
              if (step.kind === 'set') {
                const key = `k${step.key}`;
                const stored = map.set(key, step.value, step.ttl, now);
                if (stored !== model.set(key, step.value, step.ttl, now))
                  return false;
                if (map.get(key, now) !== model.get(key, now)) return false;
              } else if (step.kind === 'delete') {
                map.delete(`k${step.key}`);
                model.entries.delete(`k${step.key}`);
              } else {
                map.sweep(now);
                const live = model.live(now);
                if (map.size !== live.length) return false;
                for (const [key, entry] of live)
                  if (map.get(key, now) !== entry.value) return false;
              }
            }
            return true;
          },
        ),
        { numRuns: 15 },
      );
    },
  );
});
