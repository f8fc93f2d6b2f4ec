/** How much of a thrown non-Error value a log line shows. */
const MAX_VALUE_TEXT = 200;

/** Line breaks and other control characters (C0, DEL, C1, U+2028/9). */
// eslint-disable-next-line no-control-regex -- matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * Text for one log line: control characters escaped as `\uXXXX`, so that
 * what a client sent (a path parameter in a problem's detail, say) can
 * neither start a forged line nor carry terminal escapes into the log.
 */
export function logText(text: string): string {
  return text.replace(
    CONTROL,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * A log line's account of anything thrown, never throwing itself: an Error
 * with its stack (and its `cause`, which a 5xx HttpException carries),
 * anything else as a bounded, quoted rendering of `String(value)`. The
 * message, and the stack's first line where it repeats it, are one line
 * each (`logText`).
 */
export function describeError(
  error: unknown,
  depth = 0,
): { message: string; stack?: string } {
  try {
    if (error instanceof Error) {
      const raw = `${error.name}: ${error.message}`;
      const message = logText(raw);
      const stack =
        typeof error.stack === 'string' && error.stack.startsWith(raw)
          ? `${message}${error.stack.slice(raw.length)}`
          : error.stack;
      const cause: unknown = error.cause;
      if (cause === undefined || depth >= 3) return { message, stack };
      const inner = describeError(cause, depth + 1);
      return {
        message,
        stack: `${stack ?? message}\nCaused by: ${inner.stack ?? inner.message}`,
      };
    }
    let text: string;
    try {
      text = JSON.stringify(String(error).slice(0, MAX_VALUE_TEXT));
    } catch {
      text = 'unprintable';
    }
    return { message: `non-Error value thrown (${typeof error}): ${text}` };
  } catch {
    return { message: 'unprintable error' };
  }
}
