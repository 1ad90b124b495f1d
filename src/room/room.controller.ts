import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiProblems } from '../common/api-problem.decorator';
import { ProblemException, ProblemType } from '../common/problem';
import { ProblemResponseDto } from '../common/problem.response.dto';
import { AppConfig } from '../config/app-config';
import { PoolService } from '../pool/pool.service';
import {
  BulkCreateQueryDto,
  BulkCreateResponseDto,
} from './dto/bulk-create.dto';
import { ConstrainedRoomResponseDto } from './dto/constrained-room.response.dto';
import { CreateRoomQueryDto } from './dto/create-room-query.request.dto';
import { CreatedRoomResponseDto } from './dto/created-room.response.dto';
import { DeleteAllQueryDto, DeleteAllResponseDto } from './dto/delete-all.dto';
import { FullRoomResponseDto } from './dto/full-room.response.dto';
import { PoolStateResponseDto } from './dto/pool-state.response.dto';
import {
  ConstrainedQueryDto,
  ListRoomsQueryDto,
} from './dto/room-query.request.dto';
import { UpdateRoomRequestDto } from './dto/update-room.request.dto';
import { writeJsonArray } from './json-array-stream';
import { toConstrainedRoom, toCreatedRoom, toFullRoom } from './room.mapper';
import { RoomNamePipe } from './room-name.pipe';
import { Room, RoomService } from './room.service';

const ROOM_NAME_PARAM = {
  name: 'room_name',
  description: 'Room name: 1–250 characters, no "/" and no control characters.',
  example: 'kQ3vN0b1c2d3e4f5g6h7iA',
};

const EITHER_ROOM_SHAPE = {
  oneOf: [
    { $ref: getSchemaPath(ConstrainedRoomResponseDto) },
    { $ref: getSchemaPath(FullRoomResponseDto) },
  ],
};

/**
 * Room operations for the identity service and operations staff. Routes
 * with fixed paths come before `:room_name`, which would otherwise swallow
 * them.
 */
@ApiTags('rooms')
@ApiBearerAuth('bearer')
@ApiExtraModels(
  ProblemResponseDto,
  ConstrainedRoomResponseDto,
  FullRoomResponseDto,
)
@ApiProblems(401, 403, 429, 500)
@Controller('room')
export class RoomController {
  constructor(
    private readonly rooms: RoomService,
    private readonly pool: PoolService,
    private readonly config: AppConfig,
  ) {}

  @Post('create')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Hand out a room for an identity check',
    description:
      'Answers the room already tagged for this uuiData when there is one (a retry never spends a second room); otherwise tags the oldest ripe pool room, or makes one on demand when the pool is empty. The host PIN is never in this answer.',
  })
  @ApiOkResponse({ type: CreatedRoomResponseDto })
  @ApiProblems(400, 502, 504)
  async create(
    @Query() query: CreateRoomQueryDto,
  ): Promise<CreatedRoomResponseDto> {
    return toCreatedRoom(await this.rooms.create(query.uuiData));
  }

  @Post('bulk-create')
  @HttpCode(202)
  @Header('Location', '/room/pool')
  @ApiOperation({
    summary: 'Create pool rooms in the background',
    description:
      'Answers at once; watch GET /room/pool (also given in Location) for progress.',
  })
  @ApiAcceptedResponse({
    type: BulkCreateResponseDto,
    headers: {
      Location: { description: '/room/pool', schema: { type: 'string' } },
    },
  })
  @ApiProblems(400)
  bulkCreate(@Query() query: BulkCreateQueryDto): BulkCreateResponseDto {
    const max = this.config.pool.bulkCreateMax;
    if (query.count > max) {
      const message = `count must not be greater than ${max} (BULK_CREATE_MAX)`;
      throw new ProblemException(400, 'Invalid request', `count: ${message}`, {
        type: ProblemType.validation,
        errors: { count: [message] },
      });
    }
    this.pool.bulkCreate(query.count);
    return { requested: query.count };
  }

  @Get('pool')
  @ApiOperation({ summary: 'Pool state' })
  @ApiOkResponse({ type: PoolStateResponseDto })
  @ApiProblems(503)
  async poolState(): Promise<PoolStateResponseDto> {
    try {
      return await this.pool.state();
    } catch (error) {
      throw new ProblemException(
        503,
        'Queue store unavailable',
        'The pool state cannot be read right now.',
        { type: ProblemType.dependencyUnavailable, cause: error },
      );
    }
  }

  @Get()
  @ApiOperation({
    summary: 'List rooms',
    description:
      "Every room, following Pexip's pagination to the end; persistent rooms included. The answer is streamed: if Pexip fails after the first page, the connection is cut and the JSON is incomplete.",
  })
  @ApiOkResponse({
    schema: { type: 'array', items: EITHER_ROOM_SHAPE },
  })
  @ApiProblems(400, 502, 504)
  async list(
    @Query() query: ListRoomsQueryDto,
    @Res() response: Response,
  ): Promise<void> {
    const show = chooseShape(query.constrained_attributes);
    await writeJsonArray(
      response,
      this.rooms.list({ namePrefix: query.prefix, tag: query.tag }),
      show,
    );
  }

  @Delete()
  @ApiOperation({
    summary: 'Delete every non-persistent room',
    description:
      'Also empties the pool queue. Requires confirm=true; without it nothing happens.',
  })
  @ApiOkResponse({ type: DeleteAllResponseDto })
  @ApiProblems(400, 502, 504)
  deleteAll(@Query() _query: DeleteAllQueryDto): Promise<DeleteAllResponseDto> {
    return this.rooms.deleteAll();
  }

  @Get(':room_name')
  @ApiOperation({ summary: 'Read one room' })
  @ApiParam(ROOM_NAME_PARAM)
  @ApiOkResponse({
    description:
      'ConstrainedConference (default, with the host PIN) or Conference when constrained_attributes=false.',
    schema: EITHER_ROOM_SHAPE,
  })
  @ApiProblems(400, 404, 502, 504)
  async get(
    @Param('room_name', RoomNamePipe) name: string,
    @Query() query: ConstrainedQueryDto,
  ): Promise<ConstrainedRoomResponseDto | FullRoomResponseDto> {
    return chooseShape(query.constrained_attributes)(
      await this.rooms.get(name),
    );
  }

  @Patch(':room_name')
  @HttpCode(202)
  @ApiOperation({ summary: 'Change some fields of a room' })
  @ApiParam(ROOM_NAME_PARAM)
  @ApiAcceptedResponse({ description: 'Changed; no body.' })
  @ApiProblems(
    [
      400,
      'Invalid or unknown field, or refused by Pexip (its field messages are in errors).',
    ],
    404,
    413,
    502,
    504,
  )
  async update(
    @Param('room_name', RoomNamePipe) name: string,
    @Body() changes: UpdateRoomRequestDto,
  ): Promise<void> {
    await this.rooms.update(name, changes);
  }

  @Delete(':room_name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a room and its aliases' })
  @ApiParam(ROOM_NAME_PARAM)
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiProblems(400, 404, 502, 504)
  async delete(@Param('room_name', RoomNamePipe) name: string): Promise<void> {
    await this.rooms.delete(name);
  }
}

function chooseShape(
  constrained: boolean | undefined,
): (room: Room) => ConstrainedRoomResponseDto | FullRoomResponseDto {
  return constrained === false ? toFullRoom : toConstrainedRoom;
}
