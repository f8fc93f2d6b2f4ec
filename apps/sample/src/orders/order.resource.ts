import { HalLink } from 'nestjs-hal-problem';
import type { Order } from './order';
import { OrdersController } from './orders.controller';

const isOpen = (order: Order) => order.status === 'open';

/** The links every order carries, wherever it is returned or embedded. */
@HalLink('self', () => [OrdersController, 'findOne'])
@HalLink('collection', () => [OrdersController, 'findAll'])
@HalLink('cancel', () => [OrdersController, 'cancel'], {
  when: isOpen,
  title: 'Cancel this order',
})
@HalLink('ship', () => [OrdersController, 'ship'], {
  when: isOpen,
  title: 'Ship this order',
})
export class OrderResource {}
