import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { CURRENCIES, type Currency } from '../order';

export class CreateOrderItemDto {
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  sku: string;

  @IsInt()
  @Min(1)
  @Max(1_000_000)
  quantity: number;

  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1_000_000_000)
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

  @IsOptional()
  @IsString()
  @MaxLength(500)
  note?: string;
}
