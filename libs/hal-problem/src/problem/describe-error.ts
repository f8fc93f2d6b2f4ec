/** How much of a thrown non-Error value a log line shows. */
const MAX_VALUE_TEXT = 200;

/**
 * A log line's account of anything thrown, never throwing itself: an Error
 * with its stack (and its `cause`, which a 5xx HttpException carries),
 * anything else as a bounded, quoted rendering of `String(value)`.
 */
export function describeError(
  error: unknown,
  depth = 0,
): { message: string; stack?: string } {
  try {
    if (error instanceof Error) {
      const message = `${error.name}: ${error.message}`;
      const cause: unknown = error.cause;
      if (cause === undefined || depth >= 3)
        return { message, stack: error.stack };
      const inner = describeError(cause, depth + 1);
      return {
        message,
        stack: `${error.stack ?? message}\nCaused by: ${inner.stack ?? inner.message}`,
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
