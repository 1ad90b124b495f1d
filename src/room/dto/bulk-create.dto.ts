import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';

/** Upper bound of one bulk create; the config may lower it. */
export const BULK_CREATE_LIMIT = 500;

export class BulkCreateQueryDto {
  @ApiProperty({
    description: 'Pool rooms to create.',
    minimum: 1,
    maximum: BULK_CREATE_LIMIT,
    example: 20,
  })
  @Type(() => Number)
  @IsInt({ message: 'count must be a whole number' })
  @Min(1)
  @Max(BULK_CREATE_LIMIT)
  readonly count: number;
}

@ApiSchema({ name: 'BulkCreateAccepted' })
export class BulkCreateResponseDto {
  @ApiProperty({ example: 20 })
  readonly requested: number;
}
