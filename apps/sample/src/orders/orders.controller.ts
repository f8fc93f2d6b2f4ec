import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import {
  HalEmbedded,
  HalPage,
  HalResource,
  ProblemException,
  Idempotent,
  Scopes,
} from 'nestjs-hal-problem';
import { CreateOrderDto } from './dto/create-order.dto';
import { ListOrdersQuery } from './dto/list-orders.query';
import type { Order } from './order';
import { OrderResource } from './order.resource';
import { OrdersService } from './orders.service';

@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Get()
  @HalEmbedded('orders', { type: () => OrderResource })
  @Scopes('orders:read')
  findAll(@Query() query: ListOrdersQuery): HalPage<Order> {
    const { items, total } = this.orders.list(query);
    return new HalPage(items, { page: query.page, size: query.size, total });
  }

  @Get(':id')
  @HalResource(OrderResource)
  @Scopes('orders:read')
  findOne(@Param('id') id: string): Order {
    return this.orders.get(id);
  }

  @Post()
  @HalResource(OrderResource)
  @Scopes('orders:write')
  @Idempotent()
  create(@Body() body: CreateOrderDto): Order {
    return this.orders.create(body);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @HalResource(OrderResource)
  @Scopes('orders:write')
  cancel(@Param('id') id: string): Order {
    return this.orders.transition(id, 'cancelled');
  }

  @Post(':id/ship')
  @HttpCode(200)
  @HalResource(OrderResource)
  @Scopes('orders:write')
  ship(@Param('id') id: string): Order {
    return this.orders.transition(id, 'shipped');
  }

  @Patch(':id')
  @Scopes('orders:write')
  update(): never {
    throw ProblemException.notImplemented(
      'Partial updates of orders are not supported.',
    );
  }

  @Delete(':id')
  @HttpCode(204)
  @Scopes('orders:write')
  remove(@Param('id') id: string): void {
    this.orders.delete(id);
  }
}
