import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  type AuthPrincipal,
  type HalContext,
  HalLink,
} from 'nestjs-hal-problem';
import { CURRENCIES, type Order, ORDER_STATUSES } from './order';
import { OrdersController } from './orders.controller';

/** Actions are offered only on open orders, and only to clients allowed to take them. */
const canChange = (order: Order, context: HalContext) =>
  order.status === 'open' &&
  ((context.principal as AuthPrincipal | undefined)?.scopes.includes(
    'orders:write',
  ) ??
    false);

export class OrderItemResource {
  @ApiProperty({ example: 'sku-1' }) sku: string;
  @ApiProperty({ minimum: 1, example: 2 }) quantity: number;
  @ApiProperty({ minimum: 0, example: 9.99 }) unitPrice: number;
}

/**
 * An order as the API shows it: its documented state, and the links every
 * order carries wherever it is returned or embedded.
 */
@HalLink('self', () => [OrdersController, 'findOne'])
@HalLink('collection', () => [OrdersController, 'findAll'])
@HalLink('cancel', () => [OrdersController, 'cancel'], {
  when: canChange,
  title: 'Cancel this order',
})
@HalLink('ship', () => [OrdersController, 'ship'], {
  when: canChange,
  title: 'Ship this order',
})
export class OrderResource {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ORDER_STATUSES }) status: string;
  @ApiProperty({ type: [OrderItemResource] }) items: OrderItemResource[];
  @ApiProperty({ example: 19.98 }) total: number;
  @ApiProperty({ enum: CURRENCIES }) currency: string;
  @ApiPropertyOptional({ maxLength: 500 }) note?: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}
