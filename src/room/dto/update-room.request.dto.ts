import { ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';

/** Layouts Pexip accepts for host_view and guest_view. */
export const LAYOUTS = [
  'one_main_zero_pips',
  'one_main_seven_pips',
  'one_main_twentyone_pips',
  'two_mains_twentyone_pips',
  'four_mains_zero_pips',
  'nine_mains_zero_pips',
  'sixteen_mains_zero_pips',
  'twentyfive_mains_zero_pips',
  'five_mains_seven_pips',
] as const;

export const CALL_TYPES = ['audio', 'video', 'video-only'] as const;
export const CRYPTO_MODES = ['besteffort', 'on', 'off', ''] as const;

// Pexip's PIN rule: 4–20 characters, digits with an optional final '#'.
const PIN = /^(?=.{4,20}$)[0-9]+#?$/;
const PIN_MESSAGE = 'must be 4–20 digits, optionally ending in #';

/**
 * Fields of a room that may be changed. Any field not listed here is
 * refused with 400, so a typo never silently does nothing.
 */
@ApiSchema({
  name: 'UpdateRoom',
  description:
    "Any subset of these fields. Pexip's own rules apply (host and guest PIN must differ).",
})
export class UpdateRoomRequestDto {
  @ApiPropertyOptional({ example: '730194', description: 'Host PIN.' })
  @IsOptional()
  @IsString()
  @Matches(PIN, { message: `pin ${PIN_MESSAGE}` })
  readonly pin?: string;

  @ApiPropertyOptional({ example: '4821' })
  @IsOptional()
  @IsString()
  @Matches(PIN, { message: `guest_pin ${PIN_MESSAGE}` })
  readonly guest_pin?: string;

  @ApiPropertyOptional({ maxLength: 250 })
  @IsOptional()
  @IsString()
  @MaxLength(250)
  readonly tag?: string;

  @ApiPropertyOptional({ maxLength: 250 })
  @IsOptional()
  @IsString()
  @MaxLength(250)
  readonly description?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: 1_000_000,
    nullable: true,
    description: 'null removes the limit.',
  })
  @IsOptional()
  @ValidateIf((_body, value) => value !== null)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  readonly participant_limit?: number | null;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  readonly mute_all_guests?: boolean;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 128,
    maximum: 8192,
    nullable: true,
    description: 'kbps',
  })
  @IsOptional()
  @ValidateIf((_body, value) => value !== null)
  @IsInt()
  @Min(128)
  @Max(8192)
  readonly max_callrate_in?: number | null;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 128,
    maximum: 8192,
    nullable: true,
    description: 'kbps',
  })
  @IsOptional()
  @ValidateIf((_body, value) => value !== null)
  @IsInt()
  @Min(128)
  @Max(8192)
  readonly max_callrate_out?: number | null;

  @ApiPropertyOptional({ enum: LAYOUTS, nullable: true })
  @IsOptional()
  @ValidateIf((_body, value) => value !== null)
  @IsIn(LAYOUTS)
  readonly host_view?: string | null;

  @ApiPropertyOptional({ enum: LAYOUTS, nullable: true })
  @IsOptional()
  @ValidateIf((_body, value) => value !== null)
  @IsIn(LAYOUTS)
  readonly guest_view?: string | null;

  @ApiPropertyOptional({ enum: CALL_TYPES })
  @IsOptional()
  @IsIn(CALL_TYPES)
  readonly call_type?: string;

  @ApiPropertyOptional({
    enum: CRYPTO_MODES,
    nullable: true,
    description: "'' or null: use the platform's global setting.",
  })
  @IsOptional()
  @ValidateIf((_body, value) => value !== null)
  @IsIn(CRYPTO_MODES)
  readonly crypto_mode?: string | null;
}
