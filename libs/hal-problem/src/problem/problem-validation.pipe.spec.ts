import { IsOptional, IsString, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import { ProblemValidationPipe } from './problem-validation.pipe';
import { ValidationProblemException } from './problem.exception';

class Node {
  @IsString() name: string;
  @IsOptional() @ValidateNested() @Type(() => Node) next?: Node;
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
});
