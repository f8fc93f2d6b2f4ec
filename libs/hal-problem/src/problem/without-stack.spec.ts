import { NotFoundException } from '@nestjs/common';
import { ProblemException } from './problem.exception';
import { withoutStack } from './without-stack';

describe('withoutStack', () => {
  it('creates the error with its message and no stack frames', () => {
    const error = withoutStack(
      () => new ProblemException(404, { detail: 'No such order.' }),
    );
    expect(error).toBeInstanceOf(ProblemException);
    expect(error.detail).toBe('No such order.');
    expect(error.stack).toBe('ProblemException: No such order.');
  });

  it('leaves the stack trace limit as it was, also when creating throws', () => {
    const before = Error.stackTraceLimit;
    expect(() => withoutStack(() => new ProblemException(200))).toThrow(
      RangeError,
    );
    expect(Error.stackTraceLimit).toBe(before);
    expect(new NotFoundException().stack?.split('\n').length).toBeGreaterThan(
      1,
    );
  });
});
