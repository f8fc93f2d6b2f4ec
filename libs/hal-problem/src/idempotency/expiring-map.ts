/** One TTL's entries in insertion order, which within one TTL is expiry order. */
type Lane = Map<string, number>;

/**
 * Entries that each expire after their own TTL, dropped in expiry order by
 * `sweep()`. A single insertion-ordered Map is not enough once TTLs differ
 * (a 60 s lock and a 24 h record): one long-lived entry at its front would
 * hold back every shorter-lived one behind it, so memory would follow the
 * longest TTL. One lane per distinct TTL keeps each sweep to the expired
 * entries plus one live entry per lane.
 */
export class ExpiringMap<V> {
  private readonly entries = new Map<
    string,
    { value: V; expiresAt: number; lane: Lane }
  >();
  private readonly lanes = new Map<number, Lane>();
  /** No entry expires before this: a sweep before it has nothing to do. */
  private nextExpiry = Infinity;

  /** Entries kept, expired ones not yet swept included. */
  get size(): number {
    return this.entries.size;
  }

  get(key: string, now = Date.now()): V | undefined {
    const entry = this.entries.get(key);
    return entry && entry.expiresAt > now ? entry.value : undefined;
  }

  set(key: string, value: V, ttlMs: number, now = Date.now()): void {
    this.delete(key);
    let lane = this.lanes.get(ttlMs);
    if (!lane) this.lanes.set(ttlMs, (lane = new Map<string, number>()));
    const expiresAt = now + ttlMs;
    lane.set(key, expiresAt);
    this.entries.set(key, { value, expiresAt, lane });
    if (expiresAt < this.nextExpiry) this.nextExpiry = expiresAt;
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.lane.delete(key);
    this.entries.delete(key);
  }

  sweep(now = Date.now()): void {
    if (now < this.nextExpiry) return;
    let next = Infinity;
    for (const [ttl, lane] of this.lanes) {
      for (const [key, expiresAt] of lane) {
        if (expiresAt > now) {
          if (expiresAt < next) next = expiresAt;
          break;
        }
        lane.delete(key);
        this.entries.delete(key);
      }
      if (lane.size === 0) this.lanes.delete(ttl);
    }
    this.nextExpiry = next;
  }
}
