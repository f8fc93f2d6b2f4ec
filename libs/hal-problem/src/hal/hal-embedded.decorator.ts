import type { Type } from '@nestjs/common';
import { HAL_EMBEDDED_METADATA } from './hal.constants';
import type { HalEmbeddedDeclaration } from './hal-link.interface';

/** Options of {@link HalEmbedded}. */
export interface HalEmbeddedOptions {
  /** The class whose `@HalLink`s each embedded resource carries (needed for plain objects). */
  type?: () => Type;
  /** On a handler: the property of the returned resource to embed; defaults to the rel. */
  property?: string;
}

/**
 * Moves a property of a resource into `_embedded[rel]`, each item rendered
 * with its own links. On a DTO property it applies to every resource of the
 * class; on a handler, to the resource the handler returns. An empty array
 * stays `[]`.
 */
export function HalEmbedded(
  rel: string,
  options: HalEmbeddedOptions = {},
): PropertyDecorator & MethodDecorator {
  return (
    target: object,
    key: string | symbol,
    descriptor?: PropertyDescriptor,
  ) => {
    const onHandler =
      descriptor !== undefined && typeof descriptor.value === 'function';
    const holder = onHandler
      ? (descriptor.value as object)
      : target.constructor;
    // A property's declared type (emitted before its decorators run) tells
    // one resource from a list; a handler's returned value has none.
    const designType: unknown = onHandler
      ? undefined
      : Reflect.getMetadata('design:type', target, key);
    const declaration: HalEmbeddedDeclaration = {
      rel,
      property: options.property ?? (onHandler ? rel : String(key)),
      type: options.type,
      array:
        typeof designType === 'function' && designType !== Object
          ? designType === Array
          : undefined,
    };
    const existing = (Reflect.getOwnMetadata(HAL_EMBEDDED_METADATA, holder) ??
      []) as HalEmbeddedDeclaration[];
    Reflect.defineMetadata(
      HAL_EMBEDDED_METADATA,
      [declaration, ...existing],
      holder,
    );
  };
}
