import {
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
} from 'prom-client';
import { AppConfig } from '../config/app-config';

/** Counts the pool reports when metrics are scraped. */
export interface PoolGaugeSource {
  (): Promise<{ available: number; ripening: number; creating: number }>;
}

/** Messages waiting on the deletion queue, visible or not. */
export interface BacklogGaugeSource {
  (): Promise<number>;
}

export type RoomDeletionReason = 'api' | 'collector' | 'delete_all';
export type CollectorOutcome = 'deleted' | 'dropped' | 'deferred' | 'failed';

/**
 * The service's Prometheus metrics, in a registry of its own so that two
 * applications in one process (as in the tests) never share counters.
 */
@Injectable()
export class MetricsService implements OnApplicationBootstrap, OnModuleDestroy {
  readonly registry = new Registry();
  private readonly logger = new Logger(MetricsService.name);
  private poolSource?: PoolGaugeSource;
  private backlogSource?: BacklogGaugeSource;
  private summaryTimer?: NodeJS.Timeout;

  readonly roomsHandedOut = new Counter({
    name: 'maxconf_rooms_handed_out_total',
    help: 'Rooms answered to POST /room/create, by where they came from.',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });

  readonly roomsCreated = new Counter({
    name: 'maxconf_rooms_created_total',
    help: 'Rooms created on Pexip, by purpose (pool or on_demand).',
    labelNames: ['purpose'] as const,
    registers: [this.registry],
  });

  readonly roomsDeleted = new Counter({
    name: 'maxconf_rooms_deleted_total',
    help: 'Rooms deleted on Pexip, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly pexipDuration = new Histogram({
    name: 'maxconf_pexip_request_duration_seconds',
    help: 'Duration of each HTTP attempt to the Pexip management API.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly pexipErrors = new Counter({
    name: 'maxconf_pexip_errors_total',
    help: 'Pexip attempts that failed: 4xx/5xx status, timeout or network error.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly collectorRuns = new Counter({
    name: 'maxconf_collector_runs_total',
    help: 'Runs of the collector, by outcome (ok or failed).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly collectorMessages = new Counter({
    name: 'maxconf_collector_messages_total',
    help: 'Deletion messages handled by the collector, by result.',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly deletionQueued = new Counter({
    name: 'maxconf_deletion_queued_total',
    help: 'Room names put on the deletion queue by the event sink.',
    registers: [this.registry],
  });

  constructor(private readonly config: AppConfig) {
    collectDefaultMetrics({ register: this.registry, prefix: 'maxconf_' });

    const poolGauge = new Gauge({
      name: 'maxconf_pool_rooms',
      help: 'Pool rooms by state: available, ripening, creating.',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect: async () => {
        const state = await this.readPool();
        if (!state) return;
        poolGauge.set({ state: 'available' }, state.available);
        poolGauge.set({ state: 'ripening' }, state.ripening);
        poolGauge.set({ state: 'creating' }, state.creating);
      },
    });
    new Gauge({
      name: 'maxconf_pool_target_rooms',
      help: 'Rooms the pool aims to keep ready.',
      registers: [this.registry],
      collect() {
        this.set(config.pool.targetSize);
      },
    });
    const backlogGauge = new Gauge({
      name: 'maxconf_deletion_backlog',
      help: 'Room names waiting on the deletion queue.',
      registers: [this.registry],
      collect: async () => {
        const backlog = await this.readBacklog();
        if (backlog !== undefined) backlogGauge.set(backlog);
      },
    });
  }

  /** Lets the pool report its counts at scrape time. */
  setPoolSource(source: PoolGaugeSource): void {
    this.poolSource = source;
  }

  /** Lets the deletion queue report its length at scrape time. */
  setBacklogSource(source: BacklogGaugeSource): void {
    this.backlogSource = source;
  }

  onApplicationBootstrap(): void {
    const seconds = this.config.metricsLogIntervalSeconds;
    if (seconds > 0) {
      this.summaryTimer = setInterval(
        () => void this.logSummary(),
        seconds * 1000,
      );
      this.summaryTimer.unref();
    }
  }

  /** Stopped first, before the queue store it reads is closed. */
  onModuleDestroy(): void {
    clearInterval(this.summaryTimer);
  }

  /** Text exposition for GET /metrics. */
  async render(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * One log line with the figures an operator checks first; replaces the
   * original service's five-minute metrics timer.
   */
  async logSummary(): Promise<void> {
    const pool = await this.readPool();
    const backlog = await this.readBacklog();
    const total = async (counter: Counter<string>) =>
      (await counter.get()).values.reduce((sum, v) => sum + v.value, 0);
    this.logger.log(
      {
        pool,
        deletionBacklog: backlog,
        roomsHandedOut: await total(this.roomsHandedOut),
        roomsCreated: await total(this.roomsCreated),
        roomsDeleted: await total(this.roomsDeleted),
        pexipErrors: await total(this.pexipErrors),
        collectorRuns: await total(this.collectorRuns),
      },
      'metrics summary',
    );
  }

  private async readPool() {
    try {
      return await this.poolSource?.();
    } catch (error) {
      this.logger.warn({ err: error }, 'pool counts unavailable for metrics');
      return undefined;
    }
  }

  private async readBacklog() {
    try {
      return await this.backlogSource?.();
    } catch (error) {
      this.logger.warn(
        { err: error },
        'deletion backlog unavailable for metrics',
      );
      return undefined;
    }
  }
}
