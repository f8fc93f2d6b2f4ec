import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { ProblemException } from 'nestjs-hal-problem';
import type { SampleConfig } from '../config/sample-config';
import { SAMPLE_CONFIG } from '../config/sample-config.token';

/** How long clients are asked to wait during maintenance. */
export const MAINTENANCE_RETRY_AFTER_SECONDS = 300;

/** With MAINTENANCE_MODE=true, every route but GET /health answers 503. */
@Injectable()
export class MaintenanceMiddleware implements NestMiddleware {
  constructor(@Inject(SAMPLE_CONFIG) private readonly config: SampleConfig) {}

  use(_request: unknown, _response: unknown, next: () => void): void {
    if (this.config.maintenanceMode) {
      throw ProblemException.serviceUnavailable(
        'The service is down for maintenance.',
        {
          retryAfter: MAINTENANCE_RETRY_AFTER_SECONDS,
        },
      );
    }
    next();
  }
}
