import { ApiProperty, ApiSchema } from '@nestjs/swagger';

@ApiSchema({ name: 'Health' })
export class HealthResponseDto {
  @ApiProperty({ enum: ['alive'], example: 'alive' })
  readonly status: 'alive';

  @ApiProperty({
    description: 'ISO 8601, UTC, without zone, with microseconds.',
    example: '2024-03-05T14:31:06.145000',
  })
  readonly timestamp: string;
}
