import type { ExecutionContext, Type } from '@nestjs/common';

type Handler = (...args: never[]) => unknown;

/**
 * Caches a decision that depends only on a handler's (and its controller's)
 * metadata, so guards read `Reflector` once per route instead of on every
 * request. Keyed by class and handler: a handler inherited by two
 * controllers may carry different class-level metadata in each.
 */
export function perHandler<T>(
  compute: (targets: [Handler, Type]) => T,
): (context: ExecutionContext) => T {
  const byClass = new WeakMap<Type, WeakMap<Handler, { value: T }>>();
  return (context) => {
    const controller = context.getClass<Type>();
    const handler = context.getHandler() as Handler;
    let byHandler = byClass.get(controller);
    if (!byHandler) byClass.set(controller, (byHandler = new WeakMap()));
    let cached = byHandler.get(handler);
    if (!cached)
      byHandler.set(
        handler,
        (cached = { value: compute([handler, controller]) }),
      );
    return cached.value;
  };
}
