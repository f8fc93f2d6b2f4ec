import { Reflector } from '@nestjs/core';

/**
 * The media types a handler (or every handler of a controller) accepts as a
 * request body, e.g. `@Consumes('application/x-www-form-urlencoded')`.
 * Other bodies are answered 415. Overrides the module's `acceptedContentTypes`.
 */
export const Consumes = Reflector.createDecorator<
  string | readonly string[],
  string[]
>({
  transform: (type) => (typeof type === 'string' ? [type] : [...type]),
});
