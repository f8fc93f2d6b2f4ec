import { HttpException, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ProblemConfig } from './problem.config';
import {
  genericDetail,
  isErrorStatus,
  MAX_SF_INTEGER,
  reasonPhrase,
} from './http-status';
import { toJsonSafe } from './json-safe';
import {
  FASTIFY_MULTIPART_ERRORS,
  multerLimitProblem,
  multipartParserProblem,
} from './multipart-errors';
import type {
  ProblemDetails,
  ProblemFieldError,
} from './problem-details.interface';
import { ProblemException } from './problem.exception';
import type { ProblemType } from './problem-type';
import { ProblemTypeCatalog } from './problem-type.catalog';

/** The request facts a problem document is built from. */
export interface ProblemRequestContext {
  readonly method: string;
  /** The request path without the query string. */
  readonly path: string;
  readonly requestId: string;
}

/** How the failure should be logged: server faults once at error level, client errors quietly. */
export type ProblemLogLevel = 'error' | 'warn' | 'debug';

/** A problem ready to be written: status, document and headers. */
export interface ProblemResponse {
  readonly status: number;
  readonly body: ProblemDetails;
  readonly headers: Readonly<Record<string, string>>;
  readonly logLevel: ProblemLogLevel;
  /** What to log with its stack: the original error for server faults. */
  readonly logError: unknown;
}

interface ProblemInit {
  status: number;
  type?: ProblemType;
  detail: string;
  extensions?: Readonly<Record<string, unknown>>;
  errors?: readonly ProblemFieldError[];
  retryAfter?: number | Date;
  headers?: Readonly<Record<string, string>>;
  logLevel: ProblemLogLevel;
  logError?: unknown;
}

/** Members an extension may never set: the standard ones and Nest's own. */
const RESERVED_MEMBERS = new Set([
  'type',
  'title',
  'status',
  'detail',
  'instance',
  'errors',
  'errorsOmitted',
  'requestId',
  'statusCode',
  'message',
  'stack',
  'cause',
  // As toJsonSafe drops them in nested members: a client reading the
  // document into a plain object would find them in place of its own.
  'constructor',
  'prototype',
]);
const EXTENSION_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
/**
 * What Node refuses to send (`ERR_INVALID_CHAR`, `ERR_INVALID_HTTP_TOKEN`):
 * a header it refuses would turn the problem into a 500, and on Fastify
 * into a body carrying Node's own message. Such headers are dropped. So is
 * a value beyond ASCII (`café`, obs-text: RFC 9110 §5.5 limits new values to
 * US-ASCII), which Node writes as one Latin-1 byte on Express and as UTF-8
 * on Fastify (sent with its string body): no client reads it the same on both.
 */
const UNSAFE_HEADER_VALUE = /[^\t\x20-\x7e]/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/**
 * Headers a problem may not set: the message's framing and hop-by-hop
 * fields (RFC 9112 §6.1, §6.3, §9.6; RFC 9110 §7.6.1), which the platform
 * writes for the body it sends (a `Transfer-Encoding` beside its
 * `Content-Length` makes the response unreadable), and the `Content-Type`
 * the module sets. The request id header is the module's too.
 */
const FRAMING_HEADERS = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-connection',
  'content-type',
]);
/** The most `errors` entries a problem lists; the rest are counted in `errorsOmitted`. */
export const MAX_ERRORS = 100;

/** The members of Nest's own error bodies (`{ statusCode, message, error }`). */
const NEST_BODY_MEMBERS = new Set(['statusCode', 'message', 'error']);
/** Default messages of Nest's exceptions that differ from the reason phrase. */
const NEST_DEFAULT_MESSAGES: Readonly<Record<number, string>> = {
  413: 'Payload Too Large',
  422: 'Unprocessable Entity',
  418: "I'm a teapot",
};

const MALFORMED_BODY = 'The request body is malformed and could not be parsed.';
const UNDECODABLE_BODY =
  'The request body could not be decoded with its Content-Encoding.';

/**
 * body-parser (Express) errors by their `type`, never by message: a parser's
 * message may echo the body, and messages change between versions.
 */
/** The namespaces of body-parser's error `type`s (`entity.parse.failed`, `request.aborted`...). */
const BODY_PARSER_TYPE =
  /^(entity|encoding|charset|request|stream|parameters|querystring)\./;

const BODY_PARSER_ERRORS: Readonly<
  Record<string, { status: number; detail: string }>
> = {
  'entity.parse.failed': { status: 400, detail: MALFORMED_BODY },
  'encoding.invalid': {
    status: 400,
    detail: 'The request body is not valid in its declared charset.',
  },
  'entity.too.deep': {
    status: 400,
    detail: 'The request body is nested deeper than the server accepts.',
  },
  // The urlencoded parser's (qs) depth limit; its message names the limit.
  'querystring.parse.rangeError': {
    status: 400,
    detail: 'The request body is nested deeper than the server accepts.',
  },
  'request.aborted': {
    status: 400,
    detail: 'The request was aborted before its body was received.',
  },
  'request.size.invalid': {
    status: 400,
    detail: 'The request body length does not match its Content-Length.',
  },
  'entity.too.large': {
    status: 413,
    detail: 'The request body is larger than the server accepts.',
  },
  'parameters.too.many': {
    status: 413,
    detail: 'The request body has more parameters than the server accepts.',
  },
  'charset.unsupported': {
    status: 415,
    detail: 'The charset of the request body is not supported.',
  },
  'encoding.unsupported': {
    status: 415,
    detail: 'The content encoding of the request body is not supported.',
  },
};

/**
 * The table's own entry for an error's `type` or `code`: an error may carry
 * any string there, and `constructor` or `__proto__` would otherwise read
 * `Object.prototype`'s, a "known error" without a status.
 */
function entryOf<T>(
  table: Readonly<Record<string, T>>,
  key: unknown,
): T | undefined {
  return typeof key === 'string' && Object.hasOwn(table, key)
    ? table[key]
    : undefined;
}

/** Fastify's content-type-parser errors, by code. */
const FASTIFY_ERRORS: Readonly<
  Record<string, { status: number; detail: string }>
> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, detail: MALFORMED_BODY },
  // The router's own, through `problemFrameworkErrors`.
  FST_ERR_BAD_URL: { status: 400, detail: 'The request URI is malformed.' },
  FST_ERR_MAX_PARAM_LENGTH: {
    status: 414,
    detail:
      'A path segment of the request URI is longer than the server accepts.',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    detail: 'The request body is empty but its content type says JSON.',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH:
    BODY_PARSER_ERRORS['request.size.invalid'],
  FST_ERR_CTP_BODY_TOO_LARGE: BODY_PARSER_ERRORS['entity.too.large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    detail: 'The request body is in a media type the server does not accept.',
  },
};

type ErrorLike = Record<string, unknown>;

function asObject(value: unknown): ErrorLike | undefined {
  return typeof value === 'object' && value !== null
    ? (value as ErrorLike)
    : undefined;
}

/**
 * An app's exception body is read member by member, each read guarded: a
 * getter that throws (or a proxy) loses that member, not the 4xx.
 */
function readMember(body: ErrorLike, name: string): unknown {
  try {
    return body[name];
  } catch {
    return undefined;
  }
}

function memberNames(body: ErrorLike): string[] {
  try {
    return Object.keys(body);
  } catch {
    return [];
  }
}

/** A message list item as text; `undefined` when it has none (a null-prototype object, a throwing `toString`). */
function itemText(item: unknown): string | undefined {
  if (typeof item === 'string') return item;
  try {
    return String(item);
  } catch {
    return undefined;
  }
}

function statusOf(error: ErrorLike): number | undefined {
  const status = error.status ?? error.statusCode;
  return isErrorStatus(status) ? status : undefined;
}

/**
 * Turns anything that was thrown into a Problem Details response. Pure and
 * synchronous: it never throws, so the filter always has something to send.
 */
@Injectable()
export class ProblemMapper {
  private readonly logger = new Logger('HalProblem');
  /** Header names already warned about: a bug in code, not in a request, so once is enough. */
  private readonly refusedHeaders = new Set<string>();

  constructor(
    private readonly config: ProblemConfig,
    private readonly catalog: ProblemTypeCatalog,
  ) {}

  map(exception: unknown, context: ProblemRequestContext): ProblemResponse {
    let init: ProblemInit;
    try {
      init = this.toInit(this.applyUserMapper(exception, context));
    } catch (mapperError) {
      init = this.serverFault(mapperError);
    }
    return this.render(init, context);
  }

  private applyUserMapper(
    exception: unknown,
    context: ProblemRequestContext,
  ): unknown {
    if (!this.config.mapError || exception instanceof HttpException)
      return exception;
    return this.config.mapError(exception, context) ?? exception;
  }

  private toInit(error: unknown): ProblemInit {
    if (error instanceof ProblemException)
      return this.fromProblemException(error);
    if (error instanceof HttpException) {
      // Nest wraps the platform's own errors (body parsers, URL decoding) in
      // a 4xx with the original as `cause`. A 5xx's cause is the app's
      // (`new BadGatewayException(msg, { cause: sdkError })`): it never
      // decides the status.
      const platform =
        error.getStatus() < 500
          ? (this.fromTransportError(error.cause) ??
            this.fromMulterLimit(error.cause))
          : undefined;
      return platform ?? this.fromHttpException(error);
    }
    return (
      this.fromTransportError(error) ??
      this.fromMultipartParser(error) ??
      this.serverFault(error)
    );
  }

  /** multer's size and count limits, as `@fastify/multipart`'s are answered. */
  private fromMulterLimit(cause: unknown): ProblemInit | undefined {
    const known = multerLimitProblem(cause);
    return known && { ...known, logLevel: 'debug' };
  }

  /** A malformed multipart body, as `@fastify/multipart`'s parser rejects it in a handler. */
  private fromMultipartParser(error: unknown): ProblemInit | undefined {
    const known = multipartParserProblem(error);
    return known && { ...known, logLevel: 'debug' };
  }

  private fromProblemException(error: ProblemException): ProblemInit {
    const status = error.getStatus();
    return {
      status,
      type: error.problemType,
      detail: error.detail,
      extensions: error.extensions,
      errors: error.errors,
      retryAfter: error.retryAfter,
      headers: error.headers,
      logLevel: status === 500 ? 'error' : status > 500 ? 'warn' : 'debug',
      logError: status >= 500 ? (error.cause ?? error) : undefined,
    };
  }

  private fromHttpException(error: HttpException): ProblemInit {
    const status = error.getStatus();
    if (!isErrorStatus(status)) return this.serverFault(error);
    if (status >= 500) {
      // A server-side HttpException's message is often an internal one
      // (`new InternalServerErrorException(err.message)`): never sent.
      return {
        status,
        detail: genericDetail(status),
        logLevel: status === 500 ? 'error' : 'warn',
        logError: error,
      };
    }
    const response: unknown = error.getResponse();
    // An Error as the body (`new BadRequestException(dbError)`) carries the
    // database's message and fields (table, constraint...): internals, even
    // under a 4xx. Only the status is used.
    if (response instanceof Error)
      return { status, detail: genericDetail(status), logLevel: 'debug' };
    const body = asObject(response);
    // A body shaped as a problem (`{ detail }`, no `message`) keeps its detail.
    const bodyDetail = body && readMember(body, 'detail');
    const message: unknown =
      typeof response === 'string'
        ? response
        : ((body && readMember(body, 'message')) ??
          (typeof bodyDetail === 'string' ? bodyDetail : undefined));
    // Members beyond Nest's own become extensions (`render` drops reserved
    // names). Nest's `error` member repeats the status text; an OAuth
    // `error` code comes through ProblemException.
    let extensions: Record<string, unknown> | undefined;
    if (body) {
      for (const name of memberNames(body)) {
        if (NEST_BODY_MEMBERS.has(name)) continue;
        const value = readMember(body, name);
        if (value !== undefined) (extensions ??= {})[name] = value;
      }
    }
    const errorCode =
      error.errorCode ?? (body && readMember(body, 'errorCode'));
    if (typeof errorCode === 'string')
      (extensions ??= {}).errorCode = errorCode;

    if (Array.isArray(message)) {
      // Nest's own ValidationPipe sends a list of messages: keep every one.
      return {
        status,
        detail: 'Request failed validation',
        errors: message.flatMap((item: unknown) => {
          const detail = itemText(item);
          return detail === undefined
            ? []
            : [{ title: 'invalid_value', detail }];
        }),
        extensions,
        logLevel: 'debug',
      };
    }
    const usable =
      typeof message === 'string' &&
      message.trim() !== '' &&
      message !== reasonPhrase(status);
    return {
      status,
      detail:
        usable && !this.isNestDefaultMessage(message, status)
          ? message
          : genericDetail(status),
      extensions,
      logLevel: 'debug',
    };
  }

  /** Nest's exceptions default their message to the status text ("Not Found", "Payload Too Large"). */
  private isNestDefaultMessage(message: string, status: number): boolean {
    return NEST_DEFAULT_MESSAGES[status] === message;
  }

  /** Errors raised by the HTTP platform itself: body parsers, URL decoding. */
  private fromTransportError(cause: unknown): ProblemInit | undefined {
    const error = asObject(cause);
    if (!error) return undefined;
    const status = statusOf(error);
    const limit =
      typeof error.limit === 'number' ? error.limit : this.config.bodyLimit;
    // The platform's errors carry their 4xx status (http-errors, Fastify's
    // errors, Nest's wrappers); an error of the app's merely named like one
    // (`type: 'entity.parse.failed'` from a library it calls) does not, and
    // is no client error.
    if (status === undefined || status >= 500) return undefined;
    const known =
      entryOf(BODY_PARSER_ERRORS, error.type) ??
      entryOf(FASTIFY_ERRORS, error.code);
    const multipart = entryOf(FASTIFY_MULTIPART_ERRORS, error.code);
    if (multipart) return { ...multipart, logLevel: 'debug' };
    if (known) {
      return {
        status: known.status,
        detail: known.detail,
        extensions:
          known.status === 413 && limit !== undefined ? { limit } : undefined,
        // RFC 9110 §12.5.3: a coding refused says which ones are taken.
        headers:
          error.type === 'encoding.unsupported'
            ? { 'Accept-Encoding': 'identity' }
            : undefined,
        logLevel: 'debug',
      };
    }
    if (cause instanceof SyntaxError && status === 400) {
      return { status: 400, detail: MALFORMED_BODY, logLevel: 'debug' };
    }
    // zlib's errors (`Z_DATA_ERROR`...), which Express's parser passes on
    // as a 400 when a body does not inflate, with zlib's message.
    if (
      status === 400 &&
      typeof error.code === 'string' &&
      error.code.startsWith('Z_')
    ) {
      return { status: 400, detail: UNDECODABLE_BODY, logLevel: 'debug' };
    }
    // The router's failure to decode a path parameter (status 400); any
    // other URIError is the server's own (encoding a value it rendered).
    if (cause instanceof URIError && status === 400) {
      return {
        status: 400,
        detail: 'The request URI is malformed.',
        logLevel: 'debug',
      };
    }
    // Only body-parser's namespaced types and Fastify's codes: an SDK error
    // with a `type` and a 4xx `statusCode` (a payment provider's) is not
    // the client's fault here.
    const fromPlatform =
      (typeof error.type === 'string' && BODY_PARSER_TYPE.test(error.type)) ||
      (typeof error.code === 'string' && error.code.startsWith('FST_ERR_'));
    if (fromPlatform) {
      return { status, detail: genericDetail(status), logLevel: 'debug' };
    }
    return undefined;
  }

  private serverFault(error: unknown): ProblemInit {
    return {
      status: 500,
      detail: genericDetail(500),
      logLevel: 'error',
      logError: error,
    };
  }

  private render(
    init: ProblemInit,
    context: ProblemRequestContext,
  ): ProblemResponse {
    const body: ProblemDetails = {
      type: init.type ? this.catalog.uriOf(init.type) : 'about:blank',
      title: init.type ? init.type.title : reasonPhrase(init.status),
      status: init.status,
      detail: init.detail,
      instance:
        this.config.instance === 'urn-uuid'
          ? `urn:uuid:${randomUUID()}`
          : context.path || '/',
    };
    const { extensions } = init;
    if (extensions) {
      for (const name of Object.keys(extensions)) {
        if (RESERVED_MEMBERS.has(name) || !EXTENSION_NAME.test(name)) continue;
        const safe = toJsonSafe(extensions[name]);
        if (safe !== undefined) body[name] = safe;
      }
    }
    if (init.errors) {
      // Bounded: a body with thousands of bad keys must not make a response thousands of entries long.
      body.errors = toJsonSafe(init.errors.slice(0, MAX_ERRORS));
      if (init.errors.length > MAX_ERRORS)
        body.errorsOmitted = init.errors.length - MAX_ERRORS;
    }
    body.requestId = context.requestId;

    const headers: Record<string, string> = {};
    if (init.headers) {
      for (const [name, value] of Object.entries(init.headers)) {
        if (
          typeof value === 'string' &&
          HEADER_NAME.test(name) &&
          !UNSAFE_HEADER_VALUE.test(value) &&
          this.mayCarry(name)
        )
          headers[name] = value;
      }
    }
    const retryAfter = retryAfterSeconds(init.retryAfter);
    if (retryAfter !== undefined) headers['Retry-After'] = String(retryAfter);
    return {
      status: init.status,
      body,
      headers,
      logLevel: init.logLevel,
      logError: init.logError,
    };
  }

  /** False for a header the platform or the module owns; warned about once per name. */
  private mayCarry(name: string): boolean {
    const key = name.toLowerCase();
    if (!FRAMING_HEADERS.has(key) && key !== this.config.requestIdHeaderKey)
      return true;
    if (!this.refusedHeaders.has(key)) {
      this.refusedHeaders.add(key);
      this.logger.warn(
        `A problem's ${name} header was dropped: the module or the platform sets it`,
      );
    }
    return false;
  }
}

/** `Retry-After` as delta seconds (RFC 9110 §10.2.3), never negative, always digits. */
export function retryAfterSeconds(
  value: number | Date | undefined,
): number | undefined {
  if (value === undefined) return undefined;
  const seconds =
    value instanceof Date ? (value.getTime() - Date.now()) / 1000 : value;
  return Number.isFinite(seconds)
    ? Math.min(Math.max(0, Math.ceil(seconds)), MAX_SF_INTEGER)
    : undefined;
}
