import type { Type } from '@nestjs/common';
import { HAL_LINKS_METADATA } from './hal.constants';
import type {
  HalLinkDeclaration,
  HalLinkOptions,
  HandlerName,
} from './hal-link.interface';

/**
 * Declares a link of the resource a handler returns (on a controller method)
 * or of every resource of a class (on a response DTO class), so a resource
 * carries its links wherever it is returned or embedded.
 *
 * @param rel a registered relation (`self`, `next`…), a URI, a CURIE
 *   (`acme:widgets`) or a relation registered with the module's `hal.relations`
 * @param target a route reference `[OrdersController, 'findOne']`, the same behind a
 *   function (`() => [OrdersController, 'findOne']`) where the controller imports
 *   this class (resolved at bootstrap), or an RFC 6570 template
 *
 * @example
 * @HalLink('self', () => [OrdersController, 'findOne'])
 * @HalLink('cancel', () => [OrdersController, 'cancel'], { when: (order) => order.status === 'open' })
 * export class OrderResource { ... }
 */
export function HalLink<T, R = unknown>(
  rel: string,
  target:
    | string
    | readonly [Type<T>, HandlerName<T>]
    | (() => readonly [Type<T>, HandlerName<T>]),
  options: HalLinkOptions<R> = {},
): ClassDecorator & MethodDecorator {
  const declaration: HalLinkDeclaration = {
    rel,
    target: target as HalLinkDeclaration['target'],
    options: options as HalLinkOptions,
  };
  return (
    target: object,
    _key?: string | symbol,
    descriptor?: PropertyDescriptor,
  ) => {
    const holder = (descriptor?.value as object | undefined) ?? target;
    const existing = (Reflect.getOwnMetadata(HAL_LINKS_METADATA, holder) ??
      []) as HalLinkDeclaration[];
    // Decorators run bottom-up: prepend, so links keep the order they are written in.
    Reflect.defineMetadata(
      HAL_LINKS_METADATA,
      [declaration, ...existing],
      holder,
    );
  };
}
