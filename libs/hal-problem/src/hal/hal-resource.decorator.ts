import { SetMetadata, type Type } from '@nestjs/common';
import { HAL_RESOURCE_METADATA, HAL_SKIP_METADATA } from './hal.constants';

/**
 * Says which class's `@HalLink`s and `@HalEmbedded`s apply to what a handler
 * returns, for handlers that return plain objects rather than instances.
 */
export const HalResource = (type: Type): MethodDecorator =>
  SetMetadata(HAL_RESOURCE_METADATA, type);

/**
 * Leaves a handler's (or controller's) bodies as they are: not HAL, e.g. an
 * OAuth token response or a health check.
 */
export const SkipHal = (): MethodDecorator & ClassDecorator =>
  SetMetadata(HAL_SKIP_METADATA, true);
