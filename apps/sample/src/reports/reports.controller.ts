import { Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import {
  ApiHalResponse,
  ApiProblemResponses,
  HalResource,
  type Operation,
  OperationsService,
  RouteTable,
  Scopes,
} from 'nestjs-hal-problem';
import type { SampleConfig } from '../config/sample-config';
import { SAMPLE_CONFIG } from '../config/sample-config.token';
import { ReportOperation, ReportResource } from './report.resources';
import { type Report, ReportNotFound, ReportsService } from './reports.service';

@Controller('reports')
@Scopes('reports:write')
export class ReportsController {
  constructor(
    private readonly operations: OperationsService,
    private readonly reports: ReportsService,
    private readonly routes: RouteTable,
    @Inject(SAMPLE_CONFIG) private readonly config: SampleConfig,
  ) {}

  /** Starts a report: 202 with `Location` (the monitor) and `Retry-After`. */
  @Post()
  @HttpCode(202)
  @HalResource(ReportOperation)
  @ApiHalResponse(ReportOperation)
  create(): Promise<Operation> {
    return this.operations.start('orders-report', async (operation) => {
      await new Promise((resolve) =>
        setTimeout(resolve, this.config.reportDelayMs),
      );
      await this.reports.generate(operation.id);
      return {
        resultHref: this.routes.href(ReportsController, 'result', {
          id: operation.id,
        }),
      };
    });
  }

  @Get(':id')
  @HalResource(ReportOperation)
  @ApiHalResponse(ReportOperation)
  status(@Param('id') id: string): Promise<Operation> {
    return this.operations.get(id);
  }

  @Get(':id/result')
  @HalResource(ReportResource)
  @ApiProblemResponses(ReportNotFound)
  @ApiHalResponse(ReportResource)
  result(@Param('id') id: string): Promise<Report> {
    return this.reports.get(id);
  }
}
