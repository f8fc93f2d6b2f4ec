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

/** Keys Nest's ValidationPipe deletes from a body, at any depth, before anything else reads it. */
const STRIPPED_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * Where the body holds a key Nest's pipe strips (`{"constructor": 1}`):
 * read before it does, since the key is gone afterwards, and reported as
 * not allowed rather than lost without a word. Undefined when there are
 * none, the usual case, which allocates nothing but each key list.
 */
function strippedKeys(value: unknown): ValidationError[] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  let errors: ValidationError[] | undefined;
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const child = (value as Record<string, unknown>)[key];
    if (STRIPPED_KEYS.has(key)) {
      (errors ??= []).push(unknownKey(key, child));
      continue;
    }
    const children = strippedKeys(child);
    if (children)
      (errors ??= []).push({ property: key, value: child, children });
  }
  return errors;
}

/** class-validator's error for a key the whitelist forbids. */
function unknownKey(key: string, value: unknown): ValidationError {
  return {
    property: key,
    value,
    constraints: { whitelistValidation: `property ${key} should not exist` },
    children: [],
  };
}

/**
 * Keys class-transformer dropped without a word: it skips a key whose
 * target already holds a function there (`toString`, `constructor`, a
 * DTO's own method), so class-validator's whitelist never saw it and
 * `forbidNonWhitelisted` let `{"constructor": 1}` through. Found by reading
 * the body beside its DTO instance: only where the instance is of a class
 * (a DTO, at any depth) is a missing key an unknown one; a plain object
 * the DTO declares free-form (`Record<string, string>`) is left as it was.
 * Undefined when there are none, the usual case.
 */
function droppedKeys(
  raw: unknown,
  transformed: unknown,
): ValidationError[] | undefined {
  if (
    typeof raw !== 'object' ||
    raw === null ||
    typeof transformed !== 'object' ||
    transformed === null
  )
    return undefined;
  const prototype = Object.getPrototypeOf(transformed) as object | null;
  const methods =
    prototype !== null &&
    prototype !== Object.prototype &&
    prototype !== Array.prototype
      ? methodsOf(prototype)
      : undefined;
  let errors: ValidationError[] | undefined;
  const keys = Object.keys(raw);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const child = (raw as Record<string, unknown>)[key];
    if (!Object.hasOwn(transformed, key)) {
      if (methods && (OBJECT_MEMBERS.has(key) || methods.has(key)))
        (errors ??= []).push(unknownKey(key, child));
      continue;
    }
    const children = droppedKeys(
      child,
      (transformed as Record<string, unknown>)[key],
    );
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
    const checks =
      this.validatorOptions.forbidNonWhitelisted === true &&
      this.toValidate(metadata);
    // Read first: Nest's pipe deletes these keys from the body itself.
    const stripped = checks ? strippedKeys(value) : undefined;
    let transformed: unknown;
    try {
      transformed = await super.transform(value, metadata);
    } catch (error) {
      if (error instanceof ValidationFailure)
        this.fail(
          stripped ? [...stripped, ...error.errors] : error.errors,
          metadata,
        );
      throw error;
    }
    // Without transform the handler gets the body as sent: nothing dropped.
    const dropped =
      checks && this.isTransformEnabled && transformed !== value
        ? droppedKeys(value, transformed)
        : undefined;
    if (stripped || dropped)
      this.fail([...(stripped ?? []), ...(dropped ?? [])], metadata);
    return transformed;
  }

  private fail(errors: ValidationError[], metadata: ArgumentMetadata): never {
    const fieldErrors = toFieldErrors(errors, metadata.type, metadata.data);
    throw withoutStack(() => new ValidationProblemException(fieldErrors));
  }
}
