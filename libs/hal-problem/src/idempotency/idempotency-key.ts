/** sf-string characters (RFC 8941 §3.3.3): printable ASCII; `"` and `\` only escaped. */
const SF_STRING = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/;
/** The common sf-string: no escapes, nothing to unescape. */
const PLAIN_SF_STRING = /^"[\x20\x21\x23-\x5b\x5d-\x7e]*"$/;
/** A bare key, as many clients send it: token characters only. */
const BARE_KEY = /^[A-Za-z0-9!#$%&'*+.^_`|~:/=-]+$/;

/**
 * The key of an `Idempotency-Key` header: a structured-field string
 * (`"8e03978e-…"`, as the draft defines it) or, leniently, a bare token.
 * Returns undefined for anything else, or a key of the wrong length.
 */
export function parseIdempotencyKey(
  header: string,
  maxLength: number,
): string | undefined {
  const value = header.trim();
  let key: string | undefined;
  if (PLAIN_SF_STRING.test(value)) key = value.slice(1, -1);
  else {
    const quoted = SF_STRING.exec(value);
    key = quoted
      ? quoted[1].replace(/\\(["\\])/g, '$1')
      : BARE_KEY.test(value)
        ? value
        : undefined;
  }
  if (key === undefined || key.length === 0 || key.length > maxLength)
    return undefined;
  return key;
}
