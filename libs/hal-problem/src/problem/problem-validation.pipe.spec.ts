import { IsOptional, IsString, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
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
