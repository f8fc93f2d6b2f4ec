import { hash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level, so two bodies that differ
 * only in property order have the same text (and fingerprint). Cycles
 * cannot occur: request bodies come from a parser.
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object')
    return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .map(
      (key) =>
        `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`,
    );
  return `{${entries.join(',')}}`;
}

/**
 * SHA-256 of the canonical JSON of a request body. The one-shot `hash()`
 * (Node 20.12+) spares the Hash object `createHash` builds per call.
 */
export function fingerprintOf(body: unknown): string {
  return hash('sha256', canonicalJson(body), 'base64url');
}
