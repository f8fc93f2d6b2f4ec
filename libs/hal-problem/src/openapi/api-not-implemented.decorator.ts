import { applyDecorators, SetMetadata } from '@nestjs/common';
import type { ProblemType } from '../problem/problem-type';
import { ApiProblemResponses } from './api-problem-responses.decorator';
import { API_NOT_IMPLEMENTED_METADATA } from './openapi.constants';

/**
 * Documents a route that only ever answers 501 Not Implemented (a method
 * kept to say it is not supported): the operation gets its problem
 * responses and no success response, nor the 404 its path parameters would
 * otherwise bring. Said explicitly because the return type cannot tell:
 * TypeScript emits the same metadata for `void`, `never` and a method
 * without an annotation.
 */
export const ApiNotImplemented = (
  ...otherProblems: readonly (number | ProblemType)[]
): MethodDecorator =>
  applyDecorators(
    SetMetadata(API_NOT_IMPLEMENTED_METADATA, true),
    ApiProblemResponses(501, ...otherProblems),
  );
