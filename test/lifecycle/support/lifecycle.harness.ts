import { Logger } from '@nestjs/common';
import { __resetOutOfContextForTests } from 'nestjs-pino/PinoLogger';
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
import { SINK_PASSWORD, SINK_USERNAME } from '../../support/event-sink';
import { Answer, basic, CallOptions, callService } from '../../support/http';
import { startService, TestService } from '../../support/service';
import { startTestSimulator, TestSimulator } from '../../support/simulator';

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

export interface PoolCounts {
  available: number;
  ripening: number;
  target: number;
  creating: number;
}

/** A service on one queue backend, wired to a simulator, with helpers. */
export interface LifecycleRig {
  readonly backend: QueueBackend;
  readonly pexip: TestSimulator;
  readonly service: TestService;
  /** The service's own queue store and background services. */
  readonly queue: QueueStore;
  readonly collector: CollectorService;
  readonly pool: PoolService;
  readonly metrics: MetricsService;
  /** Where Pexip's nodes post events. */
  readonly sinkUrl: string;
  call<T = any>(
    method: string,
    path: string,
    options?: CallOptions,
  ): Promise<Answer<T>>;
  /** POST /public/event_sink with the right credentials unless told. */
  sink(
    body: unknown,
    options?: { authorization?: string | null; rawBody?: string },
  ): Promise<Answer>;
  create(uuiData: string): Promise<Answer>;
  poolCounts(): Promise<PoolCounts>;
  /** Messages waiting on the deletion queue, visible or hidden. */
  deletionBacklog(): Promise<number>;
  close(): Promise<void>;
}

export interface RigOptions {
  /** Overrides of the quiet defaults of `startService`. */
  env?: Record<string, string>;
  /** A simulator shared with other rigs; closed by its owner, not here. */
  pexip?: TestSimulator;
  /** Keep the queues as they are (a second replica joining). */
  keepQueues?: boolean;
}

/**
 * Starts a simulator (unless given one) and the whole service on the given
 * backend, with event-sink credentials set and a generous rate limit.
 */
export async function startLifecycleRig(
  backend: QueueBackend,
  options: RigOptions = {},
): Promise<LifecycleRig> {
  Logger.overrideLogger(false);
  if (!options.keepQueues) await backend.clear();

  // nestjs-pino keeps the first application's logger for work done outside
  // a request (timers, runOnce) in a module-wide variable; without this a
  // later service's background logs land in an earlier service's capture.
  __resetOutOfContextForTests();

  const ownPexip = options.pexip === undefined;
  const pexip = options.pexip ?? (await startTestSimulator());
  let service: TestService;
  try {
    service = await startService({
      PEXIP_URL: pexip.url,
      EVENT_SINK_USERNAME: SINK_USERNAME,
      EVENT_SINK_PASSWORD: SINK_PASSWORD,
      RATE_LIMIT_PER_MINUTE: '100000',
      ...backend.env,
      ...options.env,
    });
  } catch (error) {
    if (ownPexip) await pexip.close();
    throw error;
  }

  const queue = service.app.get<QueueStore>(QUEUE_STORE);
  const call: LifecycleRig['call'] = (method, path, callOptions) =>
    callService(service.url, method, path, callOptions);

  return {
    backend,
    pexip,
    service,
    queue,
    collector: service.app.get(CollectorService),
    pool: service.app.get(PoolService),
    metrics: service.app.get(MetricsService),
    sinkUrl: `${service.url}/public/event_sink`,
    call,
    sink: (body, sinkOptions = {}) => {
      const authorization =
        sinkOptions.authorization === undefined
          ? basic(SINK_USERNAME, SINK_PASSWORD)
          : sinkOptions.authorization;
      return call('POST', '/public/event_sink', {
        body,
        rawBody: sinkOptions.rawBody,
        headers: authorization === null ? {} : { authorization },
      });
    },
    create: (uuiData) =>
      call('POST', `/room/create?uuiData=${encodeURIComponent(uuiData)}`),
    poolCounts: async () => (await call<PoolCounts>('GET', '/room/pool')).body,
    deletionBacklog: async () => {
      const counts = await queue.counts(DELETION_QUEUE);
      return counts.visible + counts.invisible;
    },
    async close() {
      await service.close();
      if (ownPexip) await pexip.close();
    },
  };
}
