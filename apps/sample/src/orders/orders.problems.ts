import { defineProblemType } from 'nestjs-hal-problem';

export const OrderNotFound = defineProblemType({
  slug: 'order-not-found',
  title: 'Order not found',
  status: 404,
  description:
    'No order has this id. It may never have existed or may have been deleted.',
});

export const OrderNotOpen = defineProblemType({
  slug: 'order-not-open',
  title: 'Order is not open',
  status: 409,
  description:
    'Only open orders can be cancelled or shipped. Read the order to see its status.',
});

export const OrderTotalTooHigh = defineProblemType({
  slug: 'order-total-too-high',
  title: 'Order total exceeds the limit',
  status: 422,
  description:
    'An order may total at most 10000 in its currency. Split it into several orders.',
});
