/** What a multipart failure is answered with. */
export interface MultipartProblem {
  readonly status: number;
  readonly detail: string;
}

const MALFORMED_MULTIPART =
  'The multipart request body is malformed and could not be parsed.';

/**
 * `@fastify/multipart`'s errors by `code` (`FST_…`, outside Fastify's own
 * `FST_ERR_` namespace), thrown by `req.file()`/`req.parts()` in a handler.
 * Its statuses are kept, except 406 (Not Acceptable is about the response's
 * media type, RFC 9110 §15.5.7): a body that is not multipart is a 415, a
 * JSON field that does not parse a 400. The 413 has no `limit`: the file
 * limit is the plugin's, not the body limit the module knows.
 */
export const FASTIFY_MULTIPART_ERRORS: Readonly<
  Record<string, MultipartProblem>
> = {
  FST_REQ_FILE_TOO_LARGE: {
    status: 413,
    detail: 'An uploaded file is larger than the server accepts.',
  },
  FST_FILES_LIMIT: {
    status: 413,
    detail: 'The request has more files than the server accepts.',
  },
  FST_FIELDS_LIMIT: {
    status: 413,
    detail: 'The request has more form fields than the server accepts.',
  },
  FST_PARTS_LIMIT: {
    status: 413,
    detail: 'The request has more parts than the server accepts.',
  },
  FST_PROTO_VIOLATION: { status: 400, detail: MALFORMED_MULTIPART },
  FST_INVALID_JSON_FIELD_ERROR: { status: 400, detail: MALFORMED_MULTIPART },
  FST_MP_PREMATURE_CLOSE: {
    status: 400,
    detail: 'The request was aborted before its body was received.',
  },
  FST_INVALID_MULTIPART_CONTENT_TYPE: {
    status: 415,
    detail: 'The request body is not multipart/form-data.',
  },
};

/**
 * multer's size and count limits by `code`, answered as
 * `@fastify/multipart`'s same limits are. Nest's `FileInterceptor` keeps
 * multer's error as the `cause` of the exception it throws, and makes the
 * count limits a 400; but more files, fields or parts than the server takes
 * is content larger than it will process (RFC 9110 §15.5.14), so one
 * contract holds on both platforms. Its other errors (an unexpected field,
 * a name too long) stay the 400 Nest gives them.
 */
const MULTER_LIMITS: Readonly<Record<string, MultipartProblem>> = {
  LIMIT_FILE_SIZE: FASTIFY_MULTIPART_ERRORS.FST_REQ_FILE_TOO_LARGE,
  LIMIT_FILE_COUNT: FASTIFY_MULTIPART_ERRORS.FST_FILES_LIMIT,
  LIMIT_FIELD_COUNT: FASTIFY_MULTIPART_ERRORS.FST_FIELDS_LIMIT,
  LIMIT_PART_COUNT: FASTIFY_MULTIPART_ERRORS.FST_PARTS_LIMIT,
};

/** A multer limit error (the `cause` Nest keeps), or `undefined`. */
export function multerLimitProblem(
  cause: unknown,
): MultipartProblem | undefined {
  if (!(cause instanceof Error) || cause.name !== 'MulterError')
    return undefined;
  const code = (cause as { code?: unknown }).code;
  return typeof code === 'string' && Object.hasOwn(MULTER_LIMITS, code)
    ? MULTER_LIMITS[code]
    : undefined;
}

/**
 * The multipart parser under `@fastify/multipart` (`@fastify/busboy`)
 * rejects a malformed body with a bare `Error` that has no code or status,
 * only these messages (the ones Nest's `FileInterceptor` also reads on
 * Express, where they are a 400). Matched exactly, on a plain `Error` only,
 * so an app's own error is never taken for one; none echoes the body.
 */
const MULTIPART_PARSER_MESSAGES = new Set([
  'Multipart: Boundary not found',
  'Unexpected end of multipart data',
  'Part terminated early due to unexpected end of multipart data',
  'Preamble terminated early due to unexpected end of multipart data',
  // A boundary over 256 characters (RFC 2046 §5.1.1 allows 70).
  'The needle cannot have a length bigger than 256.',
]);

/** A malformed multipart body's error from the parser, or `undefined`. */
export function multipartParserProblem(
  error: unknown,
): MultipartProblem | undefined {
  return error instanceof Error &&
    Object.getPrototypeOf(error) === Error.prototype &&
    MULTIPART_PARSER_MESSAGES.has(error.message)
    ? { status: 400, detail: MALFORMED_MULTIPART }
    : undefined;
}
