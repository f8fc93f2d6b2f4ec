import { Controller, Get } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { ApiHalResponse, HalLink, Public } from 'nestjs-hal-problem';
import { OrdersController } from '../orders/orders.controller';
import { ReportsController } from '../reports/reports.controller';
import { OAuthController } from '../oauth/oauth.controller';

export class RootResource {
  @ApiProperty({ example: 'Orders API' }) name: string;
}

/** The API root: where a client starts, following links only. */
@Controller()
@Public()
export class RootController {
  @Get()
  @HalLink('orders', [OrdersController, 'findAll'], {
    templated: true,
    title: 'Orders, page by page',
  })
  @HalLink('order', [OrdersController, 'findOne'], {
    templated: true,
    title: 'One order',
  })
  @HalLink('reports', [ReportsController, 'create'], {
    title: 'Start an orders report',
  })
  @HalLink('token', [OAuthController, 'token'], {
    title: 'OAuth 2.0 token endpoint (client credentials)',
  })
  @HalLink('docs', '/docs', { type: 'text/html', title: 'API documentation' })
  @ApiHalResponse(RootResource)
  root(): RootResource {
    return { name: 'Orders API' };
  }
}
