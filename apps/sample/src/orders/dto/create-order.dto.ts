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
export class CreateOrderItemDto {
  @IsString()
  sku: string;

  @IsInt()
  @Min(1)
  quantity: number;

  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  unitPrice: number;
}

export class CreateOrderDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => CreateOrderItemDto)
  items: CreateOrderItemDto[];

  @IsIn(CURRENCIES)
  currency: Currency;

  // Optional means absent: unlike @IsOptional(), null is not a string.
  @ValidateIf((order: CreateOrderDto) => order.note !== undefined)
  @IsString()
  @MaxLength(500)
  note?: string;
}
