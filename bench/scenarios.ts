/** What each benchmark scenario sends; every subject serves the same routes with the same data. */
export interface Scenario {
  readonly name: string;
  readonly kind: 'success' | 'error';
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** The status every subject must answer once warmed up (see {@link checkStatuses}). */
  readonly status: number;
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'hal-resource',
    kind: 'success',
    method: 'GET',
    path: '/orders/1',
    status: 200,
  },
  {
    name: 'hal-page',
    kind: 'success',
    method: 'GET',
    path: '/orders?page=2&size=20',
    status: 200,
  },
  {
    name: 'problem-404',
    kind: 'error',
    method: 'GET',
    path: '/orders/missing',
    status: 404,
  },
  {
    name: 'problem-400',
    kind: 'error',
    method: 'POST',
    path: '/orders',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ items: 'none', currency: 'CHF', extra: true }),
    status: 400,
  },
  {
    name: 'problem-401',
    kind: 'error',
    method: 'GET',
    path: '/secure',
    status: 401,
  },
  // The route allows one request an hour: the warm-up spends it.
  {
    name: 'throttled-429',
    kind: 'error',
    method: 'GET',
    path: '/limited',
    status: 429,
  },
  {
    name: 'throttled-200',
    kind: 'success',
    method: 'GET',
    path: '/metered',
    status: 200,
  },
  {
    name: 'idempotent-replay',
    kind: 'success',
    method: 'POST',
    path: '/payments',
    headers: {
      'content-type': 'application/json',
      'idempotency-key': '"bench-key"',
    },
    body: JSON.stringify({ amount: 10 }),
    status: 200,
  },
];

/**
 * Throws unless every response counted had the scenario's status and no
 * request failed. A figure for the wrong response is worse than none: the
 * throttled 200 of the run published before this check measured the
 * module's 429s (a bucket shared with the rate-limited route), and read as
 * the module being 8× faster than bare Nest.
 */
export function checkStatuses(
  label: string,
  scenario: Scenario,
  statuses: Readonly<Record<string, { count?: number }>> | undefined,
  failures = 0,
): void {
  const wrong = Object.entries(statuses ?? {})
    .filter(
      ([status, { count = 0 }]) =>
        count > 0 && Number(status) !== scenario.status,
    )
    .map(([status, { count }]) => `${count} × ${status}`);
  if (failures > 0) wrong.push(`${failures} failed requests`);
  if (wrong.length > 0)
    throw new Error(
      `${label} ${scenario.name}: expected only ${scenario.status}, got ${wrong.join(', ')}; its figures would not measure the scenario`,
    );
}

/** Where the cost of the contract's bytes alone is measured too (`bare-contract`). */
export const DECOMPOSED: readonly string[] = [
  'hal-resource',
  'hal-page',
  'problem-404',
  'problem-401',
];

/**
 * `bare-contract` is bare Nest sending, by hand, the bytes the contract asks
 * for: the same headers (`Content-Type`, `Vary`, a request id of the same
 * length) and, for errors, a problem document with the same members, from a
 * 20-line filter. What separates it from `bare` is the cost of the contract
 * itself; what separates the module from it is the cost of the module's code.
 */
export type Subject = 'raw' | 'bare' | 'bare-contract' | 'module' | 'peer';
export type Adapter = 'express' | 'fastify';

export interface OrderData {
  id: string;
  status: 'open' | 'shipped';
  total: number;
  currency: string;
  items: { sku: string; quantity: number; unitPrice: number }[];
}

/** The same 100 orders for every subject. */
export const ORDERS: readonly OrderData[] = Array.from(
  { length: 100 },
  (_, i) => ({
    id: String(i + 1),
    status: i % 3 === 0 ? 'shipped' : 'open',
    total: 10 * (i + 1),
    currency: 'EUR',
    items: [{ sku: `sku-${i + 1}`, quantity: 1, unitPrice: 10 * (i + 1) }],
  }),
);

/** The adapters a run covers: `BENCH_ADAPTERS` (comma-separated), else both. */
export const SELECTED_ADAPTERS = (
  process.env.BENCH_ADAPTERS ?? 'express,fastify'
).split(',') as Adapter[];

/**
 * The scenarios of the per-request benches (`bench:cpu`,
 * `bench:instructions`): `BENCH_SCENARIOS`, else all but `throttled-200`,
 * which is left out unless named: @nestjs/throttler's in-memory store keeps
 * one timestamp per hit of the window and filters them on every request, and
 * the bench's limit is 10^9, so that scenario's cost grows with the number of
 * requests measured (hundreds of µs after 100k, for every subject) and says
 * nothing about the module.
 */
export const PER_REQUEST_SCENARIOS: readonly Scenario[] = SCENARIOS.filter(
  ({ name }) =>
    process.env.BENCH_SCENARIOS?.split(',').includes(name) ??
    name !== 'throttled-200',
);
