import { Reflector } from '@nestjs/core';
import type { IdempotentOptions } from './idempotency-options.interface';

/**
 * Makes a handler safe to retry with an `Idempotency-Key` header: the first
 * request runs and its response is stored; a retry with the same key and
 * body gets the stored response (a 201 replayed as 200) without running the
 * handler again. Metadata only; the module's interceptor does the work.
 */
export const Idempotent = Reflector.createDecorator<
  IdempotentOptions | void,
  IdempotentOptions
>({
  transform: (options) => options ?? {},
});
