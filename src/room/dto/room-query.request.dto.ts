import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, MaxLength } from 'class-validator';

/** Turns the query words `true`/`false` into booleans; leaves the rest. */
export const toBoolean = ({ value }: { value: unknown }): unknown => {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value;
};

export class ConstrainedQueryDto {
  @ApiPropertyOptional({
    description:
      'true (default): the constrained shape. false: everything Pexip holds for the room.',
    default: true,
  })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'constrained_attributes must be true or false' })
  readonly constrained_attributes?: boolean;
}

export class ListRoomsQueryDto extends ConstrainedQueryDto {
  @ApiPropertyOptional({
    description: 'Only rooms whose name starts with this.',
    maxLength: 250,
  })
  @IsOptional()
  @IsString()
  @MaxLength(250)
  readonly prefix?: string;

  @ApiPropertyOptional({
    description: 'Only rooms carrying exactly this tag.',
    maxLength: 250,
  })
  @IsOptional()
  @IsString()
  @MaxLength(250)
  readonly tag?: string;
}
