/**
 * A Problem Details document (RFC 9457 §3). `type`, `title`, `status`,
 * `detail` and `instance` are always present in what this library sends;
 * extension members sit beside them.
 */
export interface ProblemDetails {
  /** An absolute URI identifying the problem type, or `about:blank`. */
  type: string;
  /** A short summary that never varies between occurrences of the type. */
  title: string;
  /** The HTTP status code of this occurrence. */
  status: number;
  /** A human-readable explanation of this occurrence. */
  detail: string;
  /** A URI reference identifying this occurrence. */
  instance: string;
  /** Extension members. */
  [extension: string]: unknown;
}

/** One entry of a problem's `errors` member: one violated rule. */
export interface ProblemFieldError {
  /** A stable machine code, e.g. `invalid_type` or `too_big`. */
  title: string;
  /** What is wrong, naming the location, e.g. "`body.name` is `undefined`, but `string` is expected." */
  detail: string;
  /** A JSON Pointer (RFC 6901) as a URI fragment into the request body, e.g. `#/items/0/quantity`. */
  pointer?: string;
  /** The name of the offending query or route parameter. */
  parameter?: string;
  /** The name of the offending request header. */
  header?: string;
}
