import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { AliasResponseDto } from './alias.response.dto';

const EXAMPLE_NAME = 'kQ3vN0b1c2d3e4f5g6h7iA';

@ApiSchema({
  name: 'CreatedRoom',
  description:
    'A room handed out by POST /room/create. The host PIN is never part of it.',
})
export class CreatedRoomResponseDto {
  @ApiProperty({ description: 'Pexip id of the room.', example: 90 })
  readonly id: number;

  @ApiProperty({
    description: 'Unguessable room name, also its alias.',
    example: EXAMPLE_NAME,
  })
  readonly name: string;

  @ApiProperty({ enum: ['conference'], example: 'conference' })
  readonly service_type: string;

  @ApiProperty({ example: true })
  readonly allow_guests: boolean;

  @ApiProperty({
    description: 'PIN the citizen enters to join.',
    example: '4821',
  })
  readonly guest_pin: string;

  @ApiProperty({
    description: 'URL tying the room to the identity check.',
    example: 'https://id.gov.bc.ca/idcheck/protected/video/MTIzNDU2LDc2NTQzMg',
  })
  readonly tag: string;

  @ApiProperty({ type: () => [AliasResponseDto] })
  readonly aliases: AliasResponseDto[];
}
