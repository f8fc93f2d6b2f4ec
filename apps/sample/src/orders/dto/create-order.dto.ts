import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsString,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { CURRENCIES, type Currency } from '../order';

/** Exactly the contract's rules: no bounds it does not state (the body limit bounds sizes). */
// @ApiProperty beside each rule: the OpenAPI document describes the body
// the validation takes (the swagger CLI plugin would need `nest build`,
// which the tests' compiler does not run).
export class CreateOrderItemDto {
  @ApiProperty()
  @IsString()
  sku: string;

  @ApiProperty({ type: 'integer', minimum: 1 })
  @IsInt()
  @Min(1)
  quantity: number;

  @ApiProperty({ minimum: 0 })
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  unitPrice: number;
}

export class CreateOrderDto {
  @ApiProperty({ type: [CreateOrderItemDto], minItems: 1, maxItems: 50 })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => CreateOrderItemDto)
  items: CreateOrderItemDto[];

  @ApiProperty({ enum: CURRENCIES })
  @IsIn(CURRENCIES)
  currency: Currency;

  // Optional means absent: unlike @IsOptional(), null is not a string.
  @ApiPropertyOptional({ maxLength: 500 })
  @ValidateIf((order: CreateOrderDto) => order.note !== undefined)
  @IsString()
  @MaxLength(500)
  note?: string;
}
