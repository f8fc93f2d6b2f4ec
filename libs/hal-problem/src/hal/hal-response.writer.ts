import {
  Injectable,
  Logger,
  type OnModuleInit,
  StreamableFile,
} from '@nestjs/common';
import { type AbstractHttpAdapter, HttpAdapterHost } from '@nestjs/core';
import type { StoredResponse } from '../idempotency/idempotency-store.interface';
import { Operation } from '../operations/operation';
import {
  attachResponsePlan,
  type ResponsePlan,
  takeResponsePlan,
} from '../routing/response-plan';
import { resetHttp2Stream } from '../routing/http2-stream';
import { requestTarget } from '../routing/request-target';
import {
  PROBLEM_CONTENT_TYPE,
  problemRequestContext,
} from '../problem/problem-exception.filter';
import { ProblemMapper, type ProblemResponse } from '../problem/problem.mapper';
import { HAL_CONTENT_TYPE } from './hal.constants';
import { HalConfig } from './hal.config';
import type { HalContext } from './hal-link.interface';
import { HalRenderer, isStateObject, serializedState } from './hal.renderer';
import { describeError, logText } from '../problem/describe-error';
import { clearRepresentationHeaders } from '../problem/representation-headers';
import { essence, withoutQuotedText } from '../problem/media-type';
import { addVary, setHeaderAddingVary } from '../problem/vary';

type Reply = (response: object, body: unknown, statusCode?: number) => unknown;
type Resource = Record<string, unknown>;

/**
 * Headers a replay repeats; never Set-Cookie or rate-limit fields.
 * `Retry-After` belongs to a stored 202: its monitor says when to poll.
 */
const REPLAYED_HEADERS = [
  'content-type',
  'location',
  'content-location',
  'etag',
  'link',
  'vary',
  'retry-after',
];

/**
 * The `HalContext` of one response. `principal` is read through a getter
 * that notes it: the response then varies with the credentials.
 */
class ResponseHalContext implements HalContext {
  principalRead = false;

  constructor(
    readonly request: unknown,
    private readonly user: unknown,
    readonly params: Readonly<Record<string, string>>,
    readonly query: Readonly<Record<string, unknown>>,
  ) {}

  get principal(): unknown {
    this.principalRead = true;
    return this.user;
  }
}

/** A `Vary` that names `Accept`: the stored body's media type was negotiated. */
const VARIES_ON_ACCEPT = /(^|,)\s*accept\s*(,|$)/i;

/**
 * The status the response goes out with when Nest passes none: the route's,
 * which Nest set before the handler ran, or one the handler set itself
 * (`@Res({ passthrough: true })`). Node's response (Express) and Fastify's
 * reply both have `statusCode`: read structurally, no platform named.
 */
function currentStatus(response: object): number | undefined {
  const status = (response as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** Adapters whose `reply` is already wrapped (one per app, even if the module is imported twice). */
const wrappedAdapters = new WeakSet<object>();

/** Returns the plan to the response for the exception filter, and rethrows. */
function giveBack(response: object, plan: ResponsePlan, error: unknown): never {
  attachResponsePlan(response, plan);
  throw error;
}

/**
 * A stored problem (a 5xx kept with `storeServerErrors`) carries the id of
 * the request that replays it, as every problem does: it was stored without
 * the first request's. Rare, so parsed and written again.
 */
function withRequestId(
  body: string | null,
  requestId: string,
): string | undefined {
  if (body === null) return undefined;
  try {
    const problem = JSON.parse(body) as unknown;
    if (
      typeof problem !== 'object' ||
      problem === null ||
      Array.isArray(problem)
    )
      return body;
    return JSON.stringify({ ...problem, requestId });
  } catch {
    return body;
  }
}

/** Bodies a handler may return that are not resources and pass through untouched. */
function isResource(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  if (typeof (value as { pipe?: unknown }).pipe === 'function') return false;
  // A plain object, the common case, is none of the classes below.
  if (Object.getPrototypeOf(value) === Object.prototype) return true;
  return (
    !(value instanceof StreamableFile) &&
    !(value instanceof Response) &&
    !Buffer.isBuffer(value) &&
    !(value instanceof Uint8Array) &&
    !ArrayBuffer.isView(value)
  );
}

/** A body sent as bytes or streamed: not kept by an idempotency store. */
function isUnstorable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !isResource(value);
}

/** `application/hal+json` or `application/json`, with or without parameters (Express adds a charset). */
function isHalMediaType(type: string | undefined): boolean {
  if (type === undefined) return false;
  const semicolon = type.indexOf(';');
  const media = semicolon === -1 ? type : type.slice(0, semicolon);
  return media === HAL_CONTENT_TYPE || media === 'application/json';
}

/** `application/json` or a `+json` type (RFC 6839), with or without parameters. */
function isJsonMediaType(type: string): boolean {
  const media = essence(type);
  return media === 'application/json' || media.endsWith('+json');
}

/** A media range's weight (RFC 9110 §12.4.2): `q=` of its parameters, else 1. */
const QUALITY = /;\s*q\s*=\s*([0-9.]+)\s*(?:;|$)/i;

/**
 * How specifically a media range names `type`: 2 exactly, 1 as
 * `application/*`, 0 as `*\/*`, -1 not at all.
 */
function specificity(range: string, type: string): number {
  if (range === type) return 2;
  if (range === 'application/*') return 1;
  return range === '*/*' ? 0 : -1;
}

/**
 * `application/hal+json`, unless the client prefers `application/json`
 * (RFC 9110 §12.5.1: each type takes the weight of the most specific range
 * naming it; HAL on a tie) or refuses HAL with `q=0`: the same body is then
 * labelled `application/json`. An `Accept` naming neither gets HAL.
 */
function contentTypeFor(accept: string | string[] | undefined): string {
  const joined = Array.isArray(accept) ? accept.join(',') : accept;
  if (!joined) return HAL_CONTENT_TYPE;
  // A parameter's quoted value is text: its commas and semicolons separate
  // nothing, and no weight or range is read in it. Emptied, so the split
  // below stays the common case's.
  const value = joined.includes('"') ? withoutQuotedText(joined) : joined;
  let halQuality = 0;
  let halSpecificity = -1;
  let jsonQuality = 0;
  let jsonSpecificity = -1;
  for (const part of value.split(',')) {
    const semicolon = part.indexOf(';');
    const range = (semicolon === -1 ? part : part.slice(0, semicolon))
      .trim()
      .toLowerCase();
    const weight =
      semicolon === -1 ? null : QUALITY.exec(part.slice(semicolon));
    // Out of the grammar (`q=.5`, `q=0.0001`) but meant: read as a number,
    // clamped to 0..1; what is no number at all weighs 1.
    const parsed = weight ? Number(weight[1]) : NaN;
    const quality = Number.isNaN(parsed) ? 1 : Math.min(Math.max(parsed, 0), 1);
    const forHal = specificity(range, HAL_CONTENT_TYPE);
    if (forHal > halSpecificity) {
      halSpecificity = forHal;
      halQuality = quality;
    }
    const forJson = specificity(range, 'application/json');
    if (forJson > jsonSpecificity) {
      jsonSpecificity = forJson;
      jsonQuality = quality;
    }
  }
  // Refused by name: the same body as plain JSON, whatever else is named.
  if (halSpecificity === 2 && halQuality === 0) return 'application/json';
  return jsonQuality > halQuality ? 'application/json' : HAL_CONTENT_TYPE;
}

/**
 * Renders every successful body as HAL where Nest sends it: in the HTTP
 * adapter's `reply`, for responses the module's guard planned. It adds links
 * and embedded resources, sets `Content-Type` and `Vary`, and for a 201 or
 * 202 (the status sent, whoever set it) sets `Location` to the new
 * resource's (or monitor's) `self`, unless the handler set one. An empty
 * result becomes 204 unless the handler declares its status with
 * `@HttpCode()` or sets another itself; strings, buffers, streams and
 * `@SkipHal()` handlers pass through untouched. It also sends idempotent
 * replays and stores what an idempotent request sent.
 *
 * Why wrap `reply` rather than use an interceptor: Nest 12 has no public hook
 * between a handler's result and the adapter, and any global interceptor costs
 * an RxJS pipeline per request, which measured at 0.57–0.72× the requests/s
 * of bare Nest on Fastify before the interceptor did any work
 * (docs/performance.md). Nest awaits `reply`, so rendering may stay async and
 * its errors still reach the exception filters.
 */
@Injectable()
export class HalResponseWriter implements OnModuleInit {
  /** The adapter's own `reply`, which this writer wraps. */
  private send: Reply = () => undefined;

  private readonly logger = new Logger('HalProblem');
  /** Handlers already warned about, once each. */
  private readonly warnedUnstorable = new WeakSet<object>();

  constructor(
    private readonly renderer: HalRenderer,
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: HalConfig,
    private readonly mapper: ProblemMapper,
  ) {}

  onModuleInit(): void {
    // An application context (no HTTP server) has no adapter.
    const adapter = this.adapterHost.httpAdapter as
      AbstractHttpAdapter | undefined;
    if (!adapter || wrappedAdapters.has(adapter)) return;
    wrappedAdapters.add(adapter);
    const send: Reply = adapter.reply.bind(adapter);
    this.send = send;
    adapter.reply = (response: object, body: unknown, statusCode?: number) => {
      const plan = takeResponsePlan(response);
      return plan
        ? this.writeOrGiveBack(plan, response, body, statusCode)
        : send(response, body, statusCode);
    };
  }

  /**
   * A failure here (a `when` that throws, a header Node refuses) reaches the
   * exception filter, which needs the plan back to release an idempotency key.
   */
  private writeOrGiveBack(
    plan: ResponsePlan,
    response: object,
    body: unknown,
    statusCode: number | undefined,
  ): unknown {
    try {
      const written = this.write(plan, response, body, statusCode);
      return written instanceof Promise
        ? written.catch((error: unknown) => giveBack(response, plan, error))
        : written;
    } catch (error) {
      return giveBack(response, plan, error);
    }
  }

  private write(
    plan: ResponsePlan,
    response: object,
    body: unknown,
    statusCode: number | undefined,
  ): unknown {
    if (plan.replay) return this.sendStored(plan, response, plan.replay);
    // An exception filter of the app's own (a controller's `@UseFilters()`)
    // answering with an error status: sent as it is, and never stored.
    if (statusCode !== undefined && statusCode >= 400) {
      const pending = plan.idempotency;
      if (!pending) return this.send(response, body, statusCode);
      return pending
        .release()
        .then(() => this.send(response, body, statusCode));
    }
    if (body instanceof StreamableFile)
      this.answerStreamErrors(plan, response, body);
    const kind = typeof body;
    if (kind === 'function' || kind === 'symbol' || kind === 'bigint') {
      // Express would send a function's source as text/html.
      throw new TypeError(
        `The handler returned a ${kind}, which has no JSON form`,
      );
    }
    const handler = plan.handler;
    if (handler.skip) return this.finish(plan, response, body, statusCode);
    // Nothing to send: 204, unless the handler declared its status or set
    // one itself (`response.status(202)`). Nest passes no status for a
    // handler's own result (it set the route's before the handler ran); it
    // passes one for a web Response, which is sent as is.
    if (
      (body === undefined || body === null) &&
      statusCode === undefined &&
      !handler.explicitStatus &&
      (currentStatus(response) ?? handler.status) === handler.status
    ) {
      return this.finish(plan, response, undefined, 204);
    }
    // `undefined` with a declared status: no body, so no type either.
    if (kind !== 'object' && kind !== 'undefined')
      return this.finish(
        plan,
        response,
        this.scalar(response, body),
        statusCode,
      );
    if (!isResource(body)) return this.finish(plan, response, body, statusCode);
    // A Date, or a class whose JSON is no object: sent as Nest would send it.
    const state = serializedState(body);
    if (state !== body && !isStateObject(state))
      return this.finish(plan, response, body, statusCode);
    const document = this.render(body, plan, response, state as Resource);
    return document instanceof Promise
      ? document.then((resolved) =>
          this.finish(plan, response, resolved, statusCode),
        )
      : this.finish(plan, response, document, statusCode);
  }

  /**
   * A string, number or boolean result, labelled the same on both platforms
   * unless the handler set a `Content-Type`: Nest hands it to the platform as
   * it is, and Express sends a string as `text/html` (a string that echoes
   * input becomes markup) and a number as HTML text, Fastify both as JSON.
   * A string is `text/plain`, as its idempotent replay is; a number or
   * boolean is JSON.
   */
  private scalar(response: object, body: unknown): unknown {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter.getHeader(response, 'content-type') !== undefined) return body;
    if (typeof body === 'string') {
      adapter.setHeader(response, 'Content-Type', 'text/plain; charset=utf-8');
      return body;
    }
    adapter.setHeader(response, 'Content-Type', 'application/json');
    return JSON.stringify(body);
  }

  /**
   * A file whose stream fails before anything was sent (it cannot be read)
   * is the server's fault, answered with a 500 problem: Nest's own handler
   * answers 400 `text/plain` (Express; on Fastify the error reaches the
   * exception filter). Once the response began, the file's own handler
   * runs, which closes the connection (over HTTP/2, the stream is reset
   * here with an error code). Either way the failure is logged
   * once, as the exception filter logs a 500, with the request id.
   */
  private answerStreamErrors(
    plan: ResponsePlan,
    response: object,
    file: StreamableFile,
  ): void {
    const ownHandler = file.errorHandler;
    // Nest's logger names neither the request nor its id, and Fastify, which
    // pipes the stream itself, calls neither it nor the handler once the
    // response began: a failure mid-stream went unlogged there.
    file.setErrorLogger(() => undefined);
    const adapter = this.adapterHost.httpAdapter;
    // Express's request and Fastify's both expose the connection's socket.
    const socket = (plan.request as { socket?: { destroyed?: boolean } })
      .socket;
    file.getStream().once('error', (error: unknown) => {
      // Before the headers, the handler below (Express) or the exception
      // filter (Fastify) answers and logs; a client that left is no fault.
      if (!adapter.isHeadersSent(response)) return;
      if (socket?.destroyed !== true) this.logStreamFailure(plan, error);
      // Fastify then destroys the response, which over HTTP/2 resets the
      // stream with NO_ERROR: clients read that as a whole body.
      resetHttp2Stream(plan.request);
    });
    file.setErrorHandler((error, response) => {
      if (response.destroyed || response.headersSent)
        return ownHandler(error, response);
      const adapter = this.adapterHost.httpAdapter;
      const problem = this.logStreamFailure(plan, error);
      // As the filter does: the file's own headers (`@Header()`
      // Cache-Control, Content-Disposition) must not describe the problem.
      clearRepresentationHeaders(response);
      adapter.setHeader(response, 'Content-Type', PROBLEM_CONTENT_TYPE);
      this.send(response, JSON.stringify(problem.body), problem.status);
    });
  }

  /** The exception filter's log line for a 500, so both platforms log alike. */
  private logStreamFailure(
    plan: ResponsePlan,
    error: unknown,
  ): ProblemResponse {
    const context = problemRequestContext(
      this.adapterHost.httpAdapter,
      plan.request,
      plan.requestId,
    );
    const problem = this.mapper.map(error, context);
    const { message, stack } = describeError(error);
    this.logger.error(
      `${context.method} ${context.path} -> ${problem.status} (requestId=${context.requestId}): ${message}`,
      stack,
    );
    return problem;
  }

  private render(
    value: object,
    plan: ResponsePlan,
    response: object,
    state: Resource,
  ): Resource | Promise<Resource> {
    const { request, handler } = plan;
    // A body that is HAL already (or whose JSON is) is sent as it is, only labelled.
    if (typeof (value as { _links?: unknown })._links === 'object') {
      return this.label(value as Resource, value, plan, response);
    }
    if (state !== value && typeof state._links === 'object') {
      return this.label(state, value, plan, response);
    }
    const url = requestTarget(this.adapterHost.httpAdapter, request);
    const halContext = new ResponseHalContext(
      request,
      request.user,
      request.params ?? {},
      request.query ?? {},
    );
    const document = this.renderer.render(
      value,
      handler,
      halContext,
      url,
      state,
    );
    return document instanceof Promise
      ? document.then((resolved) =>
          this.label(resolved, value, plan, response, halContext.principalRead),
        )
      : this.label(document, value, plan, response, halContext.principalRead);
  }

  private label(
    document: Resource,
    value: object,
    plan: ResponsePlan,
    response: object,
    principalRead = false,
  ): Resource {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter.isHeadersSent(response)) return document;
    // A JSON media type the handler chose (`@Header('Content-Type', …)`: a
    // vendor type, a profile) is kept, and not negotiated on Accept. One
    // that is no JSON (`text/html`) is replaced: the body is JSON, which
    // Express would send as HTML and Fastify refuse to serialize (a 500).
    // So is one that was there before the route's guards ran: an app's
    // middleware labelling every response chose nothing for this one.
    const chosen: unknown = adapter.getHeader(response, 'content-type');
    const labelled =
      typeof chosen !== 'string' ||
      !isJsonMediaType(chosen) ||
      chosen === plan.contentTypeBefore;
    const plainJson = labelled && this.config.plainJson;
    if (labelled)
      adapter.setHeader(
        response,
        'Content-Type',
        plainJson
          ? contentTypeFor(plan.request.headers.accept)
          : HAL_CONTENT_TYPE,
      );
    // Keep what others vary on (CORS adds Origin). A `when` that read the
    // principal made the links depend on the credentials: a cache must key
    // on Authorization too, or serve one client's links to another.
    if (plainJson || principalRead) {
      addVary(
        adapter,
        response,
        plainJson
          ? principalRead
            ? 'Accept, Authorization'
            : 'Accept'
          : 'Authorization',
      );
    }
    if (value instanceof Operation && !value.finished) {
      adapter.setHeader(response, 'Retry-After', String(value.retryAfter));
    }
    // The status being sent: a handler may set its own (an upsert's 201 on
    // a PUT), and Nest set the route's on the response before it ran.
    const status = currentStatus(response) ?? plan.handler.status;
    if (
      (status === 201 || status === 202) &&
      // One the handler set itself (`@Header('Location', …)`, an upsert's
      // own) says where it put the resource: kept.
      adapter.getHeader(response, 'location') === undefined &&
      this.renderer.declaresSelf(value, plan.handler)
    ) {
      // The new resource's (or status monitor's) own declared URL.
      const self = HalRenderer.selfOf(document);
      if (self !== undefined) adapter.setHeader(response, 'Location', self);
    }
    return document;
  }

  /** Sends the response, once an idempotent request's outcome is stored. */
  private finish(
    plan: ResponsePlan,
    response: object,
    body: unknown,
    statusCode: number | undefined,
  ): unknown {
    const pending = plan.idempotency;
    if (!pending) return this.send(response, body, statusCode);
    const status = statusCode ?? currentStatus(response) ?? plan.handler.status;
    // An error status the handler set itself is a failure, as a thrown one
    // is: the key is released, so the client may retry, never replayed.
    if (status >= 400)
      return pending
        .release()
        .then(() => this.send(response, body, statusCode));
    // Bytes or a stream (StreamableFile, a Buffer) cannot be stored as they
    // were sent, and a replay of nothing would answer an empty body: the
    // key is released, so a retry runs the handler and gets its bytes.
    if (isUnstorable(body)) {
      this.warnUnstorable(plan);
      return pending
        .release()
        .then(() => this.send(response, body, statusCode));
    }
    return pending
      .complete(this.capture(response, body, status))
      .then(() => this.send(response, body, statusCode));
  }

  private warnUnstorable(plan: ResponsePlan): void {
    const handler = plan.handler as object;
    if (this.warnedUnstorable.has(handler)) return;
    this.warnedUnstorable.add(handler);
    this.logger.warn(
      `${logText(`${plan.request.method ?? ''} (request ${plan.requestId})`)}: an @Idempotent() handler answered bytes or a stream, which cannot be replayed; its key is released, so a retry runs the handler again`,
    );
  }

  /** What a replay must repeat: status, the headers that matter, the body as sent. */
  private capture(
    response: object,
    body: unknown,
    status: number,
  ): StoredResponse {
    const adapter = this.adapterHost.httpAdapter;
    const headers: Record<string, string> = {};
    for (const name of REPLAYED_HEADERS) {
      const header: unknown = adapter.getHeader(response, name);
      if (typeof header === 'string') headers[name] = header;
    }
    if (!isResource(body)) {
      return typeof body === 'string'
        ? {
            status,
            headers: {
              'content-type': 'text/plain; charset=utf-8',
              ...headers,
            },
            body,
          }
        : { status, headers, body: null };
    }
    return {
      status,
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    };
  }

  /** Sends an idempotent replay. */
  private sendStored(
    plan: ResponsePlan,
    response: object,
    stored: StoredResponse,
  ): unknown {
    const adapter = this.adapterHost.httpAdapter;
    const { headers } = stored;
    // A HAL document is labelled for this request's Accept, not the first one's.
    const negotiated =
      this.config.plainJson &&
      headers.vary !== undefined &&
      isHalMediaType(headers['content-type']) &&
      VARIES_ON_ACCEPT.test(headers.vary);
    // A stored Vary joins this request's own (CORS's Origin): the first
    // request may have had none of it.
    for (const name of Object.keys(headers))
      if (!negotiated || name !== 'content-type')
        setHeaderAddingVary(adapter, response, name, headers[name]);
    if (negotiated)
      adapter.setHeader(
        response,
        'Content-Type',
        contentTypeFor(plan.request.headers.accept),
      );
    adapter.setHeader(response, 'Idempotent-Replayed', 'true');
    // The contract: a creation replayed is 200 OK, with the same resource and Location.
    return this.send(
      response,
      stored.status >= 400
        ? withRequestId(stored.body, plan.requestId)
        : (stored.body ?? undefined),
      stored.status === 201 ? 200 : stored.status,
    );
  }
}
