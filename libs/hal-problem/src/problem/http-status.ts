import type { ProblemDetails } from './problem-details.interface';

/**
 * Reason phrases from RFC 9110 §15 (and the registries it points to). Node's
 * `http.STATUS_CODES` still carries older names (413 "Payload Too Large",
 * 422 "Unprocessable Entity"), so the library keeps the standard's own list:
 * with `type: about:blank` the `title` must be the reason phrase (RFC 9457 §4.2.1).
 */
const REASON_PHRASES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  417: 'Expectation Failed',
  418: "I'm a teapot",
  421: 'Misdirected Request',
  422: 'Unprocessable Content',
  423: 'Locked',
  424: 'Failed Dependency',
  425: 'Too Early',
  426: 'Upgrade Required',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
  506: 'Variant Also Negotiates',
  507: 'Insufficient Storage',
  508: 'Loop Detected',
  510: 'Not Extended',
  511: 'Network Authentication Required',
};

/**
 * The largest integer written into a header: 15 digits, RFC 9651's
 * sf-integer (the `RateLimit` fields) and the longest `Retry-After`.
 * `String()` writes 1e21 and more in exponent form (`1e+300`), which is no
 * delay-seconds: a client would read a wrong delay or none.
 */
export const MAX_SF_INTEGER = 999_999_999_999_999;

/** What a client is told when the server has nothing safer to say. */
const GENERIC_DETAILS: Readonly<Record<number, string>> = {
  400: 'The request could not be understood by the server.',
  401: 'The request lacks valid authentication credentials.',
  403: 'The server understood the request but refuses to authorize it.',
  404: 'The requested resource does not exist.',
  405: 'The target resource does not support this method.',
  406: 'The server cannot produce a representation the client accepts.',
  408: 'The server timed out waiting for the request.',
  409: 'The request conflicts with the current state of the resource.',
  410: 'The requested resource is no longer available.',
  412: 'A precondition of the request was not met.',
  413: 'The request body is larger than the server accepts.',
  414: 'The request URI is longer than the server accepts.',
  415: 'The request body is in a format the server does not accept.',
  422: 'The request is well-formed but could not be processed.',
  429: 'Too many requests; try again later.',
  500: 'The server encountered an unexpected condition and could not complete the request.',
  501: 'The server does not support the functionality required to fulfil the request.',
  502: 'The server received an invalid response from an upstream server.',
  503: 'The service is temporarily unavailable; try again later.',
  504: 'The server did not receive a timely response from an upstream server.',
};

/** True for the statuses a problem document may carry (RFC 9457 is for 4xx/5xx). */
export function isErrorStatus(status: unknown): status is number {
  return (
    typeof status === 'number' &&
    Number.isInteger(status) &&
    status >= 400 &&
    status <= 599
  );
}

/**
 * The RFC 9110 reason phrase of an error status; for a status with none
 * registered (499), the name of its class (RFC 9110 §15.5, §15.6) rather
 * than another status's phrase.
 */
export function reasonPhrase(status: number): string {
  return (
    REASON_PHRASES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error')
  );
}

/** A generic, safe `detail` for a status. */
export function genericDetail(status: number): string {
  return (
    GENERIC_DETAILS[status] ??
    (status >= 500
      ? GENERIC_DETAILS[500]
      : `The request failed with status ${status}.`)
  );
}

/**
 * The bare 500 sent where the problem mapper could not run or read what was
 * thrown (the filter's own failure, a background job's unreadable error).
 */
export function bareServerError(instance: string): ProblemDetails {
  return {
    type: 'about:blank',
    title: reasonPhrase(500),
    status: 500,
    detail: genericDetail(500),
    instance,
  };
}
