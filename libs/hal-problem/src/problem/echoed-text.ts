/** The longest client text (a path, a media type) a `detail` repeats whole. */
export const MAX_ECHO_IN_DETAIL = 128;

/**
 * Text a client chose, as a `detail` repeats it: cut after `max` characters,
 * with `…`. Repeated whole, a path or a media type made the problem as large
 * as Node lets request headers be (16 kB), beside an `instance` of the same.
 * A cut never splits a surrogate pair: half of one is no character, and
 * would reach the client as a lone `\ud83d` escape.
 */
export function shortened(text: string, max = MAX_ECHO_IN_DETAIL): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  const end = last >= 0xd800 && last <= 0xdbff ? max - 1 : max;
  return `${text.slice(0, end)}…`;
}
