import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import pLimit from 'p-limit';
import { AppConfig } from '../config/app-config';
import { CollectorOutcome, MetricsService } from '../metrics/metrics.service';
import { callBudgetMs } from '../pexip/pexip-retry.policy';
import { PexipService } from '../pexip/pexip.service';
import {
  DELETION_QUEUE,
  QUEUE_STORE,
  QueueMessage,
  QueueStore,
} from '../queue/queue.port';
import { RoomService } from '../room/room.service';

export interface CollectorRun {
  readonly received: number;
  readonly deleted: number;
  /** Messages dropped without deleting: room gone, persistent, or live. */
  readonly dropped: number;
  /** Messages left for a later run because they are too young. */
  readonly deferred: number;
  readonly failed: number;
}

const TIMER_NAME = 'room-collector';

/**
 * The collector removes rooms whose conference has ended. It works from the
 * deletion queue that the event sink fills, on a timer, and waits until an
 * ended room has stayed ended for GC_MIN_AGE_SECONDS: a participant whose
 * network drops ends the conference for a moment and comes back.
 *
 * Each run reads Pexip's room list once (and the list of live conferences),
 * so its cost in Pexip calls is the list pages plus the deletions, however
 * many messages it handles.
 */
@Injectable()
export class CollectorService
  implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown
{
  private readonly logger = new Logger(CollectorService.name);
  private running?: Promise<CollectorRun>;

  constructor(
    private readonly config: AppConfig,
    @Inject(QUEUE_STORE) private readonly queue: QueueStore,
    private readonly pexip: PexipService,
    private readonly rooms: RoomService,
    private readonly metrics: MetricsService,
    private readonly scheduler: SchedulerRegistry,
  ) {
    metrics.setBacklogSource(async () => {
      const counts = await this.queue.counts(DELETION_QUEUE);
      return counts.visible + counts.invisible;
    });
  }

  onApplicationBootstrap(): void {
    const timer = setInterval(
      () => void this.runOnce().catch(() => undefined),
      this.config.collector.intervalSeconds * 1000,
    );
    timer.unref();
    this.scheduler.addInterval(TIMER_NAME, timer);
  }

  /**
   * Stops the timer as soon as shutdown begins: other modules wait for
   * their own work in `beforeApplicationShutdown`, one after another, and
   * the timer would start new runs meanwhile.
   */
  onModuleDestroy(): void {
    if (this.scheduler.doesExist('interval', TIMER_NAME)) {
      this.scheduler.deleteInterval(TIMER_NAME);
    }
  }

  /** Lets a run in progress finish. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  /**
   * Runs the collector now. A run already in progress is joined, never
   * overlapped.
   *
   * @throws when the queue store or the Pexip room list fails; the
   *   messages taken come back after their lease and are tried again.
   */
  runOnce(): Promise<CollectorRun> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(): Promise<CollectorRun> {
    const started = Date.now();
    let messages: QueueMessage[];
    try {
      messages = await this.queue.receive(
        DELETION_QUEUE,
        this.config.collector.batchSize,
        this.leaseSeconds,
      );
    } catch (error) {
      this.metrics.collectorRuns.inc({ outcome: 'failed' });
      this.logger.error(
        { err: error },
        'collector run failed: deletion queue unavailable',
      );
      throw error;
    }
    if (messages.length === 0) {
      this.metrics.collectorRuns.inc({ outcome: 'ok' });
      this.logger.debug('collector run: deletion queue empty');
      return { received: 0, deleted: 0, dropped: 0, deferred: 0, failed: 0 };
    }

    let roomIds: Map<string, number>;
    let live: Set<string>;
    try {
      [roomIds, live] = await Promise.all([
        this.roomIdsByName(),
        this.liveRooms(),
      ]);
    } catch (error) {
      this.metrics.collectorRuns.inc({ outcome: 'failed' });
      this.logger.error(
        { err: error, messages: messages.length },
        'collector run failed: Pexip room list unavailable; messages will be retried',
      );
      await Promise.allSettled(
        messages.map((message) => this.queue.release(DELETION_QUEUE, message)),
      );
      throw error;
    }

    // Several nodes, replicas or restarts can queue one room more than
    // once; the room is decided once per run and every copy follows.
    const copiesByRoom = new Map<string, QueueMessage[]>();
    for (const message of messages) {
      const copies = copiesByRoom.get(message.text) ?? [];
      copies.push(message);
      copiesByRoom.set(message.text, copies);
    }

    const tally = { deleted: 0, dropped: 0, deferred: 0, failed: 0 };
    const limit = pLimit(this.config.pexip.maxConcurrency);
    await Promise.all(
      [...copiesByRoom.values()].map((copies) =>
        limit(async () => {
          const results = await this.handle(copies, roomIds, live);
          for (const result of results) {
            tally[result]++;
            this.metrics.collectorMessages.inc({ result });
          }
        }),
      ),
    );

    this.metrics.collectorRuns.inc({ outcome: 'ok' });
    const summary = { received: messages.length, ...tally };
    this.logger.log(
      { ...summary, rooms: roomIds.size, ms: Date.now() - started },
      'collector run finished',
    );
    return summary;
  }

  /**
   * Decides one room, named by every message in `copies`, and answers one
   * result per message: at most one of them is `deleted`.
   */
  private async handle(
    copies: QueueMessage[],
    roomIds: Map<string, number>,
    live: Set<string>,
  ): Promise<CollectorOutcome[]> {
    const name = copies[0].text;
    const id = roomIds.get(name);
    const dropAll = async () => {
      await Promise.all(copies.map((message) => this.forget(message)));
      return copies.map((): CollectorOutcome => 'dropped');
    };

    if (id === undefined || this.rooms.isPersistent(name)) {
      return dropAll();
    }
    if (live.has(name)) {
      // Someone rejoined: the room is in use again. Its next
      // conference_ended puts it back on the queue.
      this.logger.log({ room: name }, 'ended room is live again; not deleted');
      return dropAll();
    }

    // The newest copy tells when the room last ended: one rejoined and
    // ended again waits its full time again.
    const newest = Math.max(...copies.map((m) => m.insertedOn.getTime()));
    const wait =
      this.config.collector.minAgeSeconds - (Date.now() - newest) / 1000;
    if (wait > 0) {
      await Promise.all(
        copies.map((message) =>
          this.queue
            .release(DELETION_QUEUE, message, Math.ceil(wait))
            .catch(() => undefined),
        ),
      );
      return copies.map((): CollectorOutcome => 'deferred');
    }

    let deleted: boolean;
    try {
      deleted = await this.pexip.deleteConference(id);
    } catch (error) {
      return Promise.all(copies.map((message) => this.failed(message, error)));
    }
    if (!deleted) {
      // Gone since the list was read: another replica, or an operator.
      return dropAll();
    }
    this.metrics.roomsDeleted.inc({ reason: 'collector' });
    this.logger.log({ room: name, id }, 'ended room deleted');
    await Promise.all(copies.map((message) => this.forget(message)));
    return copies.map((_, i): CollectorOutcome =>
      i === 0 ? 'deleted' : 'dropped',
    );
  }

  private async failed(
    message: QueueMessage,
    error: unknown,
  ): Promise<'failed'> {
    const name = message.text;
    if (message.dequeueCount >= this.config.collector.maxAttempts) {
      this.logger.error(
        { err: error, room: name, attempts: message.dequeueCount },
        'giving up on deleting an ended room; delete it by hand',
      );
      await this.forget(message);
    } else {
      this.logger.warn(
        { err: error, room: name, attempt: message.dequeueCount },
        'ended room not deleted; will try again on a later run',
      );
      await this.queue.release(DELETION_QUEUE, message).catch(() => undefined);
    }
    return 'failed';
  }

  private async forget(message: QueueMessage): Promise<void> {
    await this.queue
      .delete(DELETION_QUEUE, message)
      .catch((error) =>
        this.logger.warn(
          { err: error, room: message.text },
          'deletion message not removed; it will be seen again',
        ),
      );
  }

  private async roomIdsByName(): Promise<Map<string, number>> {
    const ids = new Map<string, number>();
    for await (const page of this.pexip.listConferencePages({})) {
      for (const room of page) ids.set(room.name, room.id);
    }
    return ids;
  }

  private async liveRooms(): Promise<Set<string>> {
    return new Set(await this.pexip.listActiveConferenceNames());
  }

  /**
   * Long enough for an ordinary run (list pages, then the deletions at the
   * Pexip concurrency), short enough that the messages of a run killed
   * half-way come back within about a minute. A run that outlasts it only
   * risks another replica deleting the same room again, which Pexip
   * answers with a harmless 404.
   */
  private get leaseSeconds(): number {
    const budgetSeconds = callBudgetMs(this.config.pexip.timeoutMs) / 1000;
    return Math.max(60, Math.ceil(4 * budgetSeconds));
  }
}
