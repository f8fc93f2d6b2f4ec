/** The longest client text (a path, a media type) a `detail` repeats whole. */
export const MAX_ECHO_IN_DETAIL = 128;

/**
 * Text a client chose, as a `detail` repeats it: cut after `max` characters,
 * with `…`. Repeated whole, a path or a media type made the problem as large
 * as Node lets request headers be (16 kB), beside an `instance` of the same.
 */
export function shortened(text: string, max = MAX_ECHO_IN_DETAIL): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
