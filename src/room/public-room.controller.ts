import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import { GenesysAuthGuard } from '../auth/genesys-auth.guard';
import { Public } from '../auth/public.decorator';
import { ApiProblems } from '../common/api-problem.decorator';
import { ConstrainedRoomResponseDto } from './dto/constrained-room.response.dto';
import { toConstrainedRoom } from './room.mapper';
import { RoomNamePipe } from './room-name.pipe';
import { RoomService } from './room.service';

/**
 * The agent widget in Genesys Cloud reads the room it must join, host PIN
 * included, with the agent's own Genesys token.
 */
@ApiTags('public')
@Controller('public/room')
export class PublicRoomController {
  constructor(private readonly rooms: RoomService) {}

  @Get(':room_name')
  @Public()
  @UseGuards(GenesysAuthGuard)
  @ApiSecurity('genesys-token')
  @ApiOperation({
    summary: 'Read a room for the agent widget',
    description:
      "Authenticated with the agent's Genesys Cloud token in x-auth-token; the agent's division must be allowed. Answers CORS requests from the configured origins only.",
  })
  @ApiParam({
    name: 'room_name',
    description: 'Room name (the caller display name the widget sees).',
  })
  @ApiOkResponse({ type: ConstrainedRoomResponseDto })
  @ApiProblems(
    400,
    [401, 'Missing x-auth-token, or Genesys does not accept it.'],
    [403, "The agent's division is not allowed."],
    404,
    429,
    500,
    502,
    [503, 'Genesys Cloud is unreachable.'],
    504,
  )
  async get(
    @Param('room_name', RoomNamePipe) name: string,
  ): Promise<ConstrainedRoomResponseDto> {
    return toConstrainedRoom(await this.rooms.get(name));
  }
}
