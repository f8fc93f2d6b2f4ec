import type { Type } from '@nestjs/common';

/** A link object of a HAL document (draft-kelly-json-hal §5). */
export interface HalLinkObject {
  href: string;
  templated?: boolean;
  type?: string;
  deprecation?: string;
  name?: string;
  profile?: string;
  title?: string;
  hreflang?: string;
}

/** What link conditions and parameter functions know about the request. */
export interface HalContext {
  /** The platform request (Express or Fastify). */
  readonly request: unknown;
  /** The authenticated principal (`request.user`), if any. */
  readonly principal: unknown;
  /** The route parameters of the current request. */
  readonly params: Readonly<Record<string, string>>;
  /** The query of the current request. */
  readonly query: Readonly<Record<string, unknown>>;
}

/** A value RFC 6570 can expand. */
export type HalTemplateValue =
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly (string | number | boolean)[];

/** Method names of a controller, for type-checked route references. */
export type HandlerName<T> = {
  [K in keyof T]: T[K] extends (...args: never[]) => unknown ? K : never;
}[keyof T] &
  string;

/** A link to a route: `[OrdersController, 'findOne']`. The method name is type-checked. */
export type HalRouteReference<T = unknown> = readonly [Type<T>, HandlerName<T>];

/** Attributes and behaviour of a declared link. */
export interface HalLinkOptions<R = unknown> {
  /** Values for the target's template variables; by default the resource's properties of the same names. */
  params?: (
    resource: R,
    context: HalContext,
  ) => Readonly<Record<string, HalTemplateValue>>;
  /** Include the link only when this holds (e.g. `cancel` only while an order is open). */
  when?(
    this: void,
    resource: R,
    context: HalContext,
  ): boolean | Promise<boolean>;
  /** Send the template itself (`/orders/{id}`, with a route's query parameters as `{?page,size}`). */
  templated?: boolean;
  /** Always render this rel as an array of links. */
  array?: boolean;
  title?: string;
  name?: string;
  type?: string;
  deprecation?: string;
  profile?: string;
  hreflang?: string;
}

/** One `@HalLink` declaration, as stored in metadata. */
export interface HalLinkDeclaration {
  readonly rel: string;
  /** A template, a route reference, or a function returning one (resolved at bootstrap, for circular imports). */
  readonly target:
    string | readonly [Type, string] | (() => readonly [Type, string]);
  readonly options: HalLinkOptions;
}

/** One `@HalEmbedded` declaration, as stored in metadata. */
export interface HalEmbeddedDeclaration {
  readonly rel: string;
  /** The property of the resource holding the embedded value; defaults to the rel. */
  readonly property: string;
  /** The class whose `@HalLink`s the embedded resources carry. */
  readonly type?: () => Type;
  /**
   * Whether the DTO property is declared an array (its `design:type`), or
   * undefined when unknown (on a handler): the OpenAPI document says
   * whether `_embedded[rel]` is one resource or a list.
   */
  readonly array?: boolean;
}
