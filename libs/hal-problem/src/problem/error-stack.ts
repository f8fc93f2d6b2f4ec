/**
 * The stack of a thrown value for a log line, or `undefined`. Never throws:
 * it runs where an error is already being handled (a filter, a stream's
 * error event, a background job's catch), and a value whose `stack` getter
 * or prototype lookup throws (a Proxy, a hostile getter) must not turn a
 * logged failure into an unhandled one.
 */
export function stackOf(error: unknown): string | undefined {
  try {
    if (!(error instanceof Error)) return undefined;
    const stack: unknown = error.stack;
    return typeof stack === 'string' ? stack : undefined;
  } catch {
    return undefined;
  }
}
