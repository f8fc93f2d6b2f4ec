import type { Type } from '@nestjs/common';

/** Paging facts of a {@link HalPage}. */
export interface HalPageMeta {
  /** The page number, starting at 1. */
  readonly page: number;
  readonly size: number;
  /** How many items there are in all pages. */
  readonly total: number;
}

/** How a {@link HalPage} is rendered. */
export interface HalPageOptions {
  /** The `_embedded` rel of the items. Default: the handler's `@HalEmbedded` rel, else `items`. */
  readonly rel?: string;
  /** The class whose links each item carries (for plain-object items). */
  readonly type?: () => Type;
  /** The query parameter names of the page number and size. Default `page`, `size`. */
  readonly pageParam?: string;
  readonly sizeParam?: string;
}

/**
 * A page of a collection: rendered as `_embedded.<rel>` (always present,
 * possibly `[]`), a `page` block `{number, size, totalElements, totalPages}`
 * and `self`/`first`/`prev`/`next`/`last` links that keep the request's
 * other query parameters.
 */
export class HalPage<T = unknown> {
  /**
   * @throws RangeError when `page` or `size` is not a whole number of at
   *   least 1, or `total` not one of at least 0: the links would be nonsense
   *   (`page=-5` linked `next` to `-4`, `NaN` to `null`). Check the query
   *   first (the sample's DTO answers a bad `page` with a 400).
   */
  constructor(
    readonly items: readonly T[],
    readonly meta: HalPageMeta,
    readonly options: HalPageOptions = {},
  ) {
    requireWhole('page', meta.page, 1);
    requireWhole('size', meta.size, 1);
    requireWhole('total', meta.total, 0);
  }

  get totalPages(): number {
    return this.meta.size > 0 ? Math.ceil(this.meta.total / this.meta.size) : 0;
  }
}

function requireWhole(name: string, value: unknown, least: number): void {
  if (!Number.isSafeInteger(value) || (value as number) < least)
    throw new RangeError(
      `HalPage: ${name} must be a whole number of at least ${least}, not ${String(value)}`,
    );
}
