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

/** Per DTO prototype: its methods and getters without setters, found once. */
const methodNames = new WeakMap<object, ReadonlySet<string>>();

/** Methods (and getters without setters) on the chain, read without calling a getter. */
function methodsOf(prototype: object): ReadonlySet<string> {
  let names = methodNames.get(prototype);
  if (names) return names;
  const found = new Set<string>();
  for (
    let current: object | null = prototype;
    current !== null && current !== Object.prototype;
    current = Object.getPrototypeOf(current) as object | null
  ) {
    for (const name of Object.getOwnPropertyNames(current)) {
      const descriptor = Object.getOwnPropertyDescriptor(current, name);
      if (
        typeof descriptor?.value === 'function' ||
        (descriptor?.get !== undefined && descriptor.set === undefined)
      )
        found.add(name);
    }
  }
  names = found;
  methodNames.set(prototype, names);
  return names;
}

/**
 * Keys class-transformer drops without a word: it skips a key whose target
 * already holds a function there (`toString`, `constructor`, a DTO's own
 * method), so class-validator's whitelist never sees it and
 * `forbidNonWhitelisted` lets `{"constructor": 1}` through. They are reported
 * as the unknown keys they are, at any depth (members of `Object.prototype`)
 * and, at the top, the DTO's own methods. Undefined when there are none, the
 * usual case, which then allocates nothing but each object's key list.
 */
function silentlyDroppedKeys(
  value: unknown,
  methods: ReadonlySet<string> | undefined,
): ValidationError[] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  let errors: ValidationError[] | undefined;
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const child = (value as Record<string, unknown>)[key];
    if (OBJECT_MEMBERS.has(key) || methods?.has(key)) {
      (errors ??= []).push({
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
    if (children)
      (errors ??= []).push({ property: key, value: child, children });
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
    const prototype = (metadata.metatype as { prototype?: unknown } | undefined)
      ?.prototype;
    const dropped =
      this.validatorOptions.forbidNonWhitelisted && this.toValidate(metadata)
        ? silentlyDroppedKeys(
            value,
            typeof prototype === 'object' && prototype !== null
              ? methodsOf(prototype)
              : undefined,
          )
        : undefined;
    let transformed: unknown;
    try {
      transformed = await super.transform(value, metadata);
    } catch (error) {
      if (error instanceof ValidationFailure)
        this.fail(
          dropped ? [...dropped, ...error.errors] : error.errors,
          metadata,
        );
      throw error;
    }
    if (dropped) this.fail(dropped, metadata);
    return transformed;
  }

  private fail(errors: ValidationError[], metadata: ArgumentMetadata): never {
    const fieldErrors = toFieldErrors(errors, metadata.type, metadata.data);
    throw withoutStack(() => new ValidationProblemException(fieldErrors));
  }
}
