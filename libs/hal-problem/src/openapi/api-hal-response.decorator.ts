import { applyDecorators, SetMetadata, type Type } from '@nestjs/common';
import { createRequire } from 'node:module';
import { API_HAL_RESPONSE_METADATA } from './openapi.constants';

/** How a handler's HAL body is documented. */
export interface ApiHalResponseOptions {
  /** Default: the handler's status (`@HttpCode()`, 201 for POST, else 200). */
  readonly status?: number;
  readonly description?: string;
  /** The body is a `HalPage` of `type` items. Detected from a `HalPage` return type too. */
  readonly page?: boolean;
}

export interface ApiHalResponseMetadata extends ApiHalResponseOptions {
  readonly type?: Type;
}

const requireOptional = createRequire(__filename);

/**
 * `@nestjs/swagger`'s `ApiExtraModels`, when that optional peer is installed,
 * so the type's schema is in the document for the HAL schema to build on.
 */
function extraModels(type: Type | undefined): MethodDecorator[] {
  if (!type) return [];
  try {
    const swagger = requireOptional('@nestjs/swagger') as {
      ApiExtraModels(...models: Type[]): MethodDecorator;
    };
    return [swagger.ApiExtraModels(type)];
  } catch {
    return [];
  }
}

/**
 * Documents a handler's `application/hal+json` response: the state of
 * `type` (its `@ApiProperty` schema), `_links` with exactly the rels declared
 * by `@HalLink` for that handler and type, `_embedded` with typed items, and
 * the page block for collections. The schema is written into the document by
 * `HalProblemOpenApi.enhance()`.
 */
export function ApiHalResponse(
  type?: Type,
  options: ApiHalResponseOptions = {},
): MethodDecorator {
  const metadata: ApiHalResponseMetadata = { ...options, type };
  return applyDecorators(
    SetMetadata(API_HAL_RESPONSE_METADATA, metadata),
    ...extraModels(type),
  );
}
