import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  Optional,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { defineProblemType } from '../problem/problem-type';
import {
  ProblemMapper,
  type ProblemRequestContext,
} from '../problem/problem.mapper';
import { Operation, type OperationRecord } from './operation';
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

/**
 * Runs work in the background and keeps its status, for the 202 pattern:
 * the handler returns `start(...)` with `@HttpCode(202)`, a status monitor
 * route returns `get(id)`. A failure is stored as a problem document made by
 * the same mapper as error responses, so it never carries internals.
 */
@Injectable()
export class OperationsService implements BeforeApplicationShutdown {
  private readonly logger = new Logger('HalProblem');
  private readonly store: OperationStore;
  /**
   * Work running in this process, by id: at shutdown it is stored as
   * failed, or other instances sharing the store would report it
   * `running` to every poll until its TTL (an hour by default).
   */
  private readonly running = new Map<
    string,
    { interrupted: boolean; fail: (problem: ProblemDetails) => Promise<void> }
  >();

  constructor(
    private readonly mapper: ProblemMapper,
    @Optional() @Inject(OPERATION_STORE) store?: OperationStore,
  ) {
    this.store = store ?? new InMemoryOperationStore();
  }

  async start(
    kind: string,
    work: (operation: Operation) => Promise<OperationOutcome | void>,
    options: StartOperationOptions = {},
  ): Promise<Operation> {
    const ttlMs = options.ttlMs ?? 3_600_000;
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
    };
    await this.store.save(record, ttlMs).catch(storeUnavailable('started'));
    const operation = new Operation(record);
    setImmediate(() => void this.run(operation, work, ttlMs));
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
    const record = await this.store.get(id).catch(storeUnavailable('read'));
    // Another owner's operation is not disclosed: the same 404.
    if (
      !record ||
      (record.owner !== undefined && record.owner !== options.owner)
    )
      throw clientProblem(OperationNotFound, {
        detail: `There is no operation ${id}.`,
      });
    return new Operation(record);
  }

  private async run(
    operation: Operation,
    work: (operation: Operation) => Promise<OperationOutcome | void>,
    ttlMs: number,
  ): Promise<void> {
    const base = operation.toRecord();
    const save = (change: Partial<OperationRecord>) =>
      this.store.save(
        { ...base, ...change, updatedAt: new Date().toISOString() },
        ttlMs,
      );
    const entry = {
      interrupted: false,
      fail: (problem: ProblemDetails) => save({ status: 'failed', problem }),
    };
    // Once stored as interrupted, the operation is finished: work that
    // still ends during shutdown does not turn it back to running or done.
    const update = async (change: Partial<OperationRecord>) => {
      if (!entry.interrupted) await save(change);
    };
    this.running.set(operation.id, entry);
    try {
      await update({ status: 'running' });
      const outcome = (await work(operation)) ?? {};
      await update({ status: 'done', resultHref: outcome.resultHref });
    } catch (error) {
      // Nothing here may throw: this runs detached from any request, so a
      // throw would be an unhandled rejection (the process exits) and the
      // operation would stay "running" for its whole TTL.
      let problem: ProblemDetails;
      try {
        const mapped = this.mapper.map(error, operationContext(operation.id));
        problem = mapped.body;
        if (mapped.logLevel === 'error') {
          this.logger.error(
            `Operation ${operation.kind} ${operation.id} failed`,
            describeError(error).stack,
          );
        }
      } catch {
        problem = bareServerError(`urn:uuid:${operation.id}`);
        this.logger.error(
          `Operation ${operation.kind} ${operation.id} failed with an error that could not be read`,
        );
      }
      try {
        await update({ status: 'failed', problem });
      } catch (storeError) {
        this.logger.error(
          `Operation ${operation.id}: could not store its failure`,
          describeError(storeError).stack,
        );
      }
    } finally {
      this.running.delete(operation.id);
    }
  }

  /**
   * The app is closing (a deploy, a scale-in) with work still running here:
   * that work ends with the process, so its operations are stored as
   * failed with a 503 problem, and clients polling another instance learn
   * it now and may start the work again. (A process that is killed cannot
   * do this: its operations stay `running` until their `ttlMs`.)
   */
  async beforeApplicationShutdown(): Promise<void> {
    const entries = [...this.running.entries()];
    this.running.clear();
    await Promise.all(
      entries.map(async ([id, entry]) => {
        entry.interrupted = true;
        const problem = this.mapper.map(
          ProblemException.serviceUnavailable(
            'The instance running this operation shut down before it finished; start it again.',
          ),
          operationContext(id),
        ).body;
        await entry.fail(problem).catch((storeError: unknown) => {
          this.logger.error(
            `Operation ${id}: could not store that it was interrupted by shutdown`,
            describeError(storeError).stack,
          );
        });
      }),
    );
  }
}
