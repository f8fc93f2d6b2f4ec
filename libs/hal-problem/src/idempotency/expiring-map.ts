import { Logger } from '@nestjs/common';

/** One TTL's entries in insertion order, which within one TTL is expiry order. */
type Lane = Map<string, number>;

/** How many entries an `ExpiringMap` keeps, and which it may drop to make room. */
export interface ExpiringMapCapacity<V> {
  readonly maxEntries: number;
  /** Whether an entry may be dropped before it expires (not a lock held). */
  readonly evictable: (value: V) => boolean;
  /** Called once per entry dropped to make room. */
  readonly onEvict?: (key: string) => void;
}

/**
 * `maxRecords` of an in-memory store: a whole number above 0, or `Infinity`
 * for no limit. Checked when the store is built, not at its first request.
 */
export function checkedMaxRecords(store: string, maxRecords: number): number {
  if (
    maxRecords !== Infinity &&
    (!Number.isSafeInteger(maxRecords) || maxRecords < 1)
  ) {
    throw new TypeError(
      `${store}: maxRecords must be a whole number above 0 or Infinity, not ${String(maxRecords)}`,
    );
  }
  return maxRecords;
}

/**
 * The records of an in-memory store: at most `maxRecords` (checked here),
 * dropping `evictable` ones when full, with `fullMessage(maxRecords)` logged
 * as a warning.
 */
export function boundedRecords<V>(
  store: string,
  maxRecords: number,
  evictable: (value: V) => boolean,
  fullMessage: (maxRecords: number) => string,
): ExpiringMap<V> {
  const maxEntries = checkedMaxRecords(store, maxRecords);
  return new ExpiringMap<V>({
    maxEntries,
    evictable,
    onEvict: fullStoreWarning(fullMessage(maxEntries)),
  });
}

/**
 * A warning that a store is full, logged at most once a minute: a full
 * store is a sizing problem (or a flood of new keys), and one line per
 * dropped entry would flood the log in turn.
 */
function fullStoreWarning(message: string): () => void {
  const logger = new Logger('HalProblem');
  let lastWarnedAt = -Infinity;
  return () => {
    const now = Date.now();
    if (now - lastWarnedAt < 60_000) return;
    lastWarnedAt = now;
    logger.warn(message);
  };
}

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

  constructor(private readonly capacity?: ExpiringMapCapacity<V>) {}

  /** Entries kept, expired ones not yet swept included. */
  get size(): number {
    return this.entries.size;
  }

  get(key: string, now = Date.now()): V | undefined {
    const entry = this.entries.get(key);
    return entry && entry.expiresAt > now ? entry.value : undefined;
  }

  /**
   * Stores `value` under `key` for `ttlMs`. A new key in a full map first
   * drops expired entries, then the oldest evictable entry of the
   * longest-lived lane (the one furthest from its expiry is the least
   * likely to be asked for again); `false` when there is nothing it may drop,
   * and nothing is stored.
   */
  set(key: string, value: V, ttlMs: number, now = Date.now()): boolean {
    const replaced = this.entries.has(key);
    if (!replaced && !this.makeRoom(now)) return false;
    if (replaced) this.delete(key);
    let lane = this.lanes.get(ttlMs);
    if (!lane) this.lanes.set(ttlMs, (lane = new Map<string, number>()));
    const expiresAt = now + ttlMs;
    lane.set(key, expiresAt);
    this.entries.set(key, { value, expiresAt, lane });
    if (expiresAt < this.nextExpiry) this.nextExpiry = expiresAt;
    return true;
  }

  private makeRoom(now: number): boolean {
    const capacity = this.capacity;
    if (!capacity || this.entries.size < capacity.maxEntries) return true;
    this.sweep(now);
    if (this.entries.size < capacity.maxEntries) return true;
    // Rare (a full map), so the lanes are sorted here rather than kept sorted.
    const longestFirst = [...this.lanes.keys()].sort((a, b) => b - a);
    // The whole lane if need be: entries that may not go (unfinished
    // operations, locks when they share the records' TTL) can sit at its
    // front for as long as they run.
    for (const ttl of longestFirst) {
      for (const key of this.lanes.get(ttl)!.keys()) {
        if (!capacity.evictable(this.entries.get(key)!.value)) continue;
        this.delete(key);
        capacity.onEvict?.(key);
        return true;
      }
    }
    return false;
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
