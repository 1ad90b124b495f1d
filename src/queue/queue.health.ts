import { Inject, Injectable } from '@nestjs/common';
import {
  HealthIndicatorResult,
  HealthIndicatorService,
} from '@nestjs/terminus';
import { QUEUE_STORE, QueueStore } from './queue.port';

/** How long a readiness probe waits for the queue store. */
export const QUEUE_PING_TIMEOUT_MS = 2_000;

/**
 * Terminus indicator for the queue store: up when it answers a ping within
 * two seconds, down with the reason otherwise.
 *
 * @example
 * this.health.check([() => this.queueHealth.isHealthy('queue')]);
 */
@Injectable()
export class QueueHealthIndicator {
  constructor(
    private readonly healthIndicatorService: HealthIndicatorService,
    @Inject(QUEUE_STORE) private readonly store: QueueStore,
  ) {}

  /**
   * Pings the store.
   *
   * @param key the name of this check in the health report.
   * @returns `{ [key]: { status: 'up' } }`, or `'down'` with a `message`.
   */
  async isHealthy(key: string): Promise<HealthIndicatorResult> {
    const indicator = this.healthIndicatorService.check(key);

    try {
      await withTimeout(this.store.ping(), QUEUE_PING_TIMEOUT_MS);
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: describe(error) });
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  const late = new Error(`the queue store did not answer within ${ms} ms`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
