import { ApiProperty } from '@nestjs/swagger';
import { ValidateBy, ValidationArguments } from 'class-validator';

const MAX_UUI_DATA_LENGTH = 2048;

export class CreateRoomQueryDto {
  @ApiProperty({
    description:
      'SIP User-to-User value: hex of the ASCII text `<host>&<video_call_id>`, optionally followed by `;encoding=hex` and other `;` parameters.',
    example: '6964264d54497a4e4455324c4463324e54517a4d67;encoding=hex',
    maxLength: MAX_UUI_DATA_LENGTH,
  })
  @IsOneUuiData()
  readonly uuiData: string;
}

/**
 * One rule with one message: separate string and length rules would all
 * fire on a missing or repeated value and tell the caller, among other
 * things, that nothing at all is too long.
 */
function IsOneUuiData(): PropertyDecorator {
  return ValidateBy({
    name: 'isOneUuiData',
    validator: {
      validate: (value: unknown) => uuiDataProblem(value) === undefined,
      defaultMessage: (args?: ValidationArguments) =>
        uuiDataProblem(args?.value) ?? '',
    },
  });
}

function uuiDataProblem(value: unknown): string | undefined {
  if (value === undefined) return 'uuiData is required';
  if (Array.isArray(value)) return 'uuiData must be given once';
  if (typeof value !== 'string') return 'uuiData must be text';
  if (value.length === 0) return 'uuiData must not be empty';
  if (value.length > MAX_UUI_DATA_LENGTH) {
    return `uuiData must be at most ${MAX_UUI_DATA_LENGTH} characters`;
  }
  return undefined;
}
