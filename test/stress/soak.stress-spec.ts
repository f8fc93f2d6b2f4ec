import autocannon from 'autocannon';
import { ADAPTERS, startSample, type RunningApp } from '../support/adapters';
import { validateProblem } from '../support/problem-schema';
import { tokenFor } from '../support/sample-client';

const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 30);
/**
 * Stated bound for the soak: the heap after a forced GC (test process,
 * server and client together) may grow at most this much. It holds the
 * orders, reports and operations the soak itself creates.
 */
const HEAP_GROWTH_BOUND_MB = 64;

interface Tally {
  responses: number;
  outsideContract: string[];
  serverErrors: number;
  byStatus: Record<number, number>;
}

/**
 * Every success HAL (or /health's plain JSON), every error a valid problem.
 * Judged from the response alone: autocannon does not reliably say which of
 * the rotating requests a response answers.
 */
function inContract(
  status: number,
  body: string,
  headers: Record<string, string | string[]>,
): boolean {
  const contentType = String(
    Object.entries(headers).find(
      ([name]) => name.toLowerCase() === 'content-type',
    )?.[1] ?? '',
  );
  if (status === 204) return body === '';
  let parsed: Record<string, any>;
  try {
    parsed = JSON.parse(body) as Record<string, any>;
  } catch {
    return false;
  }
  if (status >= 400)
    return (
      contentType.startsWith('application/problem+json') &&
      validateProblem(parsed)
    );
  if (contentType.startsWith('application/json'))
    return body === '{"status":"ok"}';
  return (
    contentType.startsWith('application/hal+json') &&
    typeof parsed._links?.self?.href === 'string'
  );
}

describe.each(ADAPTERS)('soak of the sample on %s', (adapter) => {
  let running: RunningApp;
  beforeAll(async () => {
    running = await startSample(adapter, {
      THROTTLE_LIMIT: '1000000',
      REPORT_DELAY_MS: '5',
    });
  });
  afterAll(() => running.close());

  it(
    `holds ${SOAK_SECONDS} s of mixed traffic at saturation inside the contract`,
    async () => {
      const token = await tokenFor(running.baseUrl);
      const auth = {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
      };
      const tally: Tally = {
        responses: 0,
        outsideContract: [],
        serverErrors: 0,
        byStatus: {},
      };
      const record = (
        status: number,
        body: string,
        _context: unknown,
        headers: Record<string, string | string[]>,
      ) => {
        tally.responses++;
        tally.byStatus[status] = (tally.byStatus[status] ?? 0) + 1;
        if (status >= 500) tally.serverErrors++;
        if (
          !inContract(status, body, headers) &&
          tally.outsideContract.length < 5
        ) {
          tally.outsideContract.push(`${status} ${body.slice(0, 120)}`);
        }
      };
      const order = JSON.stringify({
        items: [{ sku: 'soak', quantity: 1, unitPrice: 2 }],
        currency: 'EUR',
      });
      const requests = [
        { method: 'GET', path: '/', onResponse: record },
        {
          method: 'GET',
          path: '/orders?size=5',
          headers: auth,
          onResponse: record,
        },
        {
          method: 'POST',
          path: '/orders',
          headers: auth,
          body: order,
          onResponse: record,
        },
        {
          method: 'POST',
          path: '/orders',
          headers: auth,
          body: '{"items":',
          onResponse: record,
        },
        {
          method: 'POST',
          path: '/orders',
          headers: auth,
          body: '{}',
          onResponse: record,
        },
        {
          method: 'GET',
          path: '/orders/nope',
          headers: auth,
          onResponse: record,
        },
        { method: 'GET', path: '/orders', onResponse: record },
        {
          method: 'PUT',
          path: '/orders',
          headers: auth,
          onResponse: record,
        },
        {
          method: 'POST',
          path: '/reports',
          headers: auth,
          onResponse: record,
        },
        { method: 'GET', path: '/health', onResponse: record },
      ] as const;
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      const before = process.memoryUsage();
      const result = await autocannon({
        url: running.baseUrl,
        connections: 16,
        duration: SOAK_SECONDS,
        requests: requests as unknown as autocannon.Request[],
      });
      gc?.();
      const after = process.memoryUsage();
      const growthMb = (after.heapUsed - before.heapUsed) / 1024 / 1024;
      const rssGrowthMb = (after.rss - before.rss) / 1024 / 1024;
      process.stdout.write(
        `soak ${adapter}: ${tally.responses} responses in ${SOAK_SECONDS} s (${Math.round(result.requests.average)} req/s), ` +
          `statuses ${JSON.stringify(tally.byStatus)}, heap growth ${growthMb.toFixed(1)} MB (RSS ${rssGrowthMb.toFixed(1)} MB), errors ${result.errors}, timeouts ${result.timeouts}\n`,
      );
      expect(tally.responses).toBeGreaterThan(1000);
      expect(tally.outsideContract).toEqual([]);
      expect(tally.serverErrors).toBe(0);
      expect(result.errors).toBe(0);
      expect(gc).toBeDefined();
      expect(growthMb).toBeLessThan(HEAP_GROWTH_BOUND_MB);
      // The server is still healthy afterwards.
      expect((await fetch(`${running.baseUrl}/health`)).status).toBe(200);
    },
    (SOAK_SECONDS + 30) * 1000,
  );
});
