import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ProblemException, defineProblemType } from 'nestjs-hal-problem';
import { OrdersService } from '../orders/orders.service';
import { REDIS } from '../redis/redis.module';

export const ReportNotFound = defineProblemType({
  slug: 'report-not-found',
  title: 'Report not found',
  status: 404,
  description:
    'No finished report has this id. Poll its operation until it is done.',
});

export interface Report {
  readonly id: string;
  readonly generatedAt: string;
  readonly orderCount: number;
  readonly totalsByCurrency: Readonly<Record<string, number>>;
}

/** How long a finished report is kept, like its operation. */
const REPORT_TTL_MS = 3_600_000;

/** A report as kept: with the client it belongs to, which is never sent. */
interface StoredReport {
  readonly report: Report;
  readonly owner: string;
}

/**
 * Finished reports: in Redis when REDIS_URL is set (so the instance that
 * answers `GET /reports/{id}/result` need not be the one that built it),
 * else in memory. Each is kept with its owner, and read only by it.
 */
@Injectable()
export class ReportsService {
  private readonly reports = new Map<string, StoredReport>();

  constructor(
    private readonly orders: OrdersService,
    @Optional() @Inject(REDIS) private readonly redis?: Redis | null,
  ) {}

  async generate(id: string, owner: string): Promise<Report> {
    const { items } = this.orders.list({
      page: 1,
      size: Number.MAX_SAFE_INTEGER,
    });
    const totals: Record<string, number> = {};
    for (const order of items) {
      totals[order.currency] =
        Math.round(((totals[order.currency] ?? 0) + order.total) * 100) / 100;
    }
    const report: Report = {
      id,
      generatedAt: new Date().toISOString(),
      orderCount: items.length,
      totalsByCurrency: totals,
    };
    const stored: StoredReport = { report, owner };
    if (this.redis)
      await this.redis.set(
        `orders:report:${id}`,
        JSON.stringify(stored),
        'PX',
        REPORT_TTL_MS,
      );
    else this.reports.set(id, stored);
    return report;
  }

  /** Another client's report is not disclosed: the same 404 as none. */
  async get(id: string, owner: string): Promise<Report> {
    const stored = this.redis
      ? ((JSON.parse(
          (await this.redis.get(`orders:report:${id}`)) ?? 'null',
        ) as StoredReport | null) ?? undefined)
      : this.reports.get(id);
    if (!stored || stored.owner !== owner)
      throw new ProblemException(ReportNotFound, {
        detail: 'There is no finished report with this id.',
      });
    return stored.report;
  }
}
