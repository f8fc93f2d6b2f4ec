import {
  type AuthPrincipal,
  type HalContext,
  HalLink,
} from 'nestjs-hal-problem';
import type { Order } from './order';
import { OrdersController } from './orders.controller';

/** Actions are offered only on open orders, and only to clients allowed to take them. */
const canChange = (order: Order, context: HalContext) =>
  order.status === 'open' &&
  ((context.principal as AuthPrincipal | undefined)?.scopes.includes(
    'orders:write',
  ) ??
    false);

/** The links every order carries, wherever it is returned or embedded. */
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
export class OrderResource {}
