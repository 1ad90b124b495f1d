import { ApiProperty, ApiSchema } from '@nestjs/swagger';

@ApiSchema({
  name: 'Alias',
  description: 'A dial string of a room.',
})
export class AliasResponseDto {
  @ApiProperty({ example: 85 })
  readonly id: number;

  @ApiProperty({
    description:
      'The dial string; pool rooms have one alias equal to the name.',
    example: 'kQ3vN0b1c2d3e4f5g6h7iA',
  })
  readonly alias: string;

  @ApiProperty({
    description: 'Pexip resource URI of the room the alias belongs to.',
    example: '/api/admin/configuration/v1/conference/90/',
  })
  readonly conference: string;

  @ApiProperty({
    description: 'ISO 8601 without zone, with microseconds (UTC).',
    example: '2024-03-05T14:31:06.145782',
  })
  readonly creation_time: string;

  @ApiProperty({ example: '' })
  readonly description: string;
}
