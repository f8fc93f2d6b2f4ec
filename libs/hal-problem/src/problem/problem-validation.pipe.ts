import {
  type ArgumentMetadata,
  Injectable,
  ValidationPipe,
  type ValidationError,
} from '@nestjs/common';
import {
  ARRAY_MAX_SIZE,
  ARRAY_MIN_SIZE,
  ARRAY_NOT_EMPTY,
  getMetadataStorage,
  IS_ARRAY,
  IS_NOT_EMPTY,
  IS_OPTIONAL,
  validate,
  ValidationTypes,
  type ValidatorOptions,
} from 'class-validator';
import type { ProblemValidationOptions } from '../hal-problem-module-options.interface';
import { ValidationProblemException } from './problem.exception';
import { keepsKeysAsSent, transformsOnTheWayIn } from './transformer-keys';
import { ofTheValue, toFieldErrors } from './validation-errors';
import { MAX_ERRORS } from './problem.mapper';
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

type ValidationMetadata = ReturnType<
  ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']
>[number];

/** The groups a pipe validates in, as class-validator reads them. */
type GroupOptions = Pick<
  ValidatorOptions,
  'groups' | 'always' | 'strictGroups'
>;

/**
 * `compute` for a DTO class, computed once per class: what the pipe reads
 * of a class's decorators does not change once the class is defined.
 */
function perClass<T>(compute: (type: object) => T): (type: object) => T {
  const cache = new WeakMap<object, { value: T }>();
  return (type) => {
    let cached = cache.get(type);
    if (!cached) cache.set(type, (cached = { value: compute(type) }));
    return cached.value;
  };
}

/**
 * Rules that read an array's length and nothing of its items, or its items
 * one by one (`each`, `@ValidateNested`, which skip an array's holes): the
 * only ones that give a holey array of the same length the answer they
 * give the array. `@ArrayUnique`, `@ArrayContains` or a custom rule read the
 * items, and would refuse the holes (or throw on them).
 */
const LENGTH_RULES = new Set([
  ARRAY_MAX_SIZE,
  ARRAY_MIN_SIZE,
  ARRAY_NOT_EMPTY,
  IS_ARRAY,
  IS_NOT_EMPTY,
]);

function readsOnlyLength(metadata: ValidationMetadata): boolean {
  switch (metadata.type) {
    case ValidationTypes.IS_DEFINED:
    case ValidationTypes.WHITELIST:
    case ValidationTypes.NESTED_VALIDATION:
      return true;
    case ValidationTypes.CONDITIONAL_VALIDATION:
      return metadata.name === IS_OPTIONAL;
    case ValidationTypes.CUSTOM_VALIDATION:
      return (
        metadata.each ||
        (metadata.name !== undefined && LENGTH_RULES.has(metadata.name))
      );
    default:
      return false;
  }
}

/**
 * The `@ArrayMaxSize` of each property of `type` that always applies in
 * the pipe's groups (not `each`, on a property without `@ValidateIf`;
 * `@IsOptional()` holds for any array present), and whose other rules read
 * no items (`readsOnlyLength`): the arrays that may be validated as holes.
 */
function arrayLimitsOf(
  type: object,
  options: GroupOptions,
): ReadonlyMap<string, number> | null {
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(
    type as new () => unknown,
    '',
    options.always ?? false,
    options.strictGroups ?? false,
    options.groups,
  );
  const excluded = new Set(
    metadatas
      .filter((metadata) => !readsOnlyLength(metadata))
      .map(({ propertyName }) => propertyName),
  );
  const found = new Map<string, number>();
  for (const metadata of metadatas) {
    const max: unknown = metadata.constraints?.[0];
    if (
      metadata.name === ARRAY_MAX_SIZE &&
      typeof max === 'number' &&
      !metadata.each &&
      !excluded.has(metadata.propertyName)
    )
      found.set(
        metadata.propertyName,
        Math.min(max, found.get(metadata.propertyName) ?? Infinity),
      );
  }
  return found.size > 0 ? found : null;
}

/**
 * Whether an array of `length` items over a limit of `max` is read no
 * further: longer than a problem lists errors too (`MAX_ERRORS`), since a
 * shorter one is validated whole, so a client that sent one item too many
 * learns of its items' errors too.
 */
function isOversized(length: number, max: number): boolean {
  return length > Math.max(max, MAX_ERRORS);
}

/**
 * Empties, in place, every array of `value` that `isOversized` for its
 * property's `@ArrayMaxSize` (a holey array of the same length, which
 * class-validator counts but whose items it never visits), and returns how
 * to put them back. class-validator validates every item of an array even when the
 * array is refused for its length: 33,000 empty items (a 100 kB order)
 * took 0.7 to 1.9 s of CPU for one 400, measured over HTTP on the sample.
 */
function hollowOversizedArrays(
  value: object,
  limitsOf: (type: object) => ReadonlyMap<string, number> | null,
): (() => void) | undefined {
  let restore: (() => void)[] | undefined;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const node = pending.pop();
    if (typeof node !== 'object' || node === null) continue;
    if (Array.isArray(node)) {
      for (const item of node as unknown[])
        if (typeof item === 'object' && item !== null) pending.push(item);
      continue;
    }
    const prototype = Object.getPrototypeOf(node) as object | null;
    // Only instances of classes: class-validator reads no rules elsewhere.
    if (prototype === null || prototype === Object.prototype) continue;
    const limits = limitsOf(prototype.constructor);
    const record = node as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const child = record[key];
      if (typeof child !== 'object' || child === null) continue;
      const max = limits?.get(key);
      if (
        max !== undefined &&
        Array.isArray(child) &&
        isOversized(child.length, max)
      ) {
        record[key] = new Array<unknown>(child.length);
        (restore ??= []).push(() => {
          record[key] = child;
        });
      } else pending.push(child);
    }
  }
  return restore && (() => restore.forEach((undo) => undo()));
}

/** Keys Nest's ValidationPipe deletes from a body, at any depth, before anything else reads it. */
const STRIPPED_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * Where a walk is, as a list from the innermost key up: a child's path
 * shares its parent's, so a body nested d levels costs d steps, not the
 * d²/2 copies an array per level did (a 98 kB body of nested arrays took
 * 24 s of CPU before its 400 without useStrictBodyParsing).
 */
type Path = { readonly key: string; readonly parent: Path } | undefined;

const NO_PATH: Path = undefined;

/** Values whose own keys are not the client's fields: never walked. */
function isOpaque(value: object): boolean {
  // The common case, a parsed object or array, without five prototype walks.
  const prototype = Object.getPrototypeOf(value) as object | null;
  if (
    prototype === Object.prototype ||
    prototype === Array.prototype ||
    prototype === null
  )
    return false;
  return (
    ArrayBuffer.isView(value) ||
    value instanceof Map ||
    value instanceof Set ||
    value instanceof Date ||
    value instanceof RegExp
  );
}

/**
 * class-validator's errors for keys the whitelist forbids, as one tree: the
 * keys of one object share its node, and its ancestors' nodes. A chain of
 * nodes per key cost the key's depth in nodes, each walked again by
 * `toFieldErrors`: `transform` took 250-350 ms on a 100 kB body of such
 * keys 64 levels down (what useStrictBodyParsing lets through), and 80 s
 * on one 2,000 levels down (without it). Now 10-50 ms for either, as for
 * the same keys 2 levels down (median of 5, plain Node 20, shared machine).
 */
class UnknownKeys {
  /** The top-level errors. */
  readonly errors: ValidationError[] = [];
  /** The node of each path that holds a key, so that the keys under it share it. */
  private readonly nodes = new Map<NonNullable<Path>, ValidationError>();

  add(path: Path, key: string, value: unknown): void {
    this.childrenAt(path).push({
      property: key,
      value,
      constraints: { whitelistValidation: `property ${key} should not exist` },
      children: [],
    });
  }

  /**
   * The children of `path`'s node, made with those of its ancestors that
   * have none yet. Iterative: a path may be thousands of keys long.
   */
  private childrenAt(path: Path): ValidationError[] {
    const missing: NonNullable<Path>[] = [];
    let children = this.errors;
    for (let at = path; at !== undefined; at = at.parent) {
      const node = this.nodes.get(at);
      if (node) {
        children = node.children!;
        break;
      }
      missing.push(at);
    }
    for (let i = missing.length - 1; i >= 0; i--) {
      const node: ValidationError = { property: missing[i].key, children: [] };
      children.push(node);
      this.nodes.set(missing[i], node);
      children = node.children!;
    }
    return children;
  }
}

/**
 * Where the body holds a key Nest's pipe strips (`{"constructor": 1}`):
 * read before it does, since the key is gone afterwards, and reported as
 * not allowed rather than lost without a word. Iterative, and each object
 * read once, as Nest's own stripping is: a deep or cyclic value from a
 * custom pipe must not overflow the stack. Undefined when there are none,
 * the usual case.
 */
function strippedKeys(value: unknown): ValidationError[] | undefined {
  let unknown: UnknownKeys | undefined;
  // Made when the first nested object is met: a flat body allocates none.
  let visited: WeakSet<object> | undefined;
  const stack: { node: unknown; path: Path }[] = [
    { node: value, path: NO_PATH },
  ];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (typeof node !== 'object' || node === null || isOpaque(node)) continue;
    if (visited) {
      if (visited.has(node)) continue;
      visited.add(node);
    }
    const keys = Object.keys(node);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const child = (node as Record<string, unknown>)[key];
      if (STRIPPED_KEYS.has(key))
        (unknown ??= new UnknownKeys()).add(path, key, child);
      else if (typeof child === 'object' && child !== null) {
        visited ??= new WeakSet([node]);
        stack.push({ node: child, path: { key, parent: path } });
      }
    }
  }
  return unknown?.errors;
}

/**
 * Keys class-transformer dropped without a word: it skips a key whose
 * target already holds a function there (`toString`, a DTO's own method),
 * so class-validator's whitelist never saw it. Found by reading the body
 * beside its DTO instance: only where the instance is of a class (a DTO,
 * at any depth) is a missing key an unknown one; a plain object the DTO
 * declares free-form (`Record<string, string>`), a `Map`, a `Date` keep
 * whatever the client sent. Iterative like `strippedKeys`.
 */
function droppedKeys(
  raw: unknown,
  transformed: unknown,
): ValidationError[] | undefined {
  let unknown: UnknownKeys | undefined;
  let visited: WeakSet<object> | undefined;
  const stack: {
    raw: unknown;
    transformed: unknown;
    path: Path;
  }[] = [{ raw, transformed, path: NO_PATH }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    const { path } = item;
    const node = item.raw;
    const instance = item.transformed;
    if (typeof node !== 'object' || node === null) continue;
    if (typeof instance !== 'object' || instance === null) continue;
    if (isOpaque(instance)) continue;
    if (visited) {
      if (visited.has(node)) continue;
      visited.add(node);
    }
    const prototype = Object.getPrototypeOf(instance) as object | null;
    const methods =
      prototype !== null &&
      prototype !== Object.prototype &&
      prototype !== Array.prototype
        ? methodsOf(prototype)
        : undefined;
    const keys = Object.keys(node);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const child = (node as Record<string, unknown>)[key];
      if (!Object.hasOwn(instance, key)) {
        if (methods && (OBJECT_MEMBERS.has(key) || methods.has(key)))
          (unknown ??= new UnknownKeys()).add(path, key, child);
      } else if (typeof child === 'object' && child !== null) {
        visited ??= new WeakSet([node]);
        stack.push({
          raw: child,
          transformed: (instance as Record<string, unknown>)[key],
          path: { key, parent: path },
        });
      }
    }
  }
  return unknown?.errors;
}

/**
 * Nest's ValidationPipe, answering failures with a 400 problem that lists
 * every violated constraint under `errors` (see validation-errors.ts).
 */
@Injectable()
export class ProblemValidationPipe extends ValidationPipe {
  /** A `validatorPackage` or `transformerPackage` of the app's: their metadata is not read here. */
  private readonly ownPackages: boolean;

  /** Per DTO class, its arrays that may be validated as holes, in this pipe's groups. */
  private readonly limitsOf = perClass((type) =>
    arrayLimitsOf(type, this.validatorOptions),
  );

  /** Per DTO class, `keepsKeysAsSent` in this pipe's transform options. */
  private readonly keepsKeysAsSent = perClass((type) =>
    keepsKeysAsSent(type, this.transformOptions),
  );

  /** Per DTO class, the properties class-validator's whitelist allows, in this pipe's groups. */
  private readonly knownPropertiesOf = perClass((type) => {
    const { groups, strictGroups, always } = this.validatorOptions;
    return new Set(
      getMetadataStorage()
        .getTargetValidationMetadatas(
          type as new () => unknown,
          '',
          always ?? false,
          strictGroups ?? false,
          groups,
        )
        .map(({ propertyName }) => propertyName),
    );
  });

  /**
   * Per DTO class, a class of its name with the rules of its limited arrays
   * (`limitsOf`) and no others: the stand-in `oversizedArrays` validates.
   */
  private readonly standInClassOf = perClass((type) => {
    const limits = this.limitsOf(type);
    const name = (type as { name: string }).name;
    const made = { [name]: class {} }[name] as new () => Record<
      string,
      unknown
    >;
    const storage = getMetadataStorage();
    for (const metadata of storage.getTargetValidationMetadatas(
      type as new () => unknown,
      '',
      true,
      false,
    ))
      if (limits?.has(metadata.propertyName))
        storage.addValidationMetadata(
          Object.assign(
            Object.create(Object.getPrototypeOf(metadata) as object),
            metadata,
            { target: made },
          ) as ValidationMetadata,
        );
    return made;
  });

  constructor(options: ProblemValidationOptions = {}) {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      ...options,
      exceptionFactory: (errors) => new ValidationFailure(errors),
    });
    this.ownPackages =
      options.validatorPackage !== undefined ||
      options.transformerPackage !== undefined;
  }

  override async transform(
    value: unknown,
    metadata: ArgumentMetadata,
  ): Promise<unknown> {
    // A body that is no object (`[1, 2]`, or `"abc"` where the platform
    // parses it) for a DTO: one type error at the root, not a key error per
    // array index plus one per missing property.
    if (
      metadata.type === 'body' &&
      metadata.data === undefined &&
      value !== undefined &&
      (typeof value !== 'object' || value === null || Array.isArray(value)) &&
      metadata.metatype !== Array &&
      this.toValidate(metadata)
    ) {
      this.fail(
        [ofTheValue(value, { isObject: 'the body must be an object' })],
        metadata,
      );
    }
    // Awaited only when there is one: a promise per request otherwise.
    const oversized = this.toValidate(metadata)
      ? this.oversizedArrays(value, metadata.metatype)
      : undefined;
    const refused = oversized && (await oversized);
    if (refused?.length) this.fail(refused, metadata);
    const checks =
      this.validatorOptions.forbidNonWhitelisted === true &&
      this.toValidate(metadata);
    // Read first: Nest's pipe deletes these keys from the body itself.
    const stripped = checks ? strippedKeys(value) : undefined;
    const unknown = checks
      ? this.manyUnknownKeys(value, metadata.metatype)
      : undefined;
    if (unknown) this.fail([...(stripped ?? []), ...unknown], metadata);
    let transformed: unknown;
    try {
      transformed = await super.transform(value, metadata);
    } catch (error) {
      if (error instanceof ValidationFailure)
        this.fail(
          stripped ? [...stripped, ...error.errors] : error.errors,
          metadata,
        );
      // class-transformer and class-validator recurse into every level of a
      // value; one nested deeper than the stack allows (platform parsers set
      // no depth limit without useStrictBodyParsing) is the client's: a 400.
      if (error instanceof RangeError && /call stack/i.test(error.message))
        this.fail(
          [
            ofTheValue(undefined, {
              tooDeep: 'is nested too deeply to be validated',
            }),
          ],
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

  /**
   * The errors of the DTO's own arrays that are longer than their
   * `@ArrayMaxSize` and than a problem lists errors (a few items too many
   * are validated whole, every error listed), found before anything else
   * runs: such a body is
   * answered with those errors alone, its items neither transformed nor
   * validated. Transforming and walking them is the cost left once their
   * validation is skipped (`hollowOversizedArrays`): 330-490 ms for a
   * 100 kB order of 33,000 empty items, over HTTP on the sample. The
   * errors are class-validator's own, from an instance holding only those
   * arrays (their lengths, not their items), so custom messages hold; it is
   * of a class that has only their rules (`standInClassOf`), so no rule of
   * another property runs on its missing values. Only keys class-transformer
   * hands on as sent are read (`keepsKeysAsSent`, no `@Transform`): a
   * renamed or transformed array is not the one class-validator sees.
   */
  private oversizedArrays(
    value: unknown,
    metatype: unknown,
  ): Promise<ValidationError[]> | undefined {
    if (
      typeof metatype !== 'function' ||
      typeof value !== 'object' ||
      value === null ||
      Array.isArray(value)
    )
      return undefined;
    const limits = this.limitsOf(metatype);
    if (!limits || this.ownPackages || !this.keepsKeysAsSent(metatype))
      return undefined;
    let standIn: Record<string, unknown> | undefined;
    for (const [key, max] of limits) {
      const items = Object.hasOwn(value, key)
        ? (value as Record<string, unknown>)[key]
        : undefined;
      if (
        Array.isArray(items) &&
        isOversized(items.length, max) &&
        !transformsOnTheWayIn(metatype, key)
      )
        (standIn ??= new (this.standInClassOf(metatype))())[key] = new Array(
          items.length,
        );
    }
    if (!standIn) return undefined;
    const arrays = standIn;
    // class-validator itself: Nest's pipe loads its own copy only once its
    // transform begins. Only those arrays' errors: the stand-in lacks every
    // other property. An array over its limit always fails it.
    return validate(arrays, {
      ...this.validatorOptions,
      skipMissingProperties: true,
      whitelist: false,
      forbidNonWhitelisted: false,
      forbidUnknownValues: false,
      validationError: { target: false },
    }).then((errors) =>
      errors.filter((error) => Object.hasOwn(arrays, error.property)),
    );
  }

  /**
   * The DTO's unknown top-level keys, when there are more than a problem
   * lists: such a body is answered with them before class-transformer
   * reads it, which makes each object's keys unique in time quadratic in
   * their number (9,500 unknown keys took 125-175 ms per request, over
   * HTTP on the sample; a few ms now). class-validator lists them first in
   * any case, so the problem's `errors` are the same; only `errorsOmitted`
   * leaves out the body's other errors.
   */
  private manyUnknownKeys(
    value: unknown,
    metatype: unknown,
  ): ValidationError[] | undefined {
    if (
      typeof metatype !== 'function' ||
      typeof value !== 'object' ||
      value === null ||
      Array.isArray(value) ||
      this.validatorOptions.whitelist !== true ||
      // A key is then no property's name (`@Expose({ name })`), or not
      // refused at all (`excludeExtraneousValues` drops it).
      this.ownPackages ||
      !this.keepsKeysAsSent(metatype)
    )
      return undefined;
    const keys = Object.keys(value);
    if (keys.length <= MAX_ERRORS) return undefined;
    const known = this.knownPropertiesOf(metatype);
    const errors: ValidationError[] = [];
    for (const key of keys)
      if (!known.has(key) && !STRIPPED_KEYS.has(key))
        errors.push({
          property: key,
          value: (value as Record<string, unknown>)[key],
          constraints: {
            whitelistValidation: `property ${key} should not exist`,
          },
          children: [],
        });
    return errors.length > MAX_ERRORS ? errors : undefined;
  }

  /**
   * class-validator's run, without the items of arrays already refused for
   * their length (`hollowOversizedArrays`). Should such an array pass after
   * all (a rule it did not see), the value is validated again as it is.
   */
  protected override validate(
    object: object,
    validatorOptions?: ValidatorOptions,
  ): Promise<ValidationError[]> | ValidationError[] {
    const restore = hollowOversizedArrays(object, this.limitsOf);
    return restore
      ? this.validateHollowed(object, validatorOptions, restore)
      : super.validate(object, validatorOptions);
  }

  private async validateHollowed(
    object: object,
    validatorOptions: ValidatorOptions | undefined,
    restore: () => void,
  ): Promise<ValidationError[]> {
    let errors: ValidationError[];
    try {
      errors = await super.validate(object, validatorOptions);
    } finally {
      restore();
    }
    return errors.length > 0
      ? errors
      : super.validate(object, validatorOptions);
  }

  private fail(errors: ValidationError[], metadata: ArgumentMetadata): never {
    const fieldErrors = toFieldErrors(errors, metadata.type, metadata.data);
    throw withoutStack(() => new ValidationProblemException(fieldErrors));
  }
}
