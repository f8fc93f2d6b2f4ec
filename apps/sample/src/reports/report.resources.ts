import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { HalLink, HalOperation } from 'nestjs-hal-problem';
import { ReportsController } from './reports.controller';

/** The status monitor of a report being generated (documentation and links; never instantiated). */
@HalOperation(() => [ReportsController, 'status'])
export class ReportOperation {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'orders-report' }) kind: string;
  @ApiProperty({ enum: ['pending', 'running', 'done', 'failed'] })
  status: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiPropertyOptional({
    description: 'A problem document, when failed.',
    type: Object,
  })
  problem?: Record<string, unknown>;
}

/** A finished report. */
@HalLink('self', () => [ReportsController, 'result'])
@HalLink('monitor', () => [ReportsController, 'status'])
export class ReportResource {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'date-time' }) generatedAt: string;
  @ApiProperty() orderCount: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'number' },
    example: { EUR: 19.98 },
  })
  totalsByCurrency: Record<string, number>;
}
