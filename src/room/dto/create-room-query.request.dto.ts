import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';

export class CreateRoomQueryDto {
  @ApiProperty({
    description:
      'SIP User-to-User value: hex of the ASCII text `<host>&<video_call_id>`, optionally followed by `;encoding=hex` and other `;` parameters.',
    example: '6964264d54497a4e4455324c4463324e54517a4d67;encoding=hex',
    maxLength: 2048,
  })
  @IsString({ message: 'uuiData must be given once, as text' })
  @MinLength(1, { message: 'uuiData must not be empty' })
  @MaxLength(2048)
  readonly uuiData: string;
}
