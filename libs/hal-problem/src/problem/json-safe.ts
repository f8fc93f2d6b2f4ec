const MAX_DEPTH = 8;
const MAX_ITEMS = 1000;

/**
 * Copies a value into plain JSON data, or returns `undefined` when it cannot
 * be represented safely: cycles, functions, symbols, errors (their messages
 * and stacks are internals) and `toJSON` methods that throw are dropped
 * rather than allowed to break the error response.
 */
export function toJsonSafe(
  value: unknown,
  depth = 0,
  seen = new Set<object>(),
): unknown {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : undefined;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return undefined;
  }
  if (depth >= MAX_DEPTH || seen.has(value) || value instanceof Error)
    return undefined;
  if (value instanceof Date)
    return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  seen.add(value);
  try {
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      let json: unknown;
      try {
        json = (value as { toJSON(): unknown }).toJSON();
      } catch {
        return undefined;
      }
      return json === value ? undefined : toJsonSafe(json, depth + 1, seen);
    }
    if (Array.isArray(value)) {
      return value
        .slice(0, MAX_ITEMS)
        .map((item) => toJsonSafe(item, depth + 1, seen) ?? null);
    }
    const copy: Record<string, unknown> = {};
    let count = 0;
    for (const key of Object.keys(value)) {
      if (count++ >= MAX_ITEMS) break;
      if (key === '__proto__' || key === 'constructor' || key === 'prototype')
        continue;
      let item: unknown;
      try {
        item = (value as Record<string, unknown>)[key];
      } catch {
        continue; // a getter that throws
      }
      const safe = toJsonSafe(item, depth + 1, seen);
      if (safe !== undefined) copy[key] = safe;
    }
    return copy;
  } finally {
    seen.delete(value);
  }
}
