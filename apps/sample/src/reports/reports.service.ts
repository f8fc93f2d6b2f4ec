import { Injectable } from '@nestjs/common';
import { ProblemException, defineProblemType } from 'nestjs-hal-problem';
import { OrdersService } from '../orders/orders.service';

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

/** Finished reports, in memory. */
@Injectable()
export class ReportsService {
  private readonly reports = new Map<string, Report>();

  constructor(private readonly orders: OrdersService) {}

  generate(id: string): Report {
    const { items } = this.orders.list({
      page: 1,
      size: Number.MAX_SAFE_INTEGER,
    });
    const totals: Record<string, number> = {};
    for (const order of items)
      totals[order.currency] =
        Math.round(((totals[order.currency] ?? 0) + order.total) * 100) / 100;
    const report: Report = {
      id,
      generatedAt: new Date().toISOString(),
      orderCount: items.length,
      totalsByCurrency: totals,
    };
    this.reports.set(id, report);
    return report;
  }

  get(id: string): Report {
    const report = this.reports.get(id);
    if (!report)
      throw new ProblemException(ReportNotFound, {
        detail: `There is no finished report ${id}.`,
      });
    return report;
  }
}
