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

/** `toString`, `constructor`, `valueOf`, …: what every object already has. */
const OBJECT_MEMBERS = new Set(Object.getOwnPropertyNames(Object.prototype));

/** A method (or a getter without a setter) on the chain, read without calling a getter. */
function isMethodOf(prototype: object, key: string): boolean {
  for (
    let current: object | null = prototype;
    current !== null && current !== Object.prototype;
    current = Object.getPrototypeOf(current) as object | null
  ) {
    const descriptor = Object.getOwnPropertyDescriptor(current, key);
    if (descriptor)
      return (
        typeof descriptor.value === 'function' ||
        (descriptor.get !== undefined && descriptor.set === undefined)
      );
  }
  return false;
}

/**
 * Keys class-transformer drops without a word: it skips a key whose target
 * already holds a function there (`toString`, `constructor`, a DTO's own
 * method), so class-validator's whitelist never sees it and
 * `forbidNonWhitelisted` lets `{"constructor": 1}` through. They are reported
 * as the unknown keys they are, at any depth (members of `Object.prototype`)
 * and, at the top, the DTO's own methods.
 */
function silentlyDroppedKeys(
  value: unknown,
  prototype: object | undefined,
): ValidationError[] {
  if (typeof value !== 'object' || value === null) return [];
  const errors: ValidationError[] = [];
  for (const [key, child] of Object.entries(value) as [string, unknown][]) {
    const dropped =
      OBJECT_MEMBERS.has(key) ||
      (prototype !== undefined && isMethodOf(prototype, key));
    if (dropped) {
      errors.push({
        property: key,
        value: child,
        constraints: {
          whitelistValidation: `property ${key} should not exist`,
        },
        children: [],
      });
      continue;
    }
    const children = silentlyDroppedKeys(child, undefined);
    if (children.length > 0)
      errors.push({ property: key, value: child, children });
  }
  return errors;
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
    const dropped =
      this.validatorOptions.forbidNonWhitelisted && this.toValidate(metadata)
        ? silentlyDroppedKeys(
            value,
            (metadata.metatype as { prototype?: object } | undefined)
              ?.prototype,
          )
        : [];
    let transformed: unknown;
    try {
      transformed = await super.transform(value, metadata);
    } catch (error) {
      if (error instanceof ValidationFailure)
        this.fail([...dropped, ...error.errors], metadata);
      throw error;
    }
    if (dropped.length > 0) this.fail(dropped, metadata);
    return transformed;
  }

  private fail(errors: ValidationError[], metadata: ArgumentMetadata): never {
    const fieldErrors = toFieldErrors(errors, metadata.type, metadata.data);
    throw withoutStack(() => new ValidationProblemException(fieldErrors));
  }
}
