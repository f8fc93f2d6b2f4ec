import { Controller, Get } from '@nestjs/common';
import { SkipHal } from 'nestjs-hal-problem';

/** Plain JSON, as load balancers and the contract expect. */
@Controller('health')
@SkipHal()
export class HealthController {
  @Get()
  check(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
