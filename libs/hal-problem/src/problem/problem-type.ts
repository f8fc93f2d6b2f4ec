import { isErrorStatus } from './http-status';

/** How a problem type is declared once and reused wherever it is thrown. */
export interface ProblemTypeDefinition {
  /**
   * A short identifier such as `order-not-open`; the type URI is the
   * module's `problemTypeBaseUri` followed by the slug.
   */
  readonly slug: string;
  /** An absolute URI to use instead of base URI + slug. */
  readonly uri?: string;
  /** The summary sent as `title` with every occurrence. */
  readonly title: string;
  /** The HTTP status of every occurrence. */
  readonly status: number;
  /** Documentation of the type: when it happens and what a client can do. */
  readonly description?: string;
}

/** A declared problem type (see {@link defineProblemType}). */
export type ProblemType = ProblemTypeDefinition;

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
const ABSOLUTE_URI = /^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]*$/;

/** Every type declared with {@link defineProblemType}, by slug. */
const declaredTypes = new Map<string, ProblemType>();

/**
 * Declares a problem type once, at import time, so its `type` URI, `title`
 * and status stay stable across every occurrence and the catalog can list it.
 *
 * @example
 * export const OrderNotOpen = defineProblemType({
 *   slug: 'order-not-open', title: 'Order is not open', status: 409,
 * });
 * throw new ProblemException(OrderNotOpen, { detail: `Order ${id} was shipped.` });
 */
export function defineProblemType(
  definition: ProblemTypeDefinition,
): ProblemType {
  if (!SLUG.test(definition.slug)) {
    throw new Error(
      `Problem type slug "${definition.slug}" must be lower-case letters, digits and dashes`,
    );
  }
  if (!isErrorStatus(definition.status)) {
    throw new Error(
      `Problem type "${definition.slug}" needs a 4xx or 5xx status`,
    );
  }
  if (definition.uri !== undefined && !ABSOLUTE_URI.test(definition.uri)) {
    throw new Error(
      `Problem type "${definition.slug}" uri must be an absolute URI`,
    );
  }
  if (!definition.title.trim()) {
    throw new Error(`Problem type "${definition.slug}" needs a title`);
  }
  const type: ProblemType = Object.freeze({ ...definition });
  const existing = declaredTypes.get(type.slug);
  if (
    existing &&
    (existing.title !== type.title ||
      existing.status !== type.status ||
      existing.uri !== type.uri)
  ) {
    throw new Error(
      `Problem type "${type.slug}" is already declared differently`,
    );
  }
  if (!existing) declaredTypes.set(type.slug, type);
  return existing ?? type;
}

/** The problem types declared so far, in declaration order. */
export function declaredProblemTypes(): readonly ProblemType[] {
  return [...declaredTypes.values()];
}

/** True when `value` is an absolute URI (RFC 3986 §4.3). */
export function isAbsoluteUri(value: string): boolean {
  return ABSOLUTE_URI.test(value);
}
