import { ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { AliasResponseDto } from './alias.response.dto';

/**
 * Everything Pexip returns for a room. Only the documented fields are
 * described; fields added by newer Pexip versions pass through unchanged.
 */
@ApiSchema({
  name: 'Conference',
  description:
    'The full Pexip record of a room (constrained_attributes=false). Every field is optional and nullable; unknown fields from newer Pexip versions pass through.',
})
export class FullRoomResponseDto {
  [field: string]: unknown;

  @ApiPropertyOptional({ nullable: true, example: 90 })
  readonly id?: number | null;

  @ApiPropertyOptional({ nullable: true, example: 'kQ3vN0b1c2d3e4f5g6h7iA' })
  readonly name?: string | null;

  @ApiPropertyOptional({ nullable: true, example: 'conference' })
  readonly service_type?: string | null;

  @ApiPropertyOptional({ nullable: true, example: true })
  readonly allow_guests?: boolean | null;

  @ApiPropertyOptional({ nullable: true, example: '730194' })
  readonly pin?: string | null;

  @ApiPropertyOptional({ nullable: true, example: '4821' })
  readonly guest_pin?: string | null;

  @ApiPropertyOptional({ nullable: true })
  readonly tag?: string | null;

  @ApiPropertyOptional({ nullable: true, type: () => [AliasResponseDto] })
  readonly aliases?: AliasResponseDto[] | null;

  @ApiPropertyOptional({
    nullable: true,
    type: 'array',
    items: { type: 'object', additionalProperties: true },
    description: 'Participants the room dials when it starts.',
  })
  readonly automatic_participants?: unknown[] | null;

  @ApiPropertyOptional({
    nullable: true,
    enum: ['audio', 'video', 'video-only'],
  })
  readonly call_type?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    example: '2024-03-05T14:31:06.131007',
  })
  readonly creation_time?: string | null;

  @ApiPropertyOptional({
    nullable: true,
    description:
      "Media encryption: besteffort, on, off, or '' for the global setting.",
  })
  readonly crypto_mode?: string | null;

  @ApiPropertyOptional({ nullable: true })
  readonly description?: string | null;

  @ApiPropertyOptional({ nullable: true, example: 'one_main_seven_pips' })
  readonly guest_view?: string | null;

  @ApiPropertyOptional({ nullable: true, example: 'one_main_seven_pips' })
  readonly host_view?: string | null;

  @ApiPropertyOptional({
    type: 'integer',
    nullable: true,
    description: 'kbps',
  })
  readonly max_callrate_in?: number | null;

  @ApiPropertyOptional({
    type: 'integer',
    nullable: true,
    description: 'kbps',
  })
  readonly max_callrate_out?: number | null;

  @ApiPropertyOptional({ nullable: true })
  readonly mute_all_guests?: boolean | null;

  @ApiPropertyOptional({
    type: 'integer',
    nullable: true,
  })
  readonly participant_limit?: number | null;

  @ApiPropertyOptional({
    nullable: true,
    example: '/api/admin/configuration/v1/conference/90/',
  })
  readonly resource_uri?: string | null;
}
