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
  ApiHalResponse,
  ApiNotImplemented,
  ApiProblemResponses,
  Idempotent,
  Scopes,
} from 'nestjs-hal-problem';
import { CreateOrderDto } from './dto/create-order.dto';
import { ListOrdersQuery } from './dto/list-orders.query';
import type { Order } from './order';
import { OrderResource } from './order.resource';
import { OrdersService } from './orders.service';
import {
  OrderNotFound,
  OrderNotOpen,
  OrderTotalTooHigh,
} from './orders.problems';

@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Get()
  @HalEmbedded('orders', { type: () => OrderResource })
  @Scopes('orders:read')
  @ApiHalResponse(OrderResource, { page: true })
  findAll(@Query() query: ListOrdersQuery): HalPage<Order> {
    const { items, total } = this.orders.list(query);
    return new HalPage(items, { page: query.page, size: query.size, total });
  }

  @Get(':id')
  @HalResource(OrderResource)
  @Scopes('orders:read')
  @ApiProblemResponses(OrderNotFound)
  @ApiHalResponse(OrderResource)
  findOne(@Param('id') id: string): Order {
    return this.orders.get(id);
  }

  @Post()
  @HalResource(OrderResource)
  @Scopes('orders:write')
  @Idempotent()
  @ApiProblemResponses(OrderTotalTooHigh)
  @ApiHalResponse(OrderResource)
  create(@Body() body: CreateOrderDto): Order {
    return this.orders.create(body);
  }

  @Post(':id/cancel')
  @ApiProblemResponses(OrderNotFound, OrderNotOpen)
  @HttpCode(200)
  @HalResource(OrderResource)
  @Scopes('orders:write')
  @ApiHalResponse(OrderResource)
  cancel(@Param('id') id: string): Order {
    return this.orders.transition(id, 'cancelled');
  }

  @Post(':id/ship')
  @ApiProblemResponses(OrderNotFound, OrderNotOpen)
  @HttpCode(200)
  @HalResource(OrderResource)
  @Scopes('orders:write')
  @ApiHalResponse(OrderResource)
  ship(@Param('id') id: string): Order {
    return this.orders.transition(id, 'shipped');
  }

  @Patch(':id')
  @ApiNotImplemented()
  @Scopes('orders:write')
  update(): never {
    throw ProblemException.notImplemented(
      'Partial updates of orders are not supported.',
    );
  }

  @Delete(':id')
  @HttpCode(204)
  @Scopes('orders:write')
  @ApiProblemResponses(OrderNotFound)
  remove(@Param('id') id: string): void {
    this.orders.delete(id);
  }
}
