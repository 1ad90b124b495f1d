import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import {
  ApiBasicAuth,
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import { EventSinkAuthGuard } from '../auth/event-sink-auth.guard';
import { Public } from '../auth/public.decorator';
import { ApiProblems } from '../common/api-problem.decorator';
import { EventSinkService } from './event-sink.service';

const SINK_MESSAGE_SCHEMA = {
  type: 'object',
  required: ['event'],
  additionalProperties: true,
  properties: {
    node: { type: 'string', example: '10.0.1.21' },
    seq: { type: 'integer', example: 17 },
    version: { type: 'integer', example: 1 },
    time: { type: 'number', example: 1717000000.123456 },
    event: {
      type: 'string',
      example: 'conference_ended',
      description:
        'Any event type is accepted; eventsink_bulk carries an array of messages in data.',
    },
    data: {
      oneOf: [
        { type: 'object', additionalProperties: true },
        {
          type: 'array',
          items: { type: 'object', additionalProperties: true },
        },
      ],
      example: { name: 'kQ3vN0b1c2d3e4f5g6h7iA', service_type: 'conference' },
    },
  },
};

/**
 * Receives Pexip's event-sink webhooks. Pexip's conferencing nodes post
 * every event here, one at a time per node.
 */
@ApiTags('public')
@Controller('public/event_sink')
export class EventSinkController {
  constructor(private readonly sink: EventSinkService) {}

  @Post()
  @HttpCode(200)
  @Public()
  @SkipThrottle()
  @UseGuards(EventSinkAuthGuard)
  @ApiBasicAuth('event-sink')
  @ApiOperation({
    summary: 'Pexip event sink',
    description:
      'Accepts every event type, single or bulk. conference_ended puts the room (data.name, else data.conference) on the deletion queue; nothing is deleted here.',
  })
  @ApiBody({ schema: SINK_MESSAGE_SCHEMA })
  @ApiOkResponse({
    schema: {
      type: 'object',
      properties: { status: { type: 'string', enum: ['accepted'] } },
    },
  })
  @ApiProblems(
    [400, 'Malformed JSON or not an event-sink message.'],
    [401, 'Wrong or missing Basic credentials (WWW-Authenticate: Basic).'],
    413,
    [
      429,
      'Too many refused credentials from this address within a minute; see Retry-After.',
    ],
    500,
    [503, 'The deletion queue is unavailable; Pexip will send again.'],
  )
  async receive(@Body() body: unknown): Promise<{ status: 'accepted' }> {
    await this.sink.accept(body);
    return { status: 'accepted' };
  }
}
