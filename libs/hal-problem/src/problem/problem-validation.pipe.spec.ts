import {
  ArrayMaxSize,
  ArrayUnique,
  IsInt,
  IsOptional,
  IsString,
  ValidateIf,
  Validate,
  ValidateNested,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { Expose, Transform, Type } from 'class-transformer';
import { ProblemValidationPipe } from './problem-validation.pipe';
import type { ProblemFieldError } from './problem-details.interface';
import { ValidationProblemException } from './problem.exception';

class Node {
  @IsString() name: string;
  @IsOptional() @ValidateNested() @Type(() => Node) next?: Node;
}

class Named {
  @IsString() name: string;
}

class Line {
  @IsString() sku: string;
  @IsInt() quantity: number;
}

class Basket {
  @IsString() currency: string;
  @ArrayMaxSize(3, { message: 'at most three lines' })
  @ValidateNested({ each: true })
  @Type(() => Line)
  lines: Line[];
  @IsOptional() @ValidateNested() @Type(() => Basket) inner?: Basket;
  /** A limit that applies only sometimes: its items are validated as ever. */
  @IsOptional()
  @ValidateIf((basket: Basket) => basket.currency === 'EUR')
  @ArrayMaxSize(1)
  @ValidateNested({ each: true })
  @Type(() => Line)
  extras?: Line[];
}

let linesMade = 0;

class CountedLine {
  constructor() {
    linesMade++;
  }
  @IsString() sku: string;
}

class OptionalLines {
  @IsOptional()
  @ArrayMaxSize(3)
  @ValidateNested({ each: true })
  @Type(() => CountedLine)
  lines?: CountedLine[];
  @IsOptional()
  @ValidateNested()
  @Type(() => OptionalLines)
  inner?: OptionalLines;
}

/** The field errors `pipe` answers `body` with as a `metatype`; fails the test if it lets it through. */
async function fieldErrorsOf(
  pipe: ProblemValidationPipe,
  metatype: new () => unknown,
  body: unknown,
): Promise<readonly ProblemFieldError[]> {
  const caught: unknown = await pipe
    .transform(body, { type: 'body', metatype })
    .then(
      () => undefined,
      (error: unknown) => error,
    );
  expect(caught).toBeInstanceOf(ValidationProblemException);
  return (caught as ValidationProblemException).errors ?? [];
}

/**
 * `count` items made by `item`: more than a problem lists errors (100), so
 * an array over its limit takes the pipe's shortcuts; a few too many are
 * validated whole.
 */
const items = <T>(item: (index: number) => T, count = 101): T[] =>
  Array.from({ length: count }, (_, index) => item(index));
const distinctTags = items((index) => `t${index}`);

describe('ProblemValidationPipe and an optional array over its @ArrayMaxSize', () => {
  const pipe = new ProblemValidationPipe();
  const errorsOf = (body: unknown) => fieldErrorsOf(pipe, OptionalLines, body);

  it('answers it as a required one, its items never made', async () => {
    linesMade = 0;
    const errors = await errorsOf({ lines: items(() => ({}), 10_000) });
    expect(errors.map(({ pointer }) => pointer)).toEqual(['#/lines']);
    expect(linesMade).toBe(0);
  });

  it('validates none of its items when nested', async () => {
    const errors = await errorsOf({
      inner: { lines: items(() => ({}), 10_000) },
    });
    expect(errors.map(({ pointer }) => pointer)).toEqual(['#/inner/lines']);
  });

  it('still lets it be left out', async () => {
    await expect(
      pipe.transform({}, { type: 'body', metatype: OptionalLines }),
    ).resolves.toBeInstanceOf(OptionalLines);
  });
});

describe('ProblemValidationPipe and arrays over their @ArrayMaxSize', () => {
  const pipe = new ProblemValidationPipe();
  const errorsOf = (body: unknown) => fieldErrorsOf(pipe, Basket, body);

  it("answers the DTO's own array with its error alone, its items unread", async () => {
    const errors = await errorsOf({
      currency: 1,
      lines: items(() => ({}), 30_000),
    });
    expect(errors).toEqual([
      expect.objectContaining({
        title: 'too_big',
        pointer: '#/lines',
        detail: expect.stringContaining('at most three lines'),
      }),
    ]);
  });

  it('answers a nested array with its error, and the rest of the body as ever, without its items', async () => {
    const errors = await errorsOf({
      currency: 'GBP',
      lines: [{ sku: 'a', quantity: 'x' }],
      inner: { currency: 'GBP', lines: items(() => ({}), 30_000) },
    });
    expect(errors.map(({ pointer }) => pointer).sort()).toEqual([
      '#/inner/lines',
      '#/lines/0/quantity',
    ]);
  });

  it('validates the items of an array whose limit applies only sometimes', async () => {
    const errors = await errorsOf({
      currency: 'EUR',
      lines: [],
      extras: items(() => ({})),
    });
    expect(errors.map(({ pointer }) => pointer)).toEqual(
      expect.arrayContaining([
        '#/extras',
        '#/extras/0/sku',
        '#/extras/1/quantity',
      ]),
    );
  });

  it('hands the handler its arrays as sent when they are within their limits', async () => {
    const basket = (await pipe.transform(
      {
        currency: 'GBP',
        lines: [{ sku: 'a', quantity: 1 }],
        inner: { currency: 'GBP', lines: [{ sku: 'b', quantity: 2 }] },
      },
      { type: 'body', metatype: Basket },
    )) as Basket;
    expect(basket.lines).toEqual([{ sku: 'a', quantity: 1 }]);
    expect(basket.inner?.lines).toEqual([{ sku: 'b', quantity: 2 }]);
  });
});

/** A rule of the app's that reads every item, as custom rules may. */
@ValidatorConstraint({ name: 'knownSkus' })
class KnownSkus implements ValidatorConstraintInterface {
  validate(lines: Line[]): boolean {
    for (const line of lines) if (!line.sku.startsWith('S')) return false;
    return true;
  }
}

class Tagged {
  @ArrayMaxSize(2)
  @ArrayUnique({ groups: ['full'] })
  @IsString({ each: true, groups: ['full'] })
  tags: string[];
}

class Lined {
  @ArrayMaxSize(2) @Validate(KnownSkus) @Type(() => Line) lines: Line[];
}

class Holder {
  @IsOptional()
  @ValidateNested({ always: true })
  @Type(() => Tagged)
  tagged?: Tagged;
  @IsOptional() @ValidateNested() @Type(() => Lined) lined?: Lined;
}

describe('ProblemValidationPipe and rules that read the items of an array over its limit', () => {
  const attempt = (
    pipe: ProblemValidationPipe,
    metatype: object,
    body: object,
  ) =>
    pipe.transform(body, { type: 'body', metatype: metatype as never }).then(
      (value: unknown) => ({ value }),
      (error: unknown) => ({ error }),
    );
  const pointers = (outcome: { value?: unknown; error?: unknown }) =>
    (outcome.error as ValidationProblemException).errors?.map(
      ({ pointer, title }) => `${pointer} ${title}`,
    );

  it('reports only the length of an array whose items it did not read', async () => {
    const pipe = new ProblemValidationPipe({ groups: ['full'], always: true });
    for (const [metatype, body, pointer] of [
      [Tagged, { tags: distinctTags }, '#/tags'],
      [Holder, { tagged: { tags: distinctTags } }, '#/tagged/tags'],
    ] as const)
      // Three different tags: not "All tags's elements must be unique".
      expect(pointers(await attempt(pipe, metatype, body))).toEqual([
        `${pointer} too_big`,
      ]);
  });

  it('never hands a rule of the app an array of holes', async () => {
    const lines = items((index) => ({ sku: `S${index}` }));
    const pipe = new ProblemValidationPipe();
    for (const [metatype, body, pointer] of [
      [Lined, { lines }, '#/lines'],
      [Holder, { lined: { lines } }, '#/lined/lines'],
    ] as const)
      expect(pointers(await attempt(pipe, metatype, body))).toEqual([
        `${pointer} too_big`,
      ]);
  });

  it('leaves alone a limit outside the groups validated', async () => {
    const pipe = new ProblemValidationPipe({ groups: ['full'] });
    const outcome = await attempt(pipe, Tagged, { tags: distinctTags });
    expect(outcome).toEqual({ value: { tags: distinctTags } });
  });
});

class Address {
  @IsString() country: string;
}

class Deduped {
  /** Deduplicated on the way in: class-validator sees at most the distinct tags. */
  @Transform(({ value }: { value: unknown }) =>
    Array.isArray(value) ? [...new Set(value)] : value,
  )
  @ArrayMaxSize(2)
  @IsString({ each: true })
  tags: string[];
}

class Shipment {
  @ArrayMaxSize(2) @IsString({ each: true }) tags: string[];
  @ValidateNested() @Type(() => Address) address: Address;
  /** A rule of another property that reads the body's other values. */
  @ValidateIf((shipment: Shipment) => shipment.address.country === 'US')
  @IsString()
  zip?: string;
}

class Renamed {
  @Expose({ name: 'line_items' }) @ArrayMaxSize(2) lineItems: number[];
}

describe('ProblemValidationPipe and arrays read before the body is transformed', () => {
  const attempt = (
    pipe: ProblemValidationPipe,
    metatype: object,
    body: object,
  ) =>
    pipe.transform(body, { type: 'body', metatype: metatype as never }).then(
      (value: unknown) => ({ value }),
      (error: unknown) => ({
        error:
          error instanceof ValidationProblemException
            ? error.errors?.map(({ pointer, title }) => `${pointer} ${title}`)
            : error,
      }),
    );

  it('reads the array class-transformer makes, not the one sent', async () => {
    const pipe = new ProblemValidationPipe();
    expect(
      await attempt(pipe, Deduped, {
        tags: items((index) => (index % 2 ? 'b' : 'a')),
      }),
    ).toEqual({ value: { tags: ['a', 'b'] } });
    const renaming = new ProblemValidationPipe({
      transformOptions: { excludeExtraneousValues: true },
    });
    // `lineItems` is no key of the DTO's: it is dropped, not read.
    expect(
      await attempt(renaming, Renamed, {
        line_items: [1],
        lineItems: items((index) => index),
      }),
    ).toEqual({ value: { lineItems: [1] } });
  });

  it("runs no other property's rule on the missing values of its stand-in", async () => {
    const pipe = new ProblemValidationPipe();
    const outcome = await attempt(pipe, Shipment, {
      tags: distinctTags,
      address: { country: 'US' },
      zip: '10001',
    });
    expect(outcome).toEqual({ error: ['#/tags too_big'] });
  });
});

let transformedNames = 0;

class Profile {
  @Transform(({ value }: { value: unknown }) => {
    transformedNames++;
    return value;
  })
  @IsString()
  name: string;
}

describe('ProblemValidationPipe and more unknown keys than a problem lists', () => {
  const pipe = new ProblemValidationPipe();
  const attempt = (keys: number) => {
    transformedNames = 0;
    const body: Record<string, unknown> = { name: 1 };
    for (let i = 0; i < keys; i++) body[`k${i}`] = i;
    return pipe.transform(body, { type: 'body', metatype: Profile }).then(
      () => undefined,
      (error: unknown) => error as ValidationProblemException,
    );
  };

  it('answers them before the body is transformed', async () => {
    const failure = await attempt(5_000);
    expect(transformedNames).toBe(0);
    expect(failure?.errors).toHaveLength(5_000);
    expect(failure?.errors?.[0]).toEqual(
      expect.objectContaining({ title: 'unrecognized_key', pointer: '#/k0' }),
    );
  });

  it('leaves keys to class-transformer where a key is not the property it fills', async () => {
    const body: Record<string, unknown> = { line_items: [1] };
    for (let i = 0; i < 101; i++) body[`k${i}`] = i;
    // Renamed: `line_items` is the DTO's, the others are not.
    const failure = (await new ProblemValidationPipe()
      .transform({ ...body }, { type: 'body', metatype: Renamed })
      .catch((error: unknown) => error)) as ValidationProblemException;
    expect(failure.errors?.map(({ pointer }) => pointer)).not.toContain(
      '#/line_items',
    );
    expect(failure.errors?.[0]?.pointer).toBe('#/k0');
    // excludeExtraneousValues drops unknown keys rather than refusing them.
    const dropping = new ProblemValidationPipe({
      transformOptions: { excludeExtraneousValues: true },
    });
    await expect(
      dropping.transform({ ...body }, { type: 'body', metatype: Renamed }),
    ).resolves.toEqual({ lineItems: [1] });
  });

  it('transforms and validates the whole body when they fit in one problem', async () => {
    const failure = await attempt(100);
    expect(transformedNames).toBe(1);
    // The 100 keys, and the name's own error.
    expect(failure?.errors).toHaveLength(101);
  });
});

describe('ProblemValidationPipe', () => {
  const pipe = new ProblemValidationPipe({
    transformOptions: { enableCircularCheck: true },
  });
  const metadata = { type: 'body' as const, metatype: Node };

  it('reads a cyclic value (from a custom pipe) without overflowing the stack', async () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.next = { name: 'b', next: a };
    await expect(pipe.transform(a, metadata)).resolves.toBeInstanceOf(Node);
  });

  it('reports a key Nest would strip, deep down, with its path', async () => {
    let deepest: Record<string, unknown> = { name: 'z', constructor: 1 };
    for (let i = 0; i < 50; i++) deepest = { name: `n${i}`, next: deepest };
    const error = await pipe
      .transform(deepest, metadata)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationProblemException);
    expect((error as ValidationProblemException).errors).toEqual([
      expect.objectContaining({
        title: 'unrecognized_key',
        pointer: `#${'/next'.repeat(50)}/constructor`,
      }),
    ]);
  });

  describe('reports every key Nest would strip in a body at the size limit', () => {
    const limit = 100 * 1024;
    const named = { type: 'body' as const, metatype: Named };
    const failure = async (
      body: string,
    ): Promise<ValidationProblemException> => {
      const caught: unknown = await new ProblemValidationPipe()
        .transform(JSON.parse(body), named)
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(caught).toBeInstanceOf(ValidationProblemException);
      return caught as ValidationProblemException;
    };

    it('64 levels down, as deep as useStrictBodyParsing lets through', async () => {
      // One node per key and per level made this pipe take ~340 ms.
      const leaf = '{"constructor":0,"prototype":0}';
      const head = `{"name":"x","a":${'['.repeat(62)}`;
      const tail = `${']'.repeat(62)}}`;
      const leaves = Math.floor(
        (limit - head.length - tail.length) / (leaf.length + 1),
      );
      const body = `${head}${Array<string>(leaves).fill(leaf).join(',')}${tail}`;
      expect(body.length).toBeLessThanOrEqual(limit);
      const error = await failure(body);
      const down = '/0'.repeat(61);
      // The last element first: the walk takes them off a stack.
      const expected: ProblemFieldError[] = [];
      for (let index = leaves - 1; index >= 0; index--)
        for (const key of ['constructor', 'prototype'])
          expected.push({
            title: 'unrecognized_key',
            detail: `\`body.a${'.0'.repeat(61)}.${index}.${key}\` is not allowed.`,
            pointer: `#/a${down}/${index}/${key}`,
          });
      // `a` itself, which class-validator reports, after the stripped keys.
      expected.push({
        title: 'unrecognized_key',
        detail: '`body.a` is not allowed.',
        pointer: '#/a',
      });
      expect(error.errors).toEqual(expected);
    });

    it('2,000 levels down, as a body without useStrictBodyParsing may be', async () => {
      // A chain of nodes per key, each walked again: ~80 s of CPU.
      const depth = 2_000;
      const keys = '"constructor":0,"prototype":0,"__proto__":0,';
      const body = `{"name":"x",${`"a":{${keys}`.repeat(depth)}"z":1${'}'.repeat(depth + 1)}`;
      expect(body.length).toBeLessThanOrEqual(limit);
      const error = await failure(body);
      const errors = error.errors ?? [];
      // `a` itself, which class-validator reports, after the stripped keys.
      expect(errors).toHaveLength(3 * depth + 1);
      expect(errors[0].pointer).toBe('#/a/constructor');
      expect(errors[3 * depth - 1].pointer).toBe(
        `#${'/a'.repeat(depth)}/__proto__`,
      );
      expect(errors[3 * depth].pointer).toBe('#/a');
    });
  });
});
