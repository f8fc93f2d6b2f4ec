import type { INestApplication } from '@nestjs/common';
import { ProblemConfig } from './problem.config';
import { isUtf8 } from 'node:buffer';
import { parse as parseQueryString } from 'node:querystring';
import {
  compileMediaTypes,
  essence,
  type MediaTypeMatcher,
} from './media-type';

/** Options of {@link useStrictBodyParsing}. */
export interface StrictBodyParsingOptions {
  /** The largest body in bytes. Default 100 KiB (Express's default). */
  limit?: number;
  /** How deeply JSON arrays and objects may nest. Default 64. */
  maxDepth?: number;
}

/**
 * A body the parser refuses, shaped like the `http-errors` objects that
 * body-parser raises, so Nest's adapters keep it as the HttpException cause
 * and the problem mapper recognises it by `type`.
 */
export class BodyParseError extends Error {
  readonly status: number;
  readonly statusCode: number;
  readonly expose = true;

  constructor(
    readonly type:
      | 'encoding.invalid'
      | 'entity.too.deep'
      | 'entity.parse.failed'
      | 'entity.too.large'
      | 'charset.unsupported'
      | 'encoding.unsupported',
    /** Of an `entity.too.large`: the limit in bytes, as body-parser reports it. */
    readonly limit?: number,
  ) {
    super(`request body refused: ${type}`);
    this.status = this.statusCode = type.endsWith('.unsupported')
      ? 415
      : type === 'entity.too.large'
        ? 413
        : 400;
    this.name = 'BodyParseError';
  }
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * True when JSON text nests deeper than `maxDepth`. One pass over the bytes,
 * before parsing: a body nested 20k deep parses, but then overflows the stack
 * of every recursive consumer (class-transformer, class-validator, loggers).
 */
export function jsonNestsDeeperThan(
  body: Uint8Array,
  maxDepth: number,
): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

const PROTO_KEY = Buffer.from('__proto__');
const CONSTRUCTOR_KEY = Buffer.from('constructor');
/** A JSON escape, which can spell either word without its bytes (`\u005f_proto__`). */
const UNICODE_ESCAPE = Buffer.from('\\u');

/**
 * True when parsed JSON would carry a `__proto__` key or a
 * `constructor.prototype` (the keys Fastify's secure-json-parse refuses).
 * Only bodies that contain those words, or a `\u` escape that could spell
 * them, pay for the careful check: a parse, then a walk of its objects. A
 * reviver, called for every value,
 * took 13-20 ms on a 100 kB array that merely held the word as a string
 * (the walk about 1 ms; median of 5, plain Node 20).
 */
export function hasPoisonedKeys(body: Buffer): boolean {
  if (
    !body.includes(PROTO_KEY) &&
    !body.includes(CONSTRUCTOR_KEY) &&
    !body.includes(UNICODE_ESCAPE)
  )
    return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return false; // malformed: the parser itself reports it
  }
  const pending: unknown[] = [parsed];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      // Its keys are indices: only its members are read.
      for (const item of value as unknown[])
        if (typeof item === 'object' && item !== null) pending.push(item);
      continue;
    }
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key];
      const isObject = typeof child === 'object' && child !== null;
      if (
        key === '__proto__' ||
        (key === 'constructor' && isObject && 'prototype' in child)
      )
        return true;
      if (isObject) pending.push(child);
    }
  }
  return false;
}

/**
 * True when a form has a `__proto__` key. node:querystring returns a
 * null-prototype object, where it is an ordinary key, but code that copies
 * the form into a plain object would set a prototype. Refused on both
 * platforms (Express's parser took it, so the same form had two answers).
 */
function hasProtoFormKey(form: Record<string, unknown>): boolean {
  return Object.hasOwn(form, '__proto__');
}

function check(body: Buffer, maxDepth: number, json: boolean): void {
  if (!isUtf8(body)) throw new BodyParseError('encoding.invalid');
  if (json && jsonNestsDeeperThan(body, maxDepth))
    throw new BodyParseError('entity.too.deep');
  if (json && hasPoisonedKeys(body))
    throw new BodyParseError('entity.parse.failed');
}

type Done = (error: Error | null, value?: unknown) => void;
type ExpressMiddleware = (
  request: HeaderCarrier,
  response: { setHeader(name: string, value: string): void },
  next: (error?: unknown) => void,
) => void;
type HeaderCarrier = {
  method?: string;
  headers: Record<string, string | string[] | undefined>;
};

/**
 * GET and HEAD content has no defined meaning and cannot change the request
 * (RFC 9110 §9.3.1, §9.3.2): a cache keys their responses on the URI alone.
 * Fastify never reads it; on Express it is not read either, so a handler's
 * `@Body()` is the same on both, and a malformed one is a 400 on neither.
 */
function readsContent(request: HeaderCarrier): boolean {
  return request.method !== 'GET' && request.method !== 'HEAD';
}

/**
 * body-parser's `type` test: the request's media type, on a method whose
 * content is read; matched as the module's 415 check matches it (body-parser
 * takes a function here, and its own matcher has no method to consult).
 */
function parsedFor(
  matches: MediaTypeMatcher,
): (request: HeaderCarrier) => boolean {
  return (request) => {
    const contentType = request.headers['content-type'];
    return (
      readsContent(request) &&
      typeof contentType === 'string' &&
      matches(essence(contentType))
    );
  };
}

/**
 * Fastify ignores a body's charset and `Content-Encoding` (it never
 * decompresses); body-parser answers both with 415, and so does this.
 */
function refuseUnsupportedEncoding(request: HeaderCarrier): void {
  const contentType = request.headers['content-type'];
  const charset =
    typeof contentType === 'string'
      ? /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1]
      : undefined;
  // "UTF-8" is the registered name; body-parser refuses "utf8" too (415).
  if (charset !== undefined && !/^utf-8$/i.test(charset))
    throw new BodyParseError('charset.unsupported');
  const encoding = request.headers['content-encoding'];
  if (encoding !== undefined && encoding !== 'identity')
    throw new BodyParseError('encoding.unsupported');
}

function fastifyParser(
  maxDepth: number,
  json: boolean,
  parse: (request: unknown, text: string, done: Done) => void,
): (request: HeaderCarrier, body: Buffer, done: Done) => void {
  return (request, body, done) => {
    try {
      refuseUnsupportedEncoding(request);
      check(body, maxDepth, json);
    } catch (error) {
      done(error as Error);
      return;
    }
    if (json && body.length === 0) {
      // As body-parser reads it: many clients label every request JSON,
      // bodiless ones included. Fastify would answer 400. With a length of
      // 0 (or chunked) the body is `{}`; without either, there is none.
      const { headers } = request;
      const declared =
        headers['content-length'] !== undefined ||
        headers['transfer-encoding'] !== undefined;
      done(null, declared ? {} : undefined);
      return;
    }
    parse(request, body.toString('utf8'), done);
  };
}

/**
 * Express: a body declared larger than the limit is answered 413 at once,
 * and the connection closed after it. body-parser reads a refused body to
 * its end before it answers (so that the client can read the answer), so a
 * client declaring 200 kB and sending 1 byte waited for an answer that never
 * came, and one uploading 300 MB kept the connection for all of it. Fastify
 * answers at once and closes the connection; so does this. (A chunked body
 * that passes the limit midway is still read to its end by body-parser.)
 */
function refuseDeclaredOversize(limit: number, parsed: MediaTypeMatcher) {
  return (
    request: HeaderCarrier,
    response: { setHeader(name: string, value: string): void },
    next: (error?: unknown) => void,
  ): void => {
    const length = request.headers['content-length'];
    const contentType = request.headers['content-type'];
    if (
      readsContent(request) &&
      typeof length === 'string' &&
      typeof contentType === 'string' &&
      Number(length) > limit &&
      parsed(essence(contentType))
    ) {
      response.setHeader('Connection', 'close');
      next(new BodyParseError('entity.too.large', limit));
      return;
    }
    next();
  };
}

/**
 * Structured-syntax JSON types (RFC 6839 §3.1: `application/hal+json`,
 * `application/merge-patch+json`), parsed as JSON. The module accepts them
 * by default, and neither platform parses them by itself: Express would hand
 * the handler no body at all, Fastify would answer 415.
 */
// Fastify tests it against the whole header value, parameters included.
// Any subtype ending in +json, as Express's `application/*+json` takes it.
// A name starts with a letter or digit (RFC 6838 §4.2): not `application/+json`.
const STRUCTURED_JSON =
  /^application\/[a-z0-9][a-z0-9!#$&^_.+-]*\+json\s*(?:;|$)/i;

type BodyParserApp = {
  useBodyParser(...args: unknown[]): unknown;
};
type FastifyJsonParser = (request: unknown, body: string, done: Done) => void;
type FastifyInstanceLike = {
  getDefaultJsonParser(
    onProto: 'error',
    onConstructor: 'error',
  ): FastifyJsonParser;
};

/**
 * Whether `app.init()` has run: `NestApplication` keeps it in a field that
 * is not part of Nest's public API, so `undefined` (not known) is handled
 * as before the field was read (parsers registered at once, nothing refused).
 */
function initialized(app: INestApplication): boolean | undefined {
  const state = (app as unknown as { isInitialized?: unknown }).isInitialized;
  return typeof state === 'boolean' ? state : undefined;
}

/**
 * Runs `register` where Nest registers its own body parsers: at `app.init()`,
 * right after the adapter's init, so after CORS (`app.enableCors()`, or the
 * `cors` option of `NestFactory.create`, which Nest applies only then) and
 * before Nest middleware and routes. Registered at once, an Express parser
 * came before a CORS middleware added later: the problems it raised (400,
 * 413, 415) went out without `Access-Control-Allow-Origin`, and a browser
 * showed its script a network error instead. At once where the app does
 * not say its state or the adapter has no `init` (an initialized app is
 * refused by `useStrictBodyParsing`).
 */
function whenAdapterInitializes(
  app: INestApplication,
  register: () => void,
): void {
  const adapter = app.getHttpAdapter() as unknown as {
    init?: (...args: unknown[]) => unknown;
  };
  const init = adapter.init;
  if (initialized(app) !== false || typeof init !== 'function') {
    register();
    return;
  }
  let registered = false;
  // The adapter's own method, called for each `app.init()`: once here.
  adapter.init = async function (this: unknown, ...args: unknown[]) {
    await init.apply(this, args);
    if (registered) return;
    registered = true;
    register();
  };
}

/**
 * Registers the JSON and form parsers with the checks the contract needs and
 * neither platform makes by itself: invalid UTF-8 is a 400 (both platforms
 * otherwise decode it to U+FFFD and carry on), and so is JSON nested deeper
 * than `maxDepth`. Call it before `app.init()`/`listen()`. Express apps
 * should be created with `bodyParser: false`; there the parsers are added at
 * `app.init()`, where Nest adds its own: after CORS, whenever it is enabled.
 * On an app already initialized it throws: no route would get the parsers.
 *
 * Body parsers are platform objects, so this is the one place the library
 * asks which platform it runs on (`getHttpAdapter().getType()`).
 */
export function useStrictBodyParsing(
  app: INestApplication,
  options: StrictBodyParsingOptions = {},
): void {
  // Too late for the routes: on Express the parsers would run after them,
  // which then read no body at all (a malformed one passed), without a
  // word; Fastify refuses with its own "already started".
  if (initialized(app) === true)
    throw new Error(
      'useStrictBodyParsing: call it before app.init() or app.listen(); this app is initialized already, so no route would get its parsers',
    );
  const limit = options.limit ?? 100 * 1024;
  const maxDepth = options.maxDepth ?? 64;
  // Fastify's 413 does not say its limit: the problem reports this one.
  try {
    app.get(ProblemConfig, { strict: false }).reportEnforcedBodyLimit(limit);
  } catch {
    // HalProblemModule is not imported: nobody writes problems to report it in.
  }
  const parserApp = app as unknown as BodyParserApp;
  const platform = app.getHttpAdapter().getType();
  if (platform === 'express') {
    const json = compileMediaTypes(['application/json', 'application/*+json']);
    const form = compileMediaTypes(['application/x-www-form-urlencoded']);
    whenAdapterInitializes(app, () => {
      (app as unknown as { use(handler: ExpressMiddleware): void }).use(
        // What the parsers below take.
        refuseDeclaredOversize(limit, (type) => json(type) || form(type)),
      );
      // body-parser would decode UTF-16 and UTF-32 itself, past checks that
      // read UTF-8: refused with 415, as on Fastify (RFC 8259 §8.1: JSON
      // between systems is UTF-8).
      const verify =
        (json: boolean) =>
        (_req: unknown, _res: unknown, body: Buffer, encoding: string) => {
          if (!/^utf-?8$/i.test(encoding))
            throw new BodyParseError('charset.unsupported');
          check(body, maxDepth, json);
          // body-parser's qs drops a `__proto__` key without a word, so the
          // same form took a token here and a 400 on Fastify: parsed once
          // more (forms are small), as Fastify's parser sees it.
          if (!json && hasProtoFormKey(parseQueryString(body.toString('utf8'))))
            throw new BodyParseError('entity.parse.failed');
        };
      // As Fastify parses: any JSON text, a bare `"x"` or `1` included (its
      // type is then the validation's to refuse, with a pointer), and no
      // Content-Encoding (Fastify answers 415 for one; so does body-parser
      // with `inflate: false`).
      parserApp.useBodyParser('json', {
        limit,
        type: parsedFor(json),
        strict: false,
        inflate: false,
        verify: verify(true),
      });
      parserApp.useBodyParser('urlencoded', {
        limit,
        type: parsedFor(form),
        extended: false,
        inflate: false,
        verify: verify(false),
      });
    });
    return;
  }
  if (platform === 'fastify') {
    const instance = app.getHttpAdapter().getInstance() as FastifyInstanceLike;
    const parseJson = instance.getDefaultJsonParser('error', 'error');
    for (const type of ['application/json', STRUCTURED_JSON])
      parserApp.useBodyParser(
        type,
        { bodyLimit: limit },
        fastifyParser(maxDepth, true, (request, text, done) =>
          parseJson(request, text, done),
        ),
      );
    parserApp.useBodyParser(
      'application/x-www-form-urlencoded',
      { bodyLimit: limit },
      fastifyParser(maxDepth, false, (_request, text, done) => {
        const form = parseQueryString(text);
        if (hasProtoFormKey(form))
          done(new BodyParseError('entity.parse.failed'));
        else done(null, form);
      }),
    );
    return;
  }
  throw new Error(
    `useStrictBodyParsing: unsupported HTTP platform "${platform}"`,
  );
}
