import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { CreatedRoomResponseDto } from './created-room.response.dto';

@ApiSchema({
  name: 'ConstrainedConference',
  description:
    'A room as the API shows it by default: these fields and nothing else.',
})
export class ConstrainedRoomResponseDto extends CreatedRoomResponseDto {
  @ApiProperty({ description: 'Host PIN.', example: '730194' })
  readonly pin: string;
}
