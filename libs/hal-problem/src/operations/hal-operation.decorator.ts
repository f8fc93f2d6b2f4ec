import { applyDecorators, SetMetadata, type Type } from '@nestjs/common';
import { HalLink } from '../hal/hal-link.decorator';
import type { HandlerName } from '../hal/hal-link.interface';
import { Operation } from './operation';

const HAL_OPERATION_METADATA = 'nestjs-hal-problem:hal-operation';

/** A status monitor's class: `@HalOperation()` or an `Operation` subclass. */
export function isOperationClass(type: Type): boolean {
  return (
    type === Operation ||
    type.prototype instanceof Operation ||
    Reflect.getMetadata(HAL_OPERATION_METADATA, type) === true
  );
}

/** Options of `@HalOperation()`. */
export interface HalOperationOptions {
  /**
   * The monitor route's path parameter that holds the operation's id.
   * Default `id` (`@Get(':id')`); with `@Get(':operationId')`, say
   * `operationId`, or the `self` link stays a template and the 202 has no
   * `Location`.
   */
  readonly idParam?: string;
}

/**
 * The links of a status-monitor resource: `self` to the monitor route and,
 * once the work is done, `result` to where its result lives.
 *
 * @example
 * @HalOperation(() => [ReportsController, 'status'])
 * class ReportOperation extends Operation {}
 */
export function HalOperation<T>(
  monitor: () => readonly [Type<T>, HandlerName<T>],
  { idParam = 'id' }: HalOperationOptions = {},
): ClassDecorator {
  // applyDecorators applies in order and each HalLink prepends: `self` is listed last to come first.
  return applyDecorators(
    SetMetadata(HAL_OPERATION_METADATA, true),
    HalLink<unknown, Operation>('result', '{+resultHref}', {
      when: (operation) =>
        operation.status === 'done' && operation.resultHref !== undefined,
      params: (operation) => ({ resultHref: operation.resultHref }),
    }),
    idParam === 'id'
      ? HalLink('self', monitor)
      : HalLink<T, Operation>('self', monitor, {
          params: (operation) => ({ [idParam]: operation.id }),
        }),
  );
}
