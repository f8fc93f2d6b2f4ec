import { HttpException } from '@nestjs/common';
import { ProblemException } from './problem.exception';

/**
 * A resolver's `ProblemException` with `errors` (the validation pipe's
 * included) as GraphQL servers can send it: the same status and message,
 * the entries in the Nest-shaped response (Apollo's driver sends it as
 * `extensions.originalError`), and no `errors` property of its own, which
 * Mercurius reads as a list of GraphQL errors and answered `"message" is
 * required!` instead. Anything else is left as thrown (`undefined`).
 */
export function graphqlSafeError(
  exception: unknown,
): HttpException | undefined {
  if (!(exception instanceof ProblemException) || !exception.errors)
    return undefined;
  const response = exception.getResponse();
  return new HttpException(
    {
      ...(typeof response === 'object' ? response : {}),
      errors: exception.errors,
    },
    exception.getStatus(),
    { cause: exception },
  );
}
