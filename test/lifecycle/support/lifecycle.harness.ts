import { Logger } from '@nestjs/common';
import { CollectorService } from '../../../src/cleanup/collector.service';
import { MetricsService } from '../../../src/metrics/metrics.service';
import { PoolService } from '../../../src/pool/pool.service';
import { AzureQueueStore } from '../../../src/queue/azure-queue.store';
import {
  DELETION_QUEUE,
  POOL_QUEUE,
  QUEUE_STORE,
  QueueStore,
} from '../../../src/queue/queue.port';
import { AzuriteQueueService, startAzurite } from '../../support/azurite';
import { ServiceRig, startServiceRig } from '../../support/service-rig';
import type { TestSimulator } from '../../support/simulator';

export type QueueBackendName = 'sqlite' | 'azure';
export const QUEUE_BACKENDS: readonly QueueBackendName[] = ['sqlite', 'azure'];

/** One queue backend for the services of a test file. */
export interface QueueBackend {
  readonly name: QueueBackendName;
  /**
   * Variables that point a service at this backend. SQLite needs none:
   * `startService` gives every service a fresh file of its own.
   */
  readonly env: Readonly<Record<string, string>>;
  /** Empties both queues; Azurite's are shared by every service of a file. */
  clear(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts what a backend needs: nothing for SQLite, a private Azurite for
 * Azure.
 *
 * @example
 * const backend = await startQueueBackend('azure');
 * const rig = await startLifecycleRig(backend);
 */
export async function startQueueBackend(
  name: QueueBackendName,
): Promise<QueueBackend> {
  if (name === 'sqlite') {
    return {
      name,
      env: { QUEUE_BACKEND: 'sqlite' },
      clear: async () => undefined,
      stop: async () => undefined,
    };
  }

  const azurite: AzuriteQueueService = await startAzurite();
  const env = {
    QUEUE_BACKEND: 'azure',
    AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
  };
  return {
    name,
    env,
    async clear() {
      const store = new AzureQueueStore({
        connectionString: azurite.connectionString,
      });
      await store.init();
      await store.clear(POOL_QUEUE);
      await store.clear(DELETION_QUEUE);
      await store.close();
    },
    stop: () => azurite.stop(),
  };
}

/** A service on one queue backend, wired to a simulator, with helpers. */
export interface LifecycleRig extends ServiceRig {
  readonly backend: QueueBackend;
  /** The service's own queue store and background services. */
  readonly queue: QueueStore;
  readonly collector: CollectorService;
  readonly pool: PoolService;
  readonly metrics: MetricsService;
  /** Messages waiting on the deletion queue, visible or hidden. */
  deletionBacklog(): Promise<number>;
}

export interface RigOptions {
  /** Overrides of the defaults of `startServiceRig`. */
  env?: Record<string, string>;
  /** A simulator shared with other rigs; closed by its owner, not here. */
  pexip?: TestSimulator;
  /** Keep the queues as they are (a second replica joining). */
  keepQueues?: boolean;
}

/**
 * Starts a simulator (unless given one) and the whole service on the given
 * backend, with event-sink credentials set and a rate limit that never
 * bites.
 */
export async function startLifecycleRig(
  backend: QueueBackend,
  options: RigOptions = {},
): Promise<LifecycleRig> {
  Logger.overrideLogger(false);
  if (!options.keepQueues) await backend.clear();

  const rig = await startServiceRig(
    { ...backend.env, ...options.env },
    options.pexip,
  );
  const { app } = rig.service;
  const queue = app.get<QueueStore>(QUEUE_STORE);

  return {
    ...rig,
    backend,
    queue,
    collector: app.get(CollectorService),
    pool: app.get(PoolService),
    metrics: app.get(MetricsService),
    deletionBacklog: async () => {
      const counts = await queue.counts(DELETION_QUEUE);
      return counts.visible + counts.invisible;
    },
  };
}
