export const API_HAL_RESPONSE_METADATA = 'nestjs-hal-problem:api-hal-response';
export const API_PROBLEM_RESPONSES_METADATA =
  'nestjs-hal-problem:api-problem-responses';
export const API_NOT_IMPLEMENTED_METADATA =
  'nestjs-hal-problem:api-not-implemented';
