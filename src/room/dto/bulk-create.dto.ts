import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';

/** Upper bound of one bulk create; the config may lower it. */
export const BULK_CREATE_LIMIT = 500;

export class BulkCreateQueryDto {
  @ApiProperty({
    description: 'Pool rooms to create.',
    minimum: 1,
    maximum: BULK_CREATE_LIMIT,
    example: 20,
    type: 'integer',
  })
  // Plain decimal digits only: Number() would also read 0x10 and 1e1.
  @Transform(({ value }) =>
    typeof value === 'string' && /^[0-9]{1,6}$/.test(value)
      ? Number(value)
      : value,
  )
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
