import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ProblemException } from 'nestjs-hal-problem';
import type { CreateOrderDto } from './dto/create-order.dto';
import type { Order, OrderStatus } from './order';
import {
  OrderNotFound,
  OrderNotOpen,
  OrderTotalTooHigh,
} from './orders.problems';

export const MAX_ORDER_TOTAL = 10_000;

/** The sample's order store: in memory, newest first. */
@Injectable()
export class OrdersService {
  private readonly orders = new Map<string, Order>();

  list(filter: { status?: OrderStatus; page: number; size: number }): {
    items: Order[];
    total: number;
  } {
    const all = [...this.orders.values()]
      .filter(
        (order) =>
          filter.status === undefined || order.status === filter.status,
      )
      .reverse();
    const start = (filter.page - 1) * filter.size;
    return { items: all.slice(start, start + filter.size), total: all.length };
  }

  count(): number {
    return this.orders.size;
  }

  get(id: string): Order {
    const order = this.orders.get(id);
    if (!order)
      throw new ProblemException(OrderNotFound, {
        detail: `There is no order ${id}.`,
      });
    return order;
  }

  create(input: CreateOrderDto): Order {
    // Cents avoid floating-point drift in the total.
    const cents = input.items.reduce(
      (sum, item) => sum + Math.round(item.unitPrice * 100) * item.quantity,
      0,
    );
    const total = cents / 100;
    if (total > MAX_ORDER_TOTAL) {
      throw new ProblemException(OrderTotalTooHigh, {
        detail: Number.isFinite(total)
          ? `The order totals ${total.toFixed(2)} ${input.currency}; the limit is ${MAX_ORDER_TOTAL}.`
          : `The order totals more than any number shown here; the limit is ${MAX_ORDER_TOTAL} ${input.currency}.`,
        extensions: {
          ...(Number.isFinite(total) ? { total } : {}),
          limit: MAX_ORDER_TOTAL,
          currency: input.currency,
        },
      });
    }
    const order: Order = {
      id: randomUUID(),
      status: 'open',
      items: input.items.map(({ sku, quantity, unitPrice }) => ({
        sku,
        quantity,
        unitPrice,
      })),
      total,
      currency: input.currency,
      ...(input.note === undefined ? {} : { note: input.note }),
      createdAt: new Date().toISOString(),
    };
    this.orders.set(order.id, order);
    return order;
  }

  transition(id: string, to: Exclude<OrderStatus, 'open'>): Order {
    const order = this.get(id);
    if (order.status !== 'open') {
      throw new ProblemException(OrderNotOpen, {
        detail: `Order ${id} is ${order.status}; only open orders can be ${to}.`,
        extensions: { orderStatus: order.status },
      });
    }
    const updated: Order = { ...order, status: to };
    this.orders.set(id, updated);
    return updated;
  }

  delete(id: string): void {
    this.get(id);
    this.orders.delete(id);
  }
}
