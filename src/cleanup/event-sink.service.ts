import { Inject, Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { AppConfig } from '../config/app-config';
import { ProblemException, ProblemType } from '../common/problem';
import { MetricsService } from '../metrics/metrics.service';
import { roomNameProblem } from '../room/room-name.pipe';
import { DELETION_QUEUE, QUEUE_STORE, QueueStore } from '../queue/queue.port';

/** One Pexip event-sink message, as far as this service reads it. */
interface SinkMessage {
  readonly event: string;
  readonly data?: unknown;
}

export interface SinkResult {
  /** Events in the body (a bulk message counts its members). */
  readonly events: number;
  /** Room names put on the deletion queue. */
  readonly queued: number;
}

/**
 * Takes Pexip's event-sink messages. Only `conference_ended` matters: its
 * room goes on the deletion queue for the collector. Nothing is deleted
 * here, so an answer takes milliseconds whatever state Pexip is in, and
 * Pexip's conferencing nodes, which send events one at a time, never back
 * up behind us.
 */
@Injectable()
export class EventSinkService {
  private readonly logger = new Logger(EventSinkService.name);
  /**
   * Each conferencing node of a conference reports its end, so one call
   * produces several identical events within a second or two, often at the
   * same moment. The send of the first is remembered (in flight or done),
   * and copies wait on it instead of queueing again; a copy that slips
   * through (another replica, a restart) is harmless to the collector.
   *
   * A name is remembered no longer than GC_MIN_AGE_SECONDS: until then its
   * message is still hidden on the queue, so a copy adds nothing. After
   * that the collector may already have dropped the message because the
   * room was live again, and the next conference_ended must queue it anew,
   * or the room would never be deleted.
   */
  private readonly recentlyQueued?: LRUCache<string, Promise<void>>;

  constructor(
    private readonly config: AppConfig,
    @Inject(QUEUE_STORE) private readonly queue: QueueStore,
    private readonly metrics: MetricsService,
  ) {
    const memoryMs = Math.min(60_000, config.collector.minAgeSeconds * 1000);
    if (memoryMs > 0) {
      this.recentlyQueued = new LRUCache({ max: 10_000, ttl: memoryMs });
    }
  }

  /**
   * Accepts one message or a bulk message.
   *
   * @throws ProblemException 400 when the body is not an event-sink message.
   * @throws ProblemException 503 when the deletion queue refuses a name:
   *   Pexip then sends the event again, which is what we want.
   */
  async accept(body: unknown): Promise<SinkResult> {
    const messages = unpack(body);

    let queued = 0;
    for (const message of messages) {
      if (message.event !== 'conference_ended') continue;
      const name = endedRoomName(message.data);
      if (!name) {
        this.logger.warn(
          'conference_ended without a usable room name; ignored',
        );
        continue;
      }

      const earlier = this.recentlyQueued?.get(name);
      if (earlier) {
        // A copy answers only once the first is stored, and fails with it.
        await earlier;
        continue;
      }
      const sending = this.queueForDeletion(name);
      this.recentlyQueued?.set(name, sending);
      await sending;
      queued++;
    }
    return { events: messages.length, queued };
  }

  /**
   * The message stays hidden until it is old enough to act on, so the
   * collector never spends an attempt on a room that may be rejoined.
   *
   * @throws ProblemException 503 when the queue refuses the name.
   */
  private async queueForDeletion(name: string): Promise<void> {
    try {
      await this.queue.send(DELETION_QUEUE, name, {
        visibilityDelaySeconds: this.config.collector.minAgeSeconds,
      });
    } catch (error) {
      this.recentlyQueued?.delete(name);
      throw new ProblemException(
        503,
        'Deletion queue unavailable',
        'The event could not be stored; send it again.',
        { type: ProblemType.dependencyUnavailable, cause: error },
      );
    }
    this.metrics.deletionQueued.inc();
    this.logger.log(
      { room: name },
      'conference ended: room queued for deletion',
    );
  }
}

function unpack(body: unknown): SinkMessage[] {
  if (!isSinkMessage(body)) {
    throw invalidBody('the body must be a JSON object with a string "event"');
  }
  if (body.event !== 'eventsink_bulk') return [body];

  if (!Array.isArray(body.data)) {
    throw invalidBody('an eventsink_bulk message needs "data" as an array');
  }
  const inner = body.data;
  const bad = inner.findIndex((item) => !isSinkMessage(item));
  if (bad >= 0) {
    throw invalidBody(
      `data[${bad}] of the bulk message is not an event-sink message`,
    );
  }
  return inner as SinkMessage[];
}

function isSinkMessage(value: unknown): value is SinkMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as { event?: unknown }).event === 'string'
  );
}

/** `data.name`, else `data.conference`, when it could be a room name. */
function endedRoomName(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { name, conference } = data as { name?: unknown; conference?: unknown };
  const candidate = typeof name === 'string' && name !== '' ? name : conference;
  if (typeof candidate !== 'string') return undefined;
  return roomNameProblem(candidate) ? undefined : candidate;
}

function invalidBody(detail: string): ProblemException {
  return new ProblemException(400, 'Invalid event-sink message', detail, {
    type: ProblemType.validation,
  });
}
