import {
  type ArgumentMetadata,
  Injectable,
  ValidationPipe,
  type ValidationError,
} from '@nestjs/common';
import type { ProblemValidationOptions } from '../hal-problem-module-options.interface';
import { ValidationProblemException } from './problem.exception';
import { toFieldErrors } from './validation-errors';
import { withoutStack } from './without-stack';

/** Carries class-validator's errors out of ValidationPipe to where the location is known. */
class ValidationFailure {
  constructor(readonly errors: ValidationError[]) {}
}

/**
 * Nest's ValidationPipe, answering failures with a 400 problem that lists
 * every violated constraint under `errors` (see validation-errors.ts).
 */
@Injectable()
export class ProblemValidationPipe extends ValidationPipe {
  constructor(options: ProblemValidationOptions = {}) {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      ...options,
      exceptionFactory: (errors) => new ValidationFailure(errors),
    });
  }

  override async transform(
    value: unknown,
    metadata: ArgumentMetadata,
  ): Promise<unknown> {
    try {
      return (await super.transform(value, metadata)) as unknown;
    } catch (error) {
      if (error instanceof ValidationFailure) {
        const errors = toFieldErrors(
          error.errors,
          metadata.type,
          metadata.data,
        );
        throw withoutStack(() => new ValidationProblemException(errors));
      }
      throw error;
    }
  }
}
