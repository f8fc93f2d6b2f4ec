import type { ProblemDetails } from '../problem/problem-details.interface';

/** Where an operation is in its life: `pending` → `running` → `done` or `failed`. */
export type OperationStatus = 'pending' | 'running' | 'done' | 'failed';

/** Whether an operation has its outcome: it never changes after that. */
export function isFinished(operation: {
  readonly status: OperationStatus;
}): boolean {
  return operation.status === 'done' || operation.status === 'failed';
}

/** The stored form of an operation (what a store keeps, e.g. as JSON in Redis). */
export interface OperationRecord {
  readonly id: string;
  readonly kind: string;
  readonly status: OperationStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Where the result lives once done (a path or URL). */
  readonly resultHref?: string;
  /** Why it failed: a problem document with no internals. */
  readonly problem?: ProblemDetails;
  /** Seconds a client should wait before polling again while unfinished. */
  readonly retryAfter: number;
  /** Who may read it (`start(..., { owner })`); absent: anyone the route lets in. */
  readonly owner?: string;
  /**
   * The lease of the instance running it: unfinished with this lease
   * lapsed, it is stored as failed by the next read. Absent (a store
   * without leases, an older version): never failed for a lapsed lease.
   */
  readonly runner?: string;
  /** `start()`'s `ttlMs`, for an outcome another instance stores. */
  readonly ttlMs?: number;
}

/**
 * A long-running operation as a resource: the status monitor of an
 * asynchronous request (HTTP 202). Rendered as HAL with `status`, a problem
 * when failed, and (with `@HalOperation`) a `result` link when done; the
 * response writer (`HalResponseWriter`) adds `Retry-After` while it is unfinished.
 */
export class Operation {
  readonly id: string;
  readonly kind: string;
  readonly status: OperationStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly problem?: ProblemDetails;
  /** Not part of the body: it is sent as the `result` link. */
  declare readonly resultHref?: string;
  /** Not part of the body: it is sent as `Retry-After`. */
  declare readonly retryAfter: number;
  /** Not part of the body: who may read it. */
  declare readonly owner?: string;

  constructor(record: OperationRecord) {
    this.id = record.id;
    this.kind = record.kind;
    this.status = record.status;
    this.createdAt = record.createdAt;
    this.updatedAt = record.updatedAt;
    if (record.problem) this.problem = record.problem;
    Object.defineProperty(this, 'resultHref', {
      value: record.resultHref,
      enumerable: false,
    });
    Object.defineProperty(this, 'retryAfter', {
      value: record.retryAfter,
      enumerable: false,
    });
    Object.defineProperty(this, 'owner', {
      value: record.owner,
      enumerable: false,
    });
  }

  get finished(): boolean {
    return isFinished(this);
  }

  toRecord(): OperationRecord {
    return {
      id: this.id,
      kind: this.kind,
      status: this.status,
      createdAt: this.createdAt,
      updatedAt: this.updatedAt,
      retryAfter: this.retryAfter,
      ...(this.resultHref === undefined ? {} : { resultHref: this.resultHref }),
      ...(this.problem === undefined ? {} : { problem: this.problem }),
      ...(this.owner === undefined ? {} : { owner: this.owner }),
    };
  }
}
