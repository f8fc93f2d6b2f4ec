import { performance } from 'node:perf_hooks';
import { ProblemConfig } from '../problem/problem.config';
import { ProblemException } from '../problem/problem.exception';
import { ProblemMapper } from '../problem/problem.mapper';
import { ProblemTypeCatalog } from '../problem/problem-type.catalog';
import { InMemoryOperationStore } from './in-memory-operation.store';
import type { Operation, OperationRecord } from './operation';
import type { OperationStore } from './operation-store.interface';
import { OperationsService } from './operations.service';

function service(store?: InMemoryOperationStore): OperationsService {
  const config = new ProblemConfig({});
  return new OperationsService(
    new ProblemMapper(config, new ProblemTypeCatalog(config, {})),
    store,
  );
}

async function settle(
  operations: OperationsService,
  id: string,
  owner?: string,
): Promise<Operation> {
  for (let i = 0; i < 100; i++) {
    const operation = await operations.get(id, { owner });
    if (operation.finished) return operation;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('operation did not finish');
}

describe('OperationsService', () => {
  it.each([
    [1.5, 2],
    [-3, 0],
    [Number.NaN, 1],
  ])(
    'keeps Retry-After a whole, non-negative number of seconds (%s -> %s)',
    async (retryAfter, sent) => {
      const started = await service().start('test', () => Promise.resolve({}), {
        retryAfter,
      });
      expect(started.retryAfter).toBe(sent);
    },
  );

  it('runs work in the background: pending, then done with its result', async () => {
    const operations = service();
    const started = await operations.start(
      'test',
      () => Promise.resolve({ resultHref: '/results/1' }),
      {
        retryAfter: 3,
      },
    );
    expect(started.status).toBe('pending');
    expect(started.retryAfter).toBe(3);
    const done = await settle(operations, started.id);
    expect(done.status).toBe('done');
    expect(done.resultHref).toBe('/results/1');
    expect(Object.keys(done)).not.toContain('resultHref');
  });

  it('stores a failure as a problem without internals', async () => {
    const operations = service();
    const started = await operations.start('test', () =>
      Promise.reject(new Error('db password=hunter2')),
    );
    const failed = await settle(operations, started.id);
    expect(failed.status).toBe('failed');
    expect(failed.problem).toMatchObject({
      status: 500,
      title: 'Internal Server Error',
    });
    expect(JSON.stringify(failed)).not.toContain('hunter2');
  });

  const unreadable: [string, () => unknown][] = [
    [
      'an Error whose stack getter throws',
      () => {
        const error = new Error('x');
        Object.defineProperty(error, 'stack', {
          get() {
            throw new Error('stack unavailable');
          },
        });
        return error;
      },
    ],
    [
      'a Proxy whose every trap throws',
      () =>
        new Proxy(
          {},
          {
            get() {
              throw new Error('get');
            },
            getPrototypeOf() {
              throw new Error('getPrototypeOf');
            },
            ownKeys() {
              throw new Error('ownKeys');
            },
          },
        ),
    ],
  ];

  it.each(unreadable)(
    'stores a failure as a 500 problem when the job throws %s',
    async (_name, thrown) => {
      const rejections: unknown[] = [];
      const onRejection = (reason: unknown) => rejections.push(reason);
      process.on('unhandledRejection', onRejection);
      try {
        const operations = service();
        // A job may reject with anything: that is what is under test.
        const started = await operations.start('test', () =>
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          Promise.reject(thrown()),
        );
        const failed = await settle(operations, started.id);
        expect(failed.status).toBe('failed');
        expect(failed.problem).toMatchObject({
          status: 500,
          title: 'Internal Server Error',
          instance: `urn:uuid:${started.id}`,
        });
        await new Promise((resolve) => setImmediate(resolve));
        expect(rejections).toEqual([]);
      } finally {
        process.off('unhandledRejection', onRejection);
      }
    },
  );

  it('keeps the detail of a deliberate problem', async () => {
    const operations = service();
    const started = await operations.start('test', () =>
      Promise.reject(
        new ProblemException(422, { detail: 'Nothing to report.' }),
      ),
    );
    expect((await settle(operations, started.id)).problem).toMatchObject({
      status: 422,
      detail: 'Nothing to report.',
    });
  });

  it('answers an unknown id with a 404 problem', async () => {
    await expect(service().get('nope')).rejects.toMatchObject({ status: 404 });
  });

  it("answers another owner's operation as an unknown one", async () => {
    const operations = service();
    const started = await operations.start('test', () => Promise.resolve({}), {
      owner: 'ann',
    });
    expect(Object.keys(started)).not.toContain('owner');
    expect((await operations.get(started.id, { owner: 'ann' })).id).toBe(
      started.id,
    );
    for (const reader of [{ owner: 'bob' }, {}])
      await expect(operations.get(started.id, reader)).rejects.toMatchObject({
        status: 404,
      });
    // The owner outlives the updates of the work.
    const done = await settle(operations, started.id, 'ann');
    expect(done.status).toBe('done');
    await expect(operations.get(started.id, {})).rejects.toMatchObject({
      status: 404,
    });
    // Without an owner, anyone the route lets in reads it, as before.
    const open = await operations.start('test', () => Promise.resolve({}));
    expect((await operations.get(open.id, { owner: 'bob' })).id).toBe(open.id);
  });

  it.each([Number.NaN, 0, -1, Infinity])(
    'refuses a ttlMs of %s, which would keep no operation',
    async (ttlMs) => {
      const work = jest.fn(() => Promise.resolve({}));
      await expect(service().start('test', work, { ttlMs })).rejects.toThrow(
        /ttlMs must be a number of milliseconds above 0/,
      );
      await new Promise((resolve) => setImmediate(resolve));
      expect(work).not.toHaveBeenCalled();
    },
  );
});

describe('InMemoryOperationStore', () => {
  it('forgets records after their TTL', async () => {
    const store = new InMemoryOperationStore();
    const record = {
      id: 'a',
      kind: 'k',
      status: 'pending' as const,
      createdAt: '',
      updatedAt: '',
      retryAfter: 1,
    };
    await store.save(record, 10);
    expect(await store.get('a')).toEqual(record);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await store.get('a')).toBeUndefined();
  });
});

describe('InMemoryOperationStore with maxRecords', () => {
  it('refuses a new operation with a 503 while every kept one is unfinished, then drops the oldest finished one', async () => {
    const operations = service(new InMemoryOperationStore({ maxRecords: 1 }));
    let finish!: () => void;
    const first = await operations.start(
      'slow',
      () => new Promise<void>((resolve) => (finish = resolve)),
    );
    await expect(
      operations.start('refused', () => Promise.resolve()),
    ).rejects.toMatchObject({ status: 503 });
    await new Promise((resolve) => setImmediate(resolve));
    finish();
    expect((await settle(operations, first.id)).status).toBe('done');
    const second = await operations.start('next', () => Promise.resolve());
    expect((await settle(operations, second.id)).status).toBe('done');
    await expect(operations.get(first.id)).rejects.toMatchObject({
      status: 404,
    });
  });

  it('refuses a maxRecords that is not a whole number above 0', () => {
    expect(() => new InMemoryOperationStore({ maxRecords: 0 })).toThrow(
      /InMemoryOperationStore: maxRecords must be a whole number above 0/,
    );
  });
});

describe('OperationsService leases', () => {
  const running = (id: string, runner: string): OperationRecord => ({
    id,
    kind: 'k',
    status: 'running',
    createdAt: 'then',
    updatedAt: 'then',
    retryAfter: 1,
    runner,
    ttlMs: 60_000,
  });
  const id = '00000000-0000-4000-8000-000000000001';

  it("stores an operation as failed (503) once its instance's lease lapsed, and answers it so", async () => {
    const store = new InMemoryOperationStore();
    await store.renewLease('killed', 5);
    await store.save(running(id, 'killed'), 60_000);
    const operations = service(store);
    expect((await operations.get(id)).status).toBe('running');
    for (
      let tries = 0;
      tries < 100 && (await store.hasLease('killed'));
      tries++
    )
      await new Promise((resolve) => setTimeout(resolve, 5));
    const failed = await operations.get(id);
    expect(failed.status).toBe('failed');
    expect(failed.problem).toMatchObject({
      status: 503,
      detail:
        'The instance running this operation stopped before it finished; start it again.',
      instance: `urn:uuid:${id}`,
    });
    expect(await store.get(id)).toMatchObject({
      status: 'failed',
      updatedAt: failed.updatedAt,
    });
  });

  it('renews one lease while work runs, and stops once none runs', async () => {
    const store = new InMemoryOperationStore();
    const renewals = jest.spyOn(store, 'renewLease');
    const config = new ProblemConfig({});
    const operations = new OperationsService(
      new ProblemMapper(config, new ProblemTypeCatalog(config, {})),
      store,
      { operations: { leaseMs: 30 } },
    );
    let finish!: () => void;
    const gate = new Promise<void>((resolve) => (finish = resolve));
    const started = await Promise.all([
      operations.start('a', () => gate),
      operations.start('b', () => gate),
    ]);
    for (let tries = 0; tries < 100 && renewals.mock.calls.length < 4; tries++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    // One lease for the instance, whatever the number of operations.
    expect(new Set(renewals.mock.calls.map(([runner]) => runner)).size).toBe(1);
    expect(renewals.mock.calls.length).toBeGreaterThanOrEqual(4);
    finish();
    for (const { id: startedId } of started)
      expect((await settle(operations, startedId)).status).toBe('done');
    await new Promise((resolve) => setImmediate(resolve));
    const after = renewals.mock.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(renewals.mock.calls.length).toBe(after);
  });

  it("never lets a live instance's lease lapse when its timer starts again after an idle spell", async () => {
    jest.useFakeTimers({ now: 0 });
    jest.spyOn(performance, 'now').mockImplementation(() => Date.now());
    const store = new InMemoryOperationStore();
    const renewLease = store.renewLease.bind(store);
    // The store is slower after the first renewal (20 ms, far less than the
    // third of a lease that renewing every third of it allows for).
    let latencyMs = 0;
    jest
      .spyOn(store, 'renewLease')
      .mockImplementation(
        (runner, leaseMs) =>
          new Promise((resolve) =>
            setTimeout(() => resolve(renewLease(runner, leaseMs)), latencyMs),
          ),
      );
    const leased = () => {
      const config = new ProblemConfig({});
      return new OperationsService(
        new ProblemMapper(config, new ProblemTypeCatalog(config, {})),
        store,
        { operations: { leaseMs: 300 } },
      );
    };
    const runner = leased();
    const reader = leased();
    try {
      const starting = runner.start('quick', () => Promise.resolve());
      await jest.advanceTimersByTimeAsync(1);
      const quick = await starting;
      await jest.advanceTimersByTimeAsync(10);
      // Its only work is done: its timer stops, its lease runs on.
      expect((await reader.get(quick.id)).status).toBe('done');
      latencyMs = 20;
      await jest.advanceTimersByTimeAsync(180);
      const startingSlow = runner.start('slow', () => new Promise(() => {}));
      await jest.advanceTimersByTimeAsync(latencyMs);
      const slow = await startingSlow;
      // Another instance reads it every millisecond for two leases.
      for (let t = 0; t < 600; t++) {
        expect((await reader.get(slow.id)).status).not.toBe('failed');
        await jest.advanceTimersByTimeAsync(1);
      }
    } finally {
      await runner.beforeApplicationShutdown();
      jest.useRealTimers();
      jest.restoreAllMocks();
    }
  });

  it('shuts down when the store throws at once on storing an operation whose work had not begun', async () => {
    const store = new InMemoryOperationStore();
    jest.spyOn(store, 'saveUnlessFinished').mockImplementation(() => {
      throw new Error('Connection is closed.');
    });
    const operations = service(store);
    const work = jest.fn(() => new Promise<void>(() => {}));
    await operations.start('k', work);
    // Shutdown comes before the work's first turn.
    await expect(
      operations.beforeApplicationShutdown(),
    ).resolves.toBeUndefined();
    await new Promise((resolve) => setImmediate(resolve));
    expect(work).not.toHaveBeenCalled();
  });

  it('stores at shutdown the outcome the store could not take, though it is read on its instance meanwhile', async () => {
    const store = new InMemoryOperationStore();
    const saveUnlessFinished = store.saveUnlessFinished.bind(store);
    let refusals = 1;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    // The store refuses the outcome once, then takes its time at shutdown.
    jest
      .spyOn(store, 'saveUnlessFinished')
      .mockImplementation(async (record, ttlMs) => {
        if (record.status === 'done') {
          if (refusals-- > 0) throw new Error('ECONNREFUSED');
          await gate;
        }
        return saveUnlessFinished(record, ttlMs);
      });
    const operations = service(store);
    const started = await operations.start('k', () =>
      Promise.resolve({ resultHref: '/results/7' }),
    );
    for (let tries = 0; tries < 100 && refusals > 0; tries++)
      await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setImmediate(resolve));
    const closing = operations.beforeApplicationShutdown();
    // A read on this instance while that last write is under way.
    expect((await operations.get(started.id)).status).not.toBe('failed');
    open();
    await closing;
    expect(await store.get(started.id)).toMatchObject({
      status: 'done',
      resultHref: '/results/7',
    });
  });

  it('renews a lease longer than a timer can wait no more often than a timer can wait', async () => {
    const store = new InMemoryOperationStore();
    const renewals = jest.spyOn(store, 'renewLease');
    const config = new ProblemConfig({});
    const operations = new OperationsService(
      new ProblemMapper(config, new ProblemTypeCatalog(config, {})),
      store,
      { operations: { leaseMs: 2 ** 33 } },
    );
    let finish!: () => void;
    const started = await operations.start(
      'long',
      () => new Promise<void>((resolve) => (finish = resolve)),
    );
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(renewals).toHaveBeenCalledTimes(1);
    finish();
    expect((await settle(operations, started.id)).status).toBe('done');
  });

  it('keeps one of two outcomes stored at once in memory too', async () => {
    const store = new InMemoryOperationStore();
    const base = running(id, 'r');
    await store.save(base, 60_000);
    const [first, second] = await Promise.all([
      store.saveUnlessFinished({ ...base, status: 'failed' }, 60_000),
      store.saveUnlessFinished({ ...base, status: 'done' }, 60_000),
    ]);
    expect(first.status).toBe('failed');
    expect(second).toBe(first);
    expect(await store.get(id)).toBe(first);
  });

  it('stores the outcome of finished work once the store is back, not a failure made of the store error', async () => {
    const store = new InMemoryOperationStore();
    const saveUnlessFinished = store.saveUnlessFinished.bind(store);
    let refusals = 3;
    // The store is down when the work ends: its first writes of the outcome fail.
    jest
      .spyOn(store, 'saveUnlessFinished')
      .mockImplementation((record, ttlMs) =>
        record.status !== 'running' && refusals-- > 0
          ? Promise.reject(new Error('ECONNREFUSED'))
          : saveUnlessFinished(record, ttlMs),
      );
    const config = new ProblemConfig({});
    const operations = new OperationsService(
      new ProblemMapper(config, new ProblemTypeCatalog(config, {})),
      store,
      { operations: { leaseMs: 30 } },
    );
    const started = await operations.start('k', () =>
      Promise.resolve({ resultHref: '/results/9' }),
    );
    const done = await settle(operations, started.id);
    expect(done.status).toBe('done');
    expect(done.resultHref).toBe('/results/9');
  });

  it('leaves a store without leases as it was: plain saves, no lease, an operation of another instance read as stored', async () => {
    const records = new Map<string, OperationRecord>();
    const store: OperationStore = {
      save: (record) => {
        records.set(record.id, record);
        return Promise.resolve();
      },
      get: (key) => Promise.resolve(records.get(key)),
    };
    const operations = new OperationsService(
      new ProblemMapper(
        new ProblemConfig({}),
        new ProblemTypeCatalog(new ProblemConfig({}), {}),
      ),
      store,
    );
    const started = await operations.start('k', () => Promise.resolve());
    expect(records.get(started.id)).not.toHaveProperty('runner');
    expect((await settle(operations, started.id)).status).toBe('done');
    records.set(id, running(id, 'unknown'));
    expect((await operations.get(id)).status).toBe('running');
  });
});
