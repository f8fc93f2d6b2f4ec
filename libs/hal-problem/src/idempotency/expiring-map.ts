import { Logger } from '@nestjs/common';

/** How many entries an `ExpiringMap` keeps, and which it may drop to make room. */
export interface ExpiringMapCapacity<V> {
  readonly maxEntries: number;
  /**
   * Whether an entry may be dropped before it expires (not a lock held). It
   * must depend on the value alone, and a value that changes must be `set`
   * again: an entry found not evictable is not asked again.
   */
  readonly evictable: (value: V) => boolean;
  /** Called once per entry dropped to make room. */
  readonly onEvict?: (key: string) => void;
}

/**
 * The cap of an in-memory store (`maxRecords`, or the name in `option`): a
 * whole number above 0, or `Infinity` for no limit. Checked when the store is
 * built, not at its first request.
 */
export function checkedMaxRecords(
  store: string,
  maxRecords: number,
  option = 'maxRecords',
): number {
  if (
    maxRecords !== Infinity &&
    (!Number.isSafeInteger(maxRecords) || maxRecords < 1)
  ) {
    throw new TypeError(
      `${store}: ${option} must be a whole number above 0 or Infinity, not ${String(maxRecords)}`,
    );
  }
  return maxRecords;
}

/**
 * The records of an in-memory store: at most `maxRecords` (checked here,
 * named `option` in its error), dropping `evictable` ones when full, with
 * `fullMessage(maxRecords)` logged as a warning.
 */
export function boundedRecords<V>(
  store: string,
  maxRecords: number,
  evictable: (value: V) => boolean,
  fullMessage: (maxRecords: number) => string,
  option?: string,
): ExpiringMap<V> {
  const maxEntries = checkedMaxRecords(store, maxRecords, option);
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

/** An entry, also the item its lane queues; `live` is false once it is gone. */
interface Entry<V> {
  readonly key: string;
  value: V | undefined;
  readonly expiresAt: number;
  readonly lane: Lane<V>;
  live: boolean;
}

/**
 * One TTL's entries in insertion order, which within one TTL is expiry
 * order: an array read from `head`, not a `Map`. V8 leaves a deleted Map
 * entry as a hole until the table is rebuilt, and an iteration starts at the
 * first slot, so a Map whose oldest entries are deleted as new ones arrive
 * made every sweep walk up to half the table's capacity of holes (measured:
 * 600k throttler buckets at 10k new keys a second, 90–105 µs per hit
 * instead of about 3).
 */
interface Lane<V> {
  readonly ttl: number;
  /** Entries that are never dropped to make room (`set(..., { pinned: true })`). */
  readonly pinned: boolean;
  items: Entry<V>[];
  head: number;
  /**
   * Where the search for an entry to drop resumes: the items before it are
   * gone or were found not evictable. Without it, each drop behind a lock
   * walked again over every slot the drops before it had emptied.
   */
  evictFrom: number;
  /** Items from `head` on that are no longer live. */
  dead: number;
}

/** Below this many items a lane is never compacted: copying would cost more than skipping. */
const COMPACT_AT = 1_024;

/**
 * Entries that each expire after their own TTL, dropped in expiry order by
 * `sweep()`. A single insertion-ordered queue is not enough once TTLs differ
 * (a 60 s lock and a 24 h record): one long-lived entry at its front would
 * hold back every shorter-lived one behind it, so memory would follow the
 * longest TTL. One lane per distinct TTL keeps each sweep to the expired
 * entries plus one live entry per lane.
 */
export class ExpiringMap<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly lanes = new Map<number, Lane<V>>();
  private readonly pinnedLanes = new Map<number, Lane<V>>();
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
   * and nothing is stored. A `pinned` entry is never dropped to make room
   * (it still expires): it is kept apart, so no search for one to drop
   * passes over it.
   */
  set(
    key: string,
    value: V,
    ttlMs: number,
    now = Date.now(),
    { pinned = false }: { pinned?: boolean } = {},
  ): boolean {
    const replaced = this.entries.has(key);
    if (!replaced && !this.makeRoom(now)) return false;
    if (replaced) this.delete(key);
    const lanes = pinned ? this.pinnedLanes : this.lanes;
    let lane = lanes.get(ttlMs);
    if (!lane)
      lanes.set(
        ttlMs,
        (lane = {
          ttl: ttlMs,
          pinned,
          items: [],
          head: 0,
          evictFrom: 0,
          dead: 0,
        }),
      );
    const expiresAt = now + ttlMs;
    const entry: Entry<V> = { key, value, expiresAt, lane, live: true };
    lane.items.push(entry);
    this.entries.set(key, entry);
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
      const lane = this.lanes.get(ttl)!;
      for (
        let i = Math.max(lane.head, lane.evictFrom);
        i < lane.items.length;
        i++
      ) {
        const entry = lane.items[i];
        lane.evictFrom = i + 1;
        if (!entry.live || !capacity.evictable(entry.value as V)) continue;
        this.delete(entry.key);
        capacity.onEvict?.(entry.key);
        return true;
      }
    }
    return false;
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    // Its item stays queued until the head passes it; the value goes now.
    entry.live = false;
    entry.value = undefined;
    const lane = entry.lane;
    lane.dead++;
    this.settle(lane);
  }

  sweep(now = Date.now()): void {
    if (now < this.nextExpiry) return;
    // Two plain loops: this runs on most hits of a busy store.
    this.nextExpiry = Math.min(
      this.sweepLanes(this.lanes, now),
      this.sweepLanes(this.pinnedLanes, now),
    );
  }

  /** Drops the expired entries of `lanes`; the earliest expiry left. */
  private sweepLanes(lanes: Map<number, Lane<V>>, now: number): number {
    let next = Infinity;
    for (const lane of lanes.values()) {
      const items = lane.items;
      while (lane.head < items.length) {
        const entry = items[lane.head];
        if (entry.live) {
          if (entry.expiresAt > now) {
            if (entry.expiresAt < next) next = entry.expiresAt;
            break;
          }
          this.entries.delete(entry.key);
          entry.live = false;
          entry.value = undefined;
        } else lane.dead--;
        lane.head++;
      }
      this.settle(lane);
    }
    return next;
  }

  /**
   * Passes dead items at the head, drops an empty lane (the next entry of its
   * TTL starts a new one), and compacts a lane
   * when its consumed or dead items outnumber its live ones (amortised O(1)
   * per entry; dead items pile up behind an entry that may not be evicted).
   */
  private settle(lane: Lane<V>): void {
    const items = lane.items;
    while (lane.head < items.length && !items[lane.head].live) {
      lane.head++;
      lane.dead--;
    }
    if (lane.head === items.length) {
      (lane.pinned ? this.pinnedLanes : this.lanes).delete(lane.ttl);
      return;
    }
    const waste = lane.head + lane.dead;
    if (waste >= COMPACT_AT && waste * 2 > items.length) {
      lane.items = items.slice(lane.head).filter((entry) => entry.live);
      lane.head = 0;
      lane.evictFrom = 0;
      lane.dead = 0;
    }
  }
}
