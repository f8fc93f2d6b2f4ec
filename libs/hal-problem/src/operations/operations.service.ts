import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  Optional,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import type { HalProblemModuleOptions } from '../hal-problem-module-options.interface';
import { HAL_PROBLEM_MODULE_OPTIONS } from '../hal-problem.module-definition';
import { defineProblemType } from '../problem/problem-type';
import {
  ProblemMapper,
  type ProblemRequestContext,
} from '../problem/problem.mapper';
import { isFinished, Operation, type OperationRecord } from './operation';
import {
  OPERATION_STORE,
  type OperationStore,
} from './operation-store.interface';
import { InMemoryOperationStore } from './in-memory-operation.store';
import { clientProblem } from '../problem/without-stack';
import { retryAfterSeconds } from '../problem/problem.mapper';
import { ProblemException } from '../problem/problem.exception';
import type { ProblemDetails } from '../problem/problem-details.interface';
import { bareServerError } from '../problem/http-status';
import { describeError } from '../problem/describe-error';

/** The form of the ids `start()` gives (`randomUUID()`, lower case). */
const OPERATION_ID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What the mapper is told of an operation's failure: no request, its URN as `instance`. */
function operationContext(id: string): ProblemRequestContext {
  return { method: 'OPERATION', path: `urn:uuid:${id}`, requestId: id };
}

/** Seconds a client is asked to wait while the operation store is down. */
const STORE_RETRY_AFTER_SECONDS = 5;

/** A store that cannot answer (Redis down) is the service being unavailable, not a fault. */
function storeUnavailable(action: string): (error: unknown) => never {
  return (error) => {
    throw ProblemException.serviceUnavailable(
      `Operations cannot be ${action} right now; retry shortly.`,
      { retryAfter: STORE_RETRY_AFTER_SECONDS, cause: error },
    );
  };
}

/** Asked for an operation that does not exist or has expired. */
export const OperationNotFound = defineProblemType({
  slug: 'operation-not-found',
  title: 'Operation not found',
  status: 404,
  description:
    'No operation has this id, or it finished too long ago to be kept.',
});

/** What a finished piece of work reports. */
export interface OperationOutcome {
  /** Where the result can be read, e.g. `/reports/42/result`. */
  resultHref?: string;
}

/** Module-level options of 202 operations (`HalProblemModule.forRoot({ operations })`). */
export interface OperationsOptions {
  /**
   * How long an instance's lease on the operations it runs lasts without
   * renewal (renewed every third of it). An unfinished operation whose
   * instance stopped renewing (killed, out of memory, its event loop blocked
   * that long) is answered and stored as failed (503) by the next read.
   * Default 30 s. Needs a store with leases (both stores here have them).
   */
  readonly leaseMs?: number;
}

/** The default `operations.leaseMs`. */
const DEFAULT_LEASE_MS = 30_000;
/** The longest delay Node's timers keep. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** The default `ttlMs` of an operation. */
const DEFAULT_TTL_MS = 3_600_000;

/** A value as JSON keeps it: members that are `undefined` dropped. */
function asJson(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

/**
 * Whether `saveUnlessFinished` kept another finished outcome than `written`.
 * It resolves `written` or that one, maybe as a copy (a database's: members
 * in another order, added or dropped), so outcomes are compared by what
 * they say, not by their form.
 */
function keptAnother(kept: OperationRecord, written: OperationRecord): boolean {
  if (!isFinished(kept)) return false;
  if (!isFinished(written)) return true;
  return (
    kept.status !== written.status ||
    kept.updatedAt !== written.updatedAt ||
    kept.resultHref !== written.resultHref ||
    !isDeepStrictEqual(asJson(kept.problem), asJson(written.problem))
  );
}

/** `operations.leaseMs`, checked at bootstrap as the other durations are. */
function checkedLeaseMs(value: number | undefined): number {
  const leaseMs = value ?? DEFAULT_LEASE_MS;
  // A lease under 3 ms would be renewed more often than timers fire; NaN
  // (an unset environment variable) would never be held.
  if (
    typeof leaseMs !== 'number' ||
    !(leaseMs >= 3) ||
    leaseMs > Number.MAX_SAFE_INTEGER
  )
    throw new TypeError(
      `HalProblemModule: operations.leaseMs must be a number of milliseconds of at least 3, not ${String(leaseMs)}`,
    );
  return leaseMs;
}

/** Options of `OperationsService.start()`. */
export interface StartOperationOptions {
  /** Seconds a client should wait between polls. Default 1. */
  retryAfter?: number;
  /** How long the operation is kept after its last update. Default 1 hour. */
  ttlMs?: number;
  /**
   * Who may read the operation, e.g. the caller's `principal.subject`:
   * `get(id, { owner })` with another owner, or none, answers 404 as for an
   * unknown id, so one client cannot follow another's work by its id.
   */
  owner?: string;
}

/** Options of `OperationsService.get()`. */
export interface GetOperationOptions {
  /** The reader, compared with the `owner` the operation was started with. */
  owner?: string;
}

/** What an instance keeps of each operation it runs. */
interface RunningEntry {
  interrupted: boolean;
  fail: (problem: ProblemDetails) => Promise<unknown>;
  /** Set when the store could not take its outcome: writes it again. */
  unstored?: () => void;
  /** The same, awaited, at shutdown. */
  storeOutcome?: () => Promise<void>;
}

/**
 * Runs work in the background and keeps its status, for the 202 pattern:
 * the handler returns `start(...)` with `@HttpCode(202)`, a status monitor
 * route returns `get(id)`. A failure is stored as a problem document made by
 * the same mapper as error responses, so it never carries internals.
 *
 * With a store that has leases, the instance holds one lease while it runs
 * work (one timer, renewed every third of `leaseMs`), and each operation
 * names it: a read that finds an unfinished operation whose lease lapsed
 * (its instance was killed) stores it as failed. The first finished outcome
 * stored is final: a late result of work whose lease lapsed is dropped.
 */
@Injectable()
export class OperationsService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('HalProblem');
  private readonly store: OperationStore;
  /**
   * Work running in this process, by id: at shutdown it is stored as
   * failed, or other instances sharing the store would report it
   * `running` to every poll until its lease lapses.
   */
  private readonly running = new Map<string, RunningEntry>();
  /** This instance's lease name, when the store has leases. */
  private readonly runner: string | undefined;
  private readonly leaseMs: number;
  private readonly renewEveryMs: number;
  private renewal: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  /** `performance.now()` of the last renewal that was stored. */
  private renewedAt = Number.NEGATIVE_INFINITY;
  private renewalFailing = false;

  constructor(
    private readonly mapper: ProblemMapper,
    @Optional() @Inject(OPERATION_STORE) store?: OperationStore,
    @Optional()
    @Inject(HAL_PROBLEM_MODULE_OPTIONS)
    options: HalProblemModuleOptions = {},
  ) {
    this.store = store ?? new InMemoryOperationStore();
    this.leaseMs = checkedLeaseMs(options.operations?.leaseMs);
    // Node runs a timer of more than 2^31 - 1 ms after 1 ms instead: renewing
    // a longer lease that often would flood the store.
    this.renewEveryMs = Math.min(
      Math.max(1, Math.floor(this.leaseMs / 3)),
      MAX_TIMER_MS,
    );
    const leases =
      typeof this.store.renewLease === 'function' &&
      typeof this.store.hasLease === 'function' &&
      typeof this.store.saveUnlessFinished === 'function';
    this.runner = leases ? randomUUID() : undefined;
  }

  async start(
    kind: string,
    work: (operation: Operation) => Promise<OperationOutcome | void>,
    options: StartOperationOptions = {},
  ): Promise<Operation> {
    const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    // A programming error, said at once: NaN (`Number()` of an unset
    // variable) or 0 kept no operation, or made Redis refuse every save.
    if (!(ttlMs > 0) || ttlMs > Number.MAX_SAFE_INTEGER)
      throw new TypeError(
        `OperationsService.start: ttlMs must be a number of milliseconds above 0, not ${String(ttlMs)}`,
      );
    const now = new Date().toISOString();
    const record: OperationRecord = {
      id: randomUUID(),
      kind,
      status: 'pending',
      createdAt: now,
      updatedAt: now,
      // Retry-After is a whole, non-negative number of seconds (RFC 9110 §10.2.3).
      retryAfter: retryAfterSeconds(options.retryAfter) ?? 1,
      ...(options.owner === undefined ? {} : { owner: options.owner }),
      ...(this.runner === undefined ? {} : { runner: this.runner, ttlMs }),
    };
    const entry: RunningEntry = {
      interrupted: false,
      // Until its work starts (run() replaces it): shutdown stores the failure all the same.
      fail: (problem) =>
        this.write(
          {
            ...record,
            status: 'failed',
            problem,
            updatedAt: new Date().toISOString(),
          },
          ttlMs,
        ),
    };
    // Known as running here before it is stored: a read on this instance
    // never takes it for the work of a stopped one.
    this.running.set(record.id, entry);
    try {
      // The lease exists before any record names it.
      await this.holdLease();
      await this.store.save(record, ttlMs);
    } catch (error) {
      this.running.delete(record.id);
      this.stopRenewingWhenIdle();
      storeUnavailable('started')(error);
    }
    const operation = new Operation(record);
    setImmediate(() => void this.run(operation, record, entry, work, ttlMs));
    return operation;
  }

  async get(id: string, options: GetOperationOptions = {}): Promise<Operation> {
    // Ids are start()'s UUIDs: anything else (16 kB of path, control or
    // bidi characters) is no operation, answered without a store lookup
    // and never echoed into the detail a client may display.
    if (!OPERATION_ID.test(id))
      throw clientProblem(OperationNotFound, {
        detail: 'There is no operation with this id.',
      });
    let record = await this.store.get(id).catch(storeUnavailable('read'));
    // Another owner's operation is not disclosed: the same 404.
    if (
      !record ||
      (record.owner !== undefined && record.owner !== options.owner)
    )
      throw clientProblem(OperationNotFound, {
        detail: `There is no operation ${id}.`,
      });
    if (!isFinished(record) && record.runner !== undefined)
      record = await this.failIfAbandoned(record).catch(
        storeUnavailable('read'),
      );
    return new Operation(record);
  }

  /**
   * An unfinished operation whose instance no longer holds its lease (it
   * was killed, or its outcome could not be stored) will never finish:
   * stored as failed, once, so every reader answers the same outcome.
   */
  private async failIfAbandoned(
    record: OperationRecord,
  ): Promise<OperationRecord> {
    const runner = record.runner!;
    const store = this.store;
    // A store without leases (another instance's, or a custom one) leaves it as it is.
    if (!store.hasLease || !store.saveUnlessFinished) return record;
    // Work of this instance is known here without asking the store.
    if (runner === this.runner) {
      if (this.running.has(record.id)) return record;
    } else if (await store.hasLease(runner)) return record;
    const problem = this.interruptedProblem(
      record.id,
      'The instance running this operation stopped before it finished; start it again.',
    );
    return store.saveUnlessFinished(
      {
        ...record,
        status: 'failed',
        problem,
        updatedAt: new Date().toISOString(),
      },
      record.ttlMs ?? DEFAULT_TTL_MS,
    );
  }

  private interruptedProblem(id: string, detail: string): ProblemDetails {
    return this.mapper.map(
      ProblemException.serviceUnavailable(detail),
      operationContext(id),
    ).body;
  }

  /**
   * Stores a change unless the operation already has its outcome (with a
   * store that can tell). Async, so a store that throws at once rejects.
   */
  private async write(
    record: OperationRecord,
    ttlMs: number,
  ): Promise<OperationRecord> {
    if (this.store.saveUnlessFinished)
      return this.store.saveUnlessFinished(record, ttlMs);
    await this.store.save(record, ttlMs);
    return record;
  }

  private async run(
    operation: Operation,
    base: OperationRecord,
    entry: RunningEntry,
    work: (operation: Operation) => Promise<OperationOutcome | void>,
    ttlMs: number,
  ): Promise<void> {
    const save = async (change: Partial<OperationRecord>) => {
      const record = {
        ...base,
        ...change,
        updatedAt: new Date().toISOString(),
      };
      const kept = await this.write(record, ttlMs);
      // Another instance stored an outcome first (this one's lease lapsed):
      // that outcome stands, and later changes of this work are dropped.
      if (keptAnother(kept, record)) {
        if (!entry.interrupted)
          this.logger.warn(
            `Operation ${operation.kind} ${operation.id} was stored as ${kept.status} while it ran here (this instance's lease lapsed): its ${record.status} outcome is dropped`,
          );
        entry.interrupted = true;
      }
    };
    entry.fail = (problem: ProblemDetails) =>
      save({ status: 'failed', problem });
    // Once stored as interrupted, the operation is finished: work that
    // still ends during shutdown does not turn it back to running or done.
    const update = async (change: Partial<OperationRecord>) => {
      if (!entry.interrupted) await save(change);
    };
    let outcome: Partial<OperationRecord>;
    try {
      try {
        await update({ status: 'running' });
      } catch (storeError) {
        // Accepted work runs though the store missed this step (it reads
        // `pending`): a store error is no failure of the work, and its
        // outcome is written with retries below.
        this.logger.warn(
          `Operation ${operation.id}: could not store that it runs; running it all the same. ${describeError(storeError).message}`,
        );
      }
      // Interrupted (shutdown) or failed by another instance before it began.
      if (entry.interrupted) return this.forget(operation.id);
      const result = (await work(operation)) ?? {};
      outcome = { status: 'done', resultHref: result.resultHref };
    } catch (error) {
      // Nothing here may throw: this runs detached from any request, so a
      // throw would be an unhandled rejection (the process exits) and the
      // operation would stay "running" for its whole TTL.
      outcome = { status: 'failed', problem: this.problemOf(error, operation) };
    }
    try {
      await update(outcome);
      this.forget(operation.id);
    } catch (storeError) {
      // The store cannot take it now (Redis unreachable): the operation
      // stays running here, under the lease, and each tick of the timer
      // writes it again, so a store outage does not lose a finished result.
      this.logger.error(
        `Operation ${operation.id}: could not store its ${String(outcome.status)} outcome; retrying`,
        describeError(storeError).stack,
      );
      entry.storeOutcome = () => save(outcome);
      const giveUpAt = Date.now() + ttlMs;
      let retrying = false;
      entry.unstored = () => {
        if (retrying) return;
        // Past its TTL the operation is gone from the store anyway.
        if (Date.now() > giveUpAt) {
          this.logger.error(
            `Operation ${operation.id}: its ${String(outcome.status)} outcome was never stored; given up after its ttlMs`,
          );
          return this.forget(operation.id);
        }
        retrying = true;
        save(outcome).then(
          () => this.forget(operation.id),
          () => (retrying = false),
        );
      };
      this.keepTicking();
    }
  }

  /** The problem document an operation's failure is stored as; never throws. */
  private problemOf(error: unknown, operation: Operation): ProblemDetails {
    try {
      const mapped = this.mapper.map(error, operationContext(operation.id));
      if (mapped.logLevel === 'error') {
        this.logger.error(
          `Operation ${operation.kind} ${operation.id} failed`,
          describeError(error).stack,
        );
      }
      return mapped.body;
    } catch {
      this.logger.error(
        `Operation ${operation.kind} ${operation.id} failed with an error that could not be read`,
      );
      return bareServerError(`urn:uuid:${operation.id}`);
    }
  }

  /** The operation has its outcome stored (or lost for good): no longer run here. */
  private forget(id: string): void {
    this.running.delete(id);
    this.stopRenewingWhenIdle();
  }

  /**
   * Makes sure this instance's lease is held before a new operation names
   * it, and keeps it renewed (one unref'd timer) while work runs here.
   */
  private async holdLease(): Promise<void> {
    if (this.runner === undefined) return;
    this.keepTicking();
    // Renewed within the last third of a lease: it holds for two thirds more
    // at least, a third past the timer's next tick even when that timer was
    // just started again after an idle spell (as a running one allows for).
    if (performance.now() - this.renewedAt < this.renewEveryMs) return;
    await this.renew();
  }

  /**
   * One unref'd timer while work runs here: it renews the lease and writes
   * again the outcomes the store could not take.
   */
  private keepTicking(): void {
    this.renewal ??= setInterval(() => {
      if (this.runner !== undefined) void this.renew().catch(() => undefined);
      for (const entry of this.running.values()) entry.unstored?.();
    }, this.renewEveryMs).unref();
  }

  /** One renewal at a time; a failed one is logged once until one succeeds. */
  private renew(): Promise<void> {
    this.renewing ??= (async () => {
      const startedAt = performance.now();
      try {
        // Called a turn later: a store that throws at once would otherwise
        // run `finally` before `renewing` is set, leaving it set for good.
        await Promise.resolve().then(() =>
          this.store.renewLease!(this.runner!, this.leaseMs),
        );
        this.renewedAt = startedAt;
        this.renewalFailing = false;
      } catch (error) {
        if (!this.renewalFailing)
          this.logger.warn(
            `Could not renew the lease of this instance's operations: other instances answer them as failed once it lapses (${this.leaseMs} ms). ${describeError(error).message}`,
          );
        this.renewalFailing = true;
        throw error;
      } finally {
        this.renewing = undefined;
      }
    })();
    return this.renewing;
  }

  /** No timer while no work runs here: the lease then lapses on its own. */
  private stopRenewingWhenIdle(): void {
    if (this.running.size > 0 || this.renewal === undefined) return;
    clearInterval(this.renewal);
    this.renewal = undefined;
  }

  /**
   * The app is closing (a deploy, a scale-in) with work still running here:
   * that work ends with the process, so its operations are stored as
   * failed with a 503 problem, and clients polling another instance learn
   * it now and may start the work again. (A process that is killed cannot
   * do this: its lease lapses, and the next read stores the failure.)
   */
  async beforeApplicationShutdown(): Promise<void> {
    const entries = [...this.running.entries()];
    clearInterval(this.renewal);
    this.renewal = undefined;
    await Promise.all(
      entries.map(async ([id, entry]) => {
        // Finished work whose outcome the store could not take yet: a last try.
        if (entry.storeOutcome) {
          await entry.storeOutcome().catch((storeError: unknown) => {
            this.logger.error(
              `Operation ${id}: could not store its outcome before shutdown`,
              describeError(storeError).stack,
            );
          });
          return;
        }
        // The first stored outcome stands: one already stored is not replaced.
        if (entry.interrupted) return;
        entry.interrupted = true;
        const problem = this.interruptedProblem(
          id,
          'The instance running this operation shut down before it finished; start it again.',
        );
        await entry.fail(problem).catch((storeError: unknown) => {
          this.logger.error(
            `Operation ${id}: could not store that it was interrupted by shutdown`,
            describeError(storeError).stack,
          );
        });
      }),
    );
    // Known as running here until stored: a read on this instance meanwhile
    // does not take them for a stopped instance's and fail them first.
    for (const [id] of entries) this.running.delete(id);
  }
}
