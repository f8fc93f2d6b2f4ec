import { Controller, Get, Inject, Optional } from '@nestjs/common';
import { SkipThrottle } from '@nestjs/throttler';
import type { Redis } from 'ioredis';
import { ApiOkResponse, ApiProperty } from '@nestjs/swagger';
import {
  ApiProblemResponses,
  ProblemException,
  Public,
  SkipHal,
} from 'nestjs-hal-problem';
import { REDIS } from '../redis/redis.module';

const PING_TIMEOUT_MS = 500;
const RETRY_AFTER_SECONDS = 5;

class HealthStatus {
  @ApiProperty({ enum: ['ok'] }) status: 'ok';
}

/** Plain JSON, as load balancers and the contract expect; never throttled. */
@Controller('health')
@SkipHal()
@Public()
@SkipThrottle()
export class HealthController {
  constructor(
    @Optional() @Inject(REDIS) private readonly redis?: Redis | null,
  ) {}

  @Get()
  @ApiOkResponse({
    type: HealthStatus,
    description: 'Every backing store answers.',
  })
  @ApiProblemResponses(503)
  async check(): Promise<{ status: 'ok' }> {
    if (this.redis && !(await this.redisAnswers(this.redis))) {
      throw ProblemException.serviceUnavailable(
        'A backing store (Redis) is unreachable.',
        {
          retryAfter: RETRY_AFTER_SECONDS,
        },
      );
    }
    return { status: 'ok' };
  }

  private async redisAnswers(redis: Redis): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>(
      (resolve) =>
        (timer = setTimeout(() => resolve('timeout'), PING_TIMEOUT_MS)),
    );
    try {
      return (await Promise.race([redis.ping(), timeout])) === 'PONG';
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
