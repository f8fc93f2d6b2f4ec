import { hash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level, so two bodies that differ
 * only in property order have the same text (and fingerprint). Cycles
 * cannot occur: request bodies come from a parser.
 *
 * Bytes (a raw body parser's Buffer) are written once as `<base64>`, which
 * no JSON text holds outside a string: read as an object, a Buffer was one
 * key per byte, sorted (5 s of CPU for 1 MB), and the same text as the JSON
 * object of its indices.
 *
 * Written with a stack of its own rather than by recursion: the platforms'
 * own JSON parsers set no depth limit, and a body a route takes must not
 * overflow the call stack here (a 500 only because it had a key).
 */
export function canonicalJson(value: unknown): string {
  let text = '';
  // What is left to write, last first: values, and the punctuation between
  // them as strings in `punctuation` (a value may be a string too).
  const values: unknown[] = [value];
  const punctuation: (string | undefined)[] = [undefined];
  while (values.length > 0) {
    const literal = punctuation.pop();
    const next = values.pop();
    if (literal !== undefined) {
      text += literal;
      continue;
    }
    if (next === undefined) text += 'null';
    else if (next === null || typeof next !== 'object')
      text += JSON.stringify(next) ?? 'null';
    else if (ArrayBuffer.isView(next) || next instanceof ArrayBuffer)
      text += `<${bytesOf(next).toString('base64')}>`;
    else if (Array.isArray(next)) {
      text += '[';
      values.push(undefined);
      punctuation.push(']');
      for (let i = next.length - 1; i >= 0; i--) {
        values.push(next[i]);
        punctuation.push(undefined);
        if (i > 0) {
          values.push(undefined);
          punctuation.push(',');
        }
      }
    } else {
      const record = next as Record<string, unknown>;
      const keys = Object.keys(record)
        .sort()
        .filter((key) => record[key] !== undefined);
      text += '{';
      values.push(undefined);
      punctuation.push('}');
      for (let i = keys.length - 1; i >= 0; i--) {
        values.push(record[keys[i]]);
        punctuation.push(undefined);
        values.push(undefined);
        punctuation.push(`${i > 0 ? ',' : ''}${JSON.stringify(keys[i])}:`);
      }
    }
  }
  return text;
}

function bytesOf(value: ArrayBufferView | ArrayBuffer): Buffer {
  return value instanceof ArrayBuffer
    ? Buffer.from(value)
    : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/**
 * SHA-256 of the canonical JSON of a request body. The one-shot `hash()`
 * (Node 20.12+) spares the Hash object `createHash` builds per call.
 */
export function fingerprintOf(body: unknown): string {
  return hash('sha256', canonicalJson(body), 'base64url');
}
