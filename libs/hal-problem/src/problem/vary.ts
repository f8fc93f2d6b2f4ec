import type { AbstractHttpAdapter } from '@nestjs/core';

/**
 * `added`'s field names appended to a `Vary` value already set, each once
 * (compared without case): `Vary` is a list (RFC 9110 §12.5.5), and what
 * others put there holds too. CORS adds `Origin` when its answer depends on
 * the request's origin; replaced, a shared cache could serve one origin's
 * `Access-Control-Allow-Origin` to another. `*` varies on everything
 * already, so it is kept alone.
 */
export function withVary(existing: unknown, added: string): string {
  if (typeof existing !== 'string' || existing.trim() === '') return added;
  const listed = new Set(
    existing.split(',').map((name) => name.trim().toLowerCase()),
  );
  if (listed.has('*')) return existing;
  let merged = existing;
  for (const raw of added.split(',')) {
    const name = raw.trim();
    if (name === '*') return '*';
    if (name === '' || listed.has(name.toLowerCase())) continue;
    listed.add(name.toLowerCase());
    merged += `, ${name}`;
  }
  return merged;
}

type HeaderAdapter = Pick<AbstractHttpAdapter, 'getHeader' | 'setHeader'>;

/** Adds `names` to the response's `Vary` through the adapter, setting it only when that changes it. */
export function addVary(
  adapter: HeaderAdapter,
  response: unknown,
  names: string,
): void {
  const vary: unknown = adapter.getHeader(response, 'Vary');
  const merged = withVary(vary, names);
  if (merged !== vary) adapter.setHeader(response, 'Vary', merged);
}

/**
 * Sets a header through the adapter; a `Vary` is added to what others vary
 * on (CORS's `Origin`), never replacing it.
 */
export function setHeaderAddingVary(
  adapter: HeaderAdapter,
  response: unknown,
  name: string,
  value: string,
): void {
  if (name.length === 4 && name.toLowerCase() === 'vary')
    addVary(adapter, response, value);
  else adapter.setHeader(response, name, value);
}
