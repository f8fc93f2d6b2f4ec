import { SetMetadata } from '@nestjs/common';
import type { ProblemType } from '../problem/problem-type';
import { API_PROBLEM_RESPONSES_METADATA } from './openapi.constants';

/**
 * Documents `application/problem+json` responses a handler can produce
 * beyond those found automatically (500 always; 400 for validated input;
 * 401/403/429 for guarded routes; 404 with path parameters; 409/422 for
 * idempotent ones): a status, or a declared problem type.
 */
export const ApiProblemResponses = (
  ...responses: readonly (number | ProblemType)[]
): MethodDecorator => SetMetadata(API_PROBLEM_RESPONSES_METADATA, responses);
