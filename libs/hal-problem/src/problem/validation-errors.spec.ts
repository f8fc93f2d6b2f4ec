import type { ValidationError } from '@nestjs/common';
import {
  errorCode,
  ofTheValue,
  snakeCase,
  toFieldErrors,
} from './validation-errors';

function violation(
  property: string,
  value: unknown,
  constraints: Record<string, string>,
  children: ValidationError[] = [],
): ValidationError {
  return { property, value, constraints, children };
}

describe('validation error codes', () => {
  it.each([
    ['isString', undefined, 'invalid_type'],
    ['isInt', 1.5, 'invalid_type'],
    ['isNumber', 'x', 'invalid_type'],
    ['isBoolean', 1, 'invalid_type'],
    ['isArray', {}, 'invalid_type'],
    ['isObject', 1, 'invalid_type'],
    ['isDate', 'x', 'invalid_type'],
    ['min', 0, 'too_small'],
    ['minLength', '', 'too_small'],
    ['arrayMinSize', [], 'too_small'],
    ['max', 101, 'too_big'],
    ['maxLength', 'long', 'too_big'],
    ['arrayMaxSize', [1, 2], 'too_big'],
    ['isEmail', 'x', 'invalid_format'],
    ['isUUID', 'x', 'invalid_format'],
    ['matches', 'x', 'invalid_format'],
    ['isIn', 'x', 'invalid_value'],
    ['isEnum', 'x', 'invalid_value'],
    ['whitelistValidation', 'x', 'unrecognized_key'],
    ['isDivisibleBy', 3, 'is_divisible_by'],
    ['customMaxTotal', 3, 'custom_max_total'],
  ])('%s → %s', (constraint, value, expected) => {
    expect(errorCode(constraint, value, '')).toBe(expected);
  });

  it('tells a too-short from a too-long isLength by its message', () => {
    expect(
      errorCode(
        'isLength',
        'a',
        'name must be longer than or equal to 2 characters',
      ),
    ).toBe('too_small');
    expect(
      errorCode(
        'isLength',
        'abc',
        'name must be shorter than or equal to 2 characters',
      ),
    ).toBe('too_big');
  });

  it('treats a missing non-empty value as a type failure and an empty one as too small', () => {
    expect(errorCode('isNotEmpty', undefined, '')).toBe('invalid_type');
    expect(errorCode('isNotEmpty', '', '')).toBe('too_small');
  });

  it('snake-cases constraint names', () => {
    expect(snakeCase('isISO8601')).toBe('is_iso8601');
    expect(snakeCase('IsHTTPUrl')).toBe('is_http_url');
  });
});

describe('toFieldErrors', () => {
  it('reports a missing value by its type only, as the contract example does', () => {
    const errors = toFieldErrors(
      [
        violation('name', undefined, {
          maxLength: 'name must be shorter',
          isString: 'name must be a string',
        }),
      ],
      'body',
    );
    expect(errors).toEqual([
      {
        title: 'invalid_type',
        detail: '`body.name` is `undefined`, but `string` is expected.',
        pointer: '#/name',
      },
    ]);
  });

  it('walks nested arrays and escapes JSON pointers', () => {
    const tree = violation('items', [{}], {}, [
      violation('0', {}, {}, [
        violation('a/b~c', 0, { min: 'a/b~c must not be less than 1' }),
      ]),
    ]);
    expect(toFieldErrors([tree], 'body')).toEqual([
      {
        title: 'too_small',
        detail: '`body.items.0.a/b~c` must not be less than 1.',
        pointer: '#/items/0/a~1b~0c',
      },
    ]);
  });

  it('shortens a long member name in the detail, never in the pointer', () => {
    const key = 'k'.repeat(60_000);
    const [entry] = toFieldErrors(
      [
        violation(key, 1, {
          whitelistValidation: `property ${key} should not exist`,
        }),
      ],
      'body',
    );
    expect(entry).toEqual({
      title: 'unrecognized_key',
      detail: `\`body.${'k'.repeat(64)}…\` is not allowed.`,
      pointer: `#/${key}`,
    });
  });

  it('names each violation of a tree 2,000 levels deep by its whole path, without a copy of it per level', () => {
    // As the validation pipe reports unknown keys down a deep body (without
    // useStrictBodyParsing): a violation at every level.
    const depth = 2_000;
    let tree: ValidationError[] = [];
    for (let level = depth - 1; level >= 0; level--)
      tree = [
        violation('constructor', 0, {
          whitelistValidation: 'property constructor should not exist',
        }),
        { property: 'a', children: tree },
      ];
    const errors = toFieldErrors(tree, 'body', 'order');
    expect(errors).toHaveLength(depth);
    errors.forEach((entry, level) =>
      expect(entry).toEqual({
        title: 'unrecognized_key',
        detail: `\`body.order${'.a'.repeat(level)}.constructor\` is not allowed.`,
        pointer: `#/order${'/a'.repeat(level)}/constructor`,
      }),
    );
    expect(
      toFieldErrors(tree, 'query').map((entry) => entry.parameter),
    ).toEqual(['constructor', ...Array<string>(depth - 1).fill('a')]);
  });

  it('names query and route parameters', () => {
    expect(
      toFieldErrors(
        [violation('size', 101, { max: 'size must not be greater than 100' })],
        'query',
      ),
    ).toEqual([
      {
        title: 'too_big',
        detail: '`query.size` must not be greater than 100.',
        parameter: 'size',
      },
    ]);
    expect(
      toFieldErrors(
        [ofTheValue('abc', { isUuid: 'must be a UUID' })],
        'param',
        'id',
      ),
    ).toEqual([
      {
        title: 'is_uuid',
        detail: '`params.id`: must be a UUID.',
        parameter: 'id',
      },
    ]);
  });

  it('keeps a custom message that does not start with the property', () => {
    expect(
      toFieldErrors(
        [violation('total', 20000, { maxTotal: 'Orders are capped' })],
        'body',
      ),
    ).toEqual([
      {
        title: 'max_total',
        detail: '`body.total`: Orders are capped.',
        pointer: '#/total',
      },
    ]);
  });

  it('reports a non-object body as a type failure', () => {
    expect(
      toFieldErrors(
        // class-validator leaves `property` undefined for the value itself.
        [ofTheValue('text', { unknownValue: 'an unknown value was passed' })],
        'body',
      ),
    ).toEqual([
      {
        title: 'invalid_type',
        detail: '`body` is `string`, but `object` is expected.',
        pointer: '#',
      },
    ]);
  });
});
