import { ApiProperty, ApiSchema } from '@nestjs/swagger';

@ApiSchema({
  name: 'PoolState',
  description:
    'Pool rooms ready to hand out, still ripening, the target size and creations under way in this instance.',
})
export class PoolStateResponseDto {
  @ApiProperty({ description: 'Ripe rooms ready to hand out.', example: 8 })
  readonly available: number;

  @ApiProperty({
    description:
      'Rooms waiting for Pexip to replicate them, including rooms still being made and rooms leased by a create in progress.',
    example: 2,
  })
  readonly ripening: number;

  @ApiProperty({ example: 10 })
  readonly target: number;

  @ApiProperty({
    description:
      'Rooms this instance is creating on Pexip right now (already counted in ripening).',
    example: 0,
  })
  readonly creating: number;
}
