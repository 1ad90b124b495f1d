import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  BeforeApplicationShutdown,
  OnModuleDestroy,
} from '@nestjs/common';
import pLimit from 'p-limit';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { callBudgetMs } from '../pexip/pexip-retry.policy';
import { PexipService } from '../pexip/pexip.service';
import {
  POOL_QUEUE,
  QUEUE_STORE,
  QueueMessage,
  QueueStore,
} from '../queue/queue.port';
import { PexipRejectedError } from '../pexip/pexip.errors';
import { NewRoom, RoomFactory } from './room-factory.service';
import { newRoomName } from './room-recipe';

/**
 * Pool rooms of unclear creates remembered at most; a Pexip outage long
 * enough to fill this is logged, room by room, as it overflows.
 */
const MAX_UNCONFIRMED = 100;

/** A pool room taken by one create until it is handed out or put back. */
export interface PoolLease {
  readonly roomName: string;
  readonly message: QueueMessage;
}

export interface PoolState {
  readonly available: number;
  readonly ripening: number;
  readonly target: number;
  readonly creating: number;
}

/**
 * The pool of ready rooms. Pexip needs about a minute to copy a new room to
 * its conferencing nodes, so a room made at the moment a citizen asks may
 * not be dialable yet; the pool makes rooms ahead of time and hands one out
 * only once it is older than the ripening delay.
 *
 * Each pool room is one message on the pool queue (its name), sent with an
 * initial invisibility equal to the ripening delay: the queue itself says
 * which rooms are ripe, and several replicas can share it.
 */
@Injectable()
export class PoolService
  implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown
{
  private readonly logger = new Logger(PoolService.name);
  private creating = 0;
  private refill?: Promise<void>;
  private refillAgain = false;
  private timer?: NodeJS.Timeout;
  private stopping = false;
  private readonly background = new Set<Promise<unknown>>();
  /** Pool rooms whose create may have taken effect unseen; see below. */
  private readonly unconfirmed = new Set<string>();

  constructor(
    private readonly config: AppConfig,
    @Inject(QUEUE_STORE) private readonly queue: QueueStore,
    private readonly factory: RoomFactory,
    private readonly pexip: PexipService,
    private readonly metrics: MetricsService,
  ) {
    metrics.setPoolSource(() => this.state());
  }

  onApplicationBootstrap(): void {
    if (this.config.pool.targetSize === 0) {
      this.logger.log(
        'pool disabled (POOL_TARGET_SIZE=0): rooms are made on demand',
      );
      return;
    }
    this.refillSoon();
    this.timer = setInterval(
      () => this.refillSoon(),
      this.config.pool.refillIntervalSeconds * 1000,
    );
    this.timer.unref();
  }

  /**
   * Stops topping up as soon as shutdown begins. Nest runs each module's
   * `beforeApplicationShutdown` in turn, and others wait there for their
   * own work; stopping only then would let the timer start new rooms
   * while they wait.
   */
  onModuleDestroy(): void {
    this.stopping = true;
    clearInterval(this.timer);
  }

  /** Waits for rooms being made, so none is lost. */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.background]);
  }

  /**
   * How long a create may hold a pool room before the queue offers it to
   * someone else: well past the longest a hand-out can take (two Pexip
   * calls in sequence, each within its time budget), so a slow hand-out is
   * never doubled.
   */
  get leaseSeconds(): number {
    return (
      Math.ceil((2 * callBudgetMs(this.config.pexip.timeoutMs)) / 1000) + 30
    );
  }

  /**
   * Takes the oldest ripe pool room, or undefined when none is ripe.
   * @throws when the queue store fails.
   */
  async take(): Promise<PoolLease | undefined> {
    const [message] = await this.queue.receive(
      POOL_QUEUE,
      1,
      this.leaseSeconds,
    );
    return message ? { roomName: message.text, message } : undefined;
  }

  /** The room now belongs to a citizen: remove it from the pool. */
  async handedOut(lease: PoolLease): Promise<void> {
    // If this fails the message comes back after the lease, and the next
    // create sees the room's tag and drops it: never handed out twice.
    await this.queue
      .delete(POOL_QUEUE, lease.message)
      .catch((error) =>
        this.logger.warn(
          { err: error, room: lease.roomName },
          'handed-out room still on the pool queue; it will be dropped when seen again',
        ),
      );
  }

  /** The create failed: make the room available again at once. */
  async putBack(lease: PoolLease): Promise<void> {
    await this.queue
      .release(POOL_QUEUE, lease.message)
      .catch((error) =>
        this.logger.warn(
          { err: error, room: lease.roomName },
          'pool room not put back; it returns when its lease ends',
        ),
      );
  }

  /** The room cannot be used (gone from Pexip, already tagged): drop it. */
  async discard(lease: PoolLease, reason: string): Promise<void> {
    this.logger.warn({ room: lease.roomName, reason }, 'pool room dropped');
    await this.queue
      .delete(POOL_QUEUE, lease.message)
      .catch((error) =>
        this.logger.warn(
          { err: error, room: lease.roomName },
          'dropped pool room still on the queue',
        ),
      );
  }

  /** Counts for GET /room/pool and the metrics. */
  async state(): Promise<PoolState> {
    const counts = await this.queue.counts(POOL_QUEUE);
    return {
      available: counts.visible,
      ripening: counts.invisible,
      target: this.config.pool.targetSize,
      creating: this.creating,
    };
  }

  /** Empties the pool queue (the rooms themselves are deleted elsewhere). */
  async clear(): Promise<void> {
    await this.queue.clear(POOL_QUEUE);
    this.logger.log('pool queue cleared');
  }

  /**
   * Starts a top-up to the target in the background. Calls that arrive
   * while one runs are folded into one more run after it.
   */
  refillSoon(): void {
    if (this.stopping || this.config.pool.targetSize === 0) return;
    if (this.refill) {
      this.refillAgain = true;
      return;
    }
    this.refill = this.track(this.refillToTarget()).finally(() => {
      this.refill = undefined;
      if (this.refillAgain) {
        this.refillAgain = false;
        this.refillSoon();
      }
    });
  }

  /**
   * Creates `count` pool rooms in the background, at most
   * PEXIP_MAX_CONCURRENCY at a time, each added to the pool once Pexip has
   * it. Progress shows in `state().creating`.
   */
  bulkCreate(count: number): void {
    this.logger.log({ count }, 'bulk create started');
    void this.track(
      this.removeUnconfirmed()
        .then(() => this.createMany(count, this.config.pexip.maxConcurrency))
        .then(({ created, failed }) =>
          this.logger.log({ count, created, failed }, 'bulk create finished'),
        ),
    );
  }

  private async refillToTarget(): Promise<void> {
    await this.removeUnconfirmed();

    let missing: number;
    try {
      const state = await this.state();
      missing =
        state.target - state.available - state.ripening - state.creating;
    } catch (error) {
      this.logger.warn(
        { err: error },
        'pool not topped up: queue store unavailable',
      );
      return;
    }
    if (missing <= 0) return;

    // Top-ups run beside citizens' creates, so they take only part of the
    // Pexip concurrency; a bulk create is the operator's explicit choice
    // and may take all of it.
    const concurrency = Math.max(
      1,
      Math.floor(this.config.pexip.maxConcurrency / 2),
    );
    const { created, failed } = await this.createMany(missing, concurrency);
    this.logger.log(
      { created, failed, target: this.config.pool.targetSize },
      'pool topped up',
    );
  }

  private async createMany(
    count: number,
    concurrency: number,
  ): Promise<{ created: number; failed: number }> {
    const limit = pLimit(concurrency);
    let created = 0;
    let failed = 0;
    await Promise.all(
      Array.from({ length: count }, () =>
        limit(async () => {
          if (this.stopping) return;
          try {
            await this.createPoolRoom();
            created++;
          } catch {
            failed++;
          }
        }),
      ),
    );
    return { created, failed };
  }

  /** Makes one room and puts it on the pool queue, hidden until ripe. */
  private async createPoolRoom(): Promise<void> {
    this.creating++;
    const name = newRoomName();
    try {
      let room: NewRoom;
      try {
        room = await this.factory.create('', 'pool', name);
      } catch (error) {
        if (!(error instanceof PexipRejectedError)) {
          this.rememberUnconfirmed(name);
        }
        throw error;
      }
      try {
        await this.queue.send(POOL_QUEUE, room.name, {
          visibilityDelaySeconds: this.config.pool.ripenSeconds,
        });
      } catch (error) {
        // A room on Pexip that no queue knows of would never be handed out
        // nor collected; remove it rather than leak it.
        this.logger.error(
          { err: error, room: room.name },
          'new pool room could not be queued; deleting it',
        );
        await this.pexip.deleteConference(room.id).catch(() => undefined);
        throw error;
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'pool room not created');
      throw error;
    } finally {
      this.creating--;
    }
  }

  /**
   * A create that got no clear answer, not even from the look-up after
   * it, may have made the room: untagged and on no queue, nothing would
   * ever hand it out or remove it. The name is kept, in memory, for
   * `removeUnconfirmed`.
   */
  private rememberUnconfirmed(name: string): void {
    if (this.unconfirmed.size >= MAX_UNCONFIRMED) {
      const [oldest] = this.unconfirmed;
      this.unconfirmed.delete(oldest);
      this.logger.error(
        { room: oldest },
        'too many pool creates without a clear answer; this room may exist on Pexip unused: delete it by hand if so',
      );
    }
    this.unconfirmed.add(name);
  }

  /**
   * Looks up each pool room whose create got no clear answer, and deletes
   * it if Pexip has it. Stops at the first failure, leaving the rest for
   * the next top-up: Pexip is still failing.
   */
  private async removeUnconfirmed(): Promise<void> {
    for (const name of [...this.unconfirmed]) {
      if (this.stopping) return;
      try {
        const room = await this.pexip.findConferenceByName(name);
        if (room && room.tag === '') {
          await this.pexip.deleteConference(room.id);
          this.logger.warn(
            { room: name, id: room.id },
            'deleted a pool room whose create had no clear answer',
          );
        }
      } catch (error) {
        this.logger.warn(
          { err: error, rooms: this.unconfirmed.size },
          'pool rooms of unclear creates not checked yet; trying again on the next top-up',
        );
        return;
      }
      this.unconfirmed.delete(name);
    }
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.background.add(work);
    const forget = () => this.background.delete(work);
    work.then(forget, forget);
    return work;
  }
}
