import { SetMetadata, type Type } from '@nestjs/common';
import { HAL_RESOURCE_METADATA, HAL_SKIP_METADATA } from './hal.constants';

/**
 * Says which class's `@HalLink`s and `@HalEmbedded`s apply to what a handler
 * returns, for handlers that return plain objects rather than instances.
 * Pass `() => OrderResource` where the resource's file imports the
 * controller: in an ES module app the class may not exist yet when the
 * controller's decorators run (it is resolved at bootstrap).
 */
export const HalResource = (type: Type | (() => Type)): MethodDecorator =>
  SetMetadata(HAL_RESOURCE_METADATA, type);

/** The class `@HalResource()` names: a class has a prototype, an arrow function returning one does not. */
export function resolveHalResourceType(
  declared: Type | (() => Type) | undefined,
): Type | undefined {
  if (declared === undefined) return undefined;
  return 'prototype' in declared && declared.prototype !== undefined
    ? (declared as Type)
    : (declared as () => Type)();
}

/**
 * Leaves a handler's (or controller's) bodies as they are: not HAL, e.g. an
 * OAuth token response or a health check.
 */
export const SkipHal = (): MethodDecorator & ClassDecorator =>
  SetMetadata(HAL_SKIP_METADATA, true);
