import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { Equals, IsString } from 'class-validator';

export class DeleteAllQueryDto {
  @ApiProperty({
    description: 'Must be `true`; guards against an accidental wipe.',
    enum: ['true'],
  })
  @IsString({ message: 'confirm=true is required to delete every room' })
  @Equals('true', { message: 'confirm=true is required to delete every room' })
  readonly confirm: string;
}

@ApiSchema({ name: 'DeleteAllResult' })
export class DeleteAllResponseDto {
  @ApiProperty({ description: 'Rooms deleted.', example: 12 })
  readonly deleted: number;

  @ApiProperty({
    description: 'Names of rooms that could not be deleted.',
    type: [String],
    example: [],
  })
  readonly failed: string[];
}
