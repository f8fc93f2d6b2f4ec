// `npm run bench:stores`: the in-memory stores under churn, where every
// request brings a key the store has not seen (clients spread over many
// addresses, a new Idempotency-Key per request) and old entries expire as new
// ones arrive. Time per call and heap per kept entry, one process, no HTTP.
//
// The stores read `Date.now()`; here it is a simulated clock that advances
// by `1 / rate` per call, so an hour of traffic runs in seconds and expiry
// happens as it would at that rate.
import { spawnSync } from 'node:child_process';
import { InMemoryIdempotencyStore } from '../libs/hal-problem/src/idempotency/in-memory-idempotency.store';
import { InMemoryThrottlerStorage } from '../libs/hal-problem/src/throttle/in-memory-throttler.storage';

interface Churn {
  name: string;
  /** New keys per simulated second. */
  rate: number;
  calls: number;
  /** One call for key `i`; resolves when the store has answered. */
  call: (i: number) => Promise<unknown>;
  size: () => number;
}

let clock = Date.UTC(2026, 10, 27);
const realNow = Date.now;

async function measure(make: () => Churn): Promise<void> {
  // The store's heap: the growth from a full GC before it is built to a
  // full GC after its last call, the store still referenced.
  global.gc!();
  const heapBefore = process.memoryUsage().heapUsed;
  const churn = make();
  const step = 1_000 / churn.rate;
  const micros = new Float64Array(churn.calls);
  let over10ms = 0;
  Date.now = () => Math.floor(clock);
  const started = realNow();
  for (let i = 0; i < churn.calls; i++) {
    clock += step;
    const t = process.hrtime.bigint();
    await churn.call(i);
    const us = Number(process.hrtime.bigint() - t) / 1_000;
    micros[i] = us;
    if (us > 10_000) over10ms++;
  }
  Date.now = realNow;
  global.gc!();
  // The timings' Float64Array lives outside the V8 heap: not counted here.
  const heapDelta = process.memoryUsage().heapUsed - heapBefore;
  const kept = churn.size();
  micros.sort();
  const mean = micros.reduce((a, b) => a + b, 0) / micros.length;
  const at = (q: number) => micros[Math.floor(q * (micros.length - 1))];
  console.log(
    `| ${churn.name} | ${churn.calls} | ${kept} | ${mean.toFixed(2)} | ${at(0.5).toFixed(2)} | ${at(0.999).toFixed(1)} | ${(at(1) / 1_000).toFixed(1)} | ${over10ms} | ${(heapDelta / 1e6).toFixed(1)} | ${Math.round(heapDelta / kept)} | ${((realNow() - started) / 1_000).toFixed(1)} |`,
  );
}

const BODY = JSON.stringify({ id: 'x'.repeat(360), status: 'open' });

function throttler(maxBuckets: number, label: string): Churn {
  const storage = new InMemoryThrottlerStorage({ maxBuckets });
  return {
    name: `throttler, ${label}, 60 s window`,
    rate: 10_000,
    calls: 1_200_000,
    call: (i) =>
      storage.increment(`client-${i}`, 60_000, 100, 60_000, 'default'),
    size: () => storage.size,
  };
}

function idempotency(maxRecords: number, label: string): Churn {
  const store = new InMemoryIdempotencyStore({ maxRecords });
  return {
    name: `idempotency, ${label}, 60 s records`,
    rate: 2_000,
    calls: 300_000,
    call: async (i) => {
      const key = `key-${i}`;
      await store.acquire(key, 'fingerprint', 5_000, 'owner');
      await store.complete(
        key,
        {
          fingerprint: 'fingerprint',
          state: 'completed',
          response: { status: 201, headers: {}, body: BODY },
        },
        60_000,
        'owner',
      );
    },
    size: () =>
      (store as unknown as { records: { size: number } }).records.size,
  };
}

const CHURNS: (() => Churn)[] = [
  () => throttler(Infinity, 'no cap'),
  () => throttler(100_000, 'default cap (100,000)'),
  () => idempotency(Infinity, 'no cap'),
  () => idempotency(10_000, 'default cap (10,000)'),
];

async function main(): Promise<void> {
  const which = process.argv[2];
  if (which !== undefined) {
    // A child: one churn in a heap of its own.
    if (!global.gc) throw new Error('run with node --expose-gc');
    await measure(CHURNS[Number(which)]);
    return;
  }
  console.log(
    `Node ${process.version}; simulated clock; a new key on every call.\n`,
  );
  console.log(
    '| churn | calls | kept | mean µs | median µs | p99.9 µs | worst ms | calls over 10 ms | heap MB kept | bytes per entry | seconds |',
  );
  console.log(
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (let i = 0; i < CHURNS.length; i++) {
    spawnSync(process.execPath, ['--expose-gc', __filename, String(i)], {
      stdio: ['ignore', 'inherit', 'ignore'],
    });
  }
}

void main();
