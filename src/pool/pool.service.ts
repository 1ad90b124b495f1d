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
import {
  POOL_QUEUE,
  QUEUE_STORE,
  QueueMessage,
  QueueStore,
} from '../queue/queue.port';
import { PexipError } from '../pexip/pexip.errors';
import { RoomFactory } from './room-factory.service';
import { newRoomName } from './room-recipe';

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
 *
 * The message is sent before the room is made, not after. A room Pexip has
 * but no queue knows of would never be handed out nor deleted; a message
 * whose room never came to be costs one look-up when it surfaces, and the
 * hand-out drops it. So a crash between the two steps, or a create whose
 * outcome is unknown, leaves nothing behind; a create that definitely
 * failed takes its message back at once.
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

  constructor(
    private readonly config: AppConfig,
    @Inject(QUEUE_STORE) private readonly queue: QueueStore,
    private readonly factory: RoomFactory,
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
      this.createMany(count, this.config.pexip.maxConcurrency).then(
        ({ created, failed }) =>
          this.logger.log({ count, created, failed }, 'bulk create finished'),
      ),
    );
  }

  private async refillToTarget(): Promise<void> {
    let missing: number;
    try {
      // Rooms being made are already on the queue, counted as ripening.
      const state = await this.state();
      missing = state.target - state.available - state.ripening;
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

  /**
   * Queues a new name, then makes its room. The entry stays hidden at
   * least until the create must have ended, so no hand-out can take the
   * name of a room still being made; once the room exists the entry's
   * delay is set to the ripening delay. When Pexip definitely did not make
   * the room, the entry is taken back; when the outcome is unknown it
   * stays, and the hand-out finds out.
   */
  private async createPoolRoom(): Promise<void> {
    this.creating++;
    try {
      const name = newRoomName();
      const started = Date.now();
      const { ripenSeconds } = this.config.pool;
      const intent = await this.queue.send(POOL_QUEUE, name, {
        visibilityDelaySeconds: Math.max(ripenSeconds, this.createSeconds),
      });

      try {
        await this.factory.create('', 'pool', name);
      } catch (error) {
        if (error instanceof PexipError && error.outcomeUnknown) {
          this.logger.warn(
            { err: error, room: name },
            'pool room may or may not exist on Pexip; its queue entry stays for the hand-out to check',
          );
        } else {
          await this.queue.delete(POOL_QUEUE, intent).catch(() => undefined);
        }
        throw error;
      }

      if (ripenSeconds < this.createSeconds) {
        const elapsed = Math.floor((Date.now() - started) / 1000);
        await this.queue
          .release(POOL_QUEUE, intent, Math.max(0, ripenSeconds - elapsed))
          .catch(() => undefined);
      }
    } catch (error) {
      this.logger.warn({ err: error }, 'pool room not created');
      throw error;
    } finally {
      this.creating--;
    }
  }

  /**
   * The longest a pool room's creation can take: the room and its
   * automatic participant, each a POST and possibly a look-up, each
   * within one call budget.
   */
  private get createSeconds(): number {
    return (
      Math.ceil((4 * callBudgetMs(this.config.pexip.timeoutMs)) / 1000) + 5
    );
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.background.add(work);
    const forget = () => this.background.delete(work);
    work.then(forget, forget);
    return work;
  }
}
