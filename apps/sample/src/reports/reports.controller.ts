import { Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import {
  ApiHalResponse,
  ApiProblemResponses,
  type AuthPrincipal,
  HalResource,
  type Operation,
  OperationsService,
  Principal,
  RouteTable,
  Scopes,
} from 'nestjs-hal-problem';
import type { SampleConfig } from '../config/sample-config';
import { SAMPLE_CONFIG } from '../config/sample-config.token';
import { ReportOperation, ReportResource } from './report.resources';
import { type Report, ReportNotFound, ReportsService } from './reports.service';

/**
 * Reports belong to the client that started them: another client with
 * `reports:write` gets the 404 of an unknown id for the monitor and the
 * result, so an id seen in a log or a shared link discloses nothing. One
 * issuer here, so the token's subject names the client.
 */
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
  create(@Principal() principal: AuthPrincipal): Promise<Operation> {
    const owner = principal.subject;
    return this.operations.start(
      'orders-report',
      async (operation) => {
        await new Promise((resolve) =>
          setTimeout(resolve, this.config.reportDelayMs),
        );
        await this.reports.generate(operation.id, owner);
        return {
          resultHref: this.routes.href(ReportsController, 'result', {
            id: operation.id,
          }),
        };
      },
      { owner },
    );
  }

  @Get(':id')
  @HalResource(ReportOperation)
  @ApiHalResponse(ReportOperation)
  status(
    @Param('id') id: string,
    @Principal() principal: AuthPrincipal,
  ): Promise<Operation> {
    return this.operations.get(id, { owner: principal.subject });
  }

  @Get(':id/result')
  @HalResource(ReportResource)
  @ApiProblemResponses(ReportNotFound)
  @ApiHalResponse(ReportResource)
  result(
    @Param('id') id: string,
    @Principal() principal: AuthPrincipal,
  ): Promise<Report> {
    return this.reports.get(id, principal.subject);
  }
}
