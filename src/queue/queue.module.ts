import {
  Global,
  Inject,
  Logger,
  Module,
  OnApplicationShutdown,
} from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { AppConfig } from '../config/app-config';
import { AzureQueueStore } from './azure-queue.store';
import { QueueHealthIndicator } from './queue.health';
import { QUEUE_STORE, QueueStore } from './queue.port';
import { SqliteQueueStore } from './sqlite-queue.store';

/**
 * Builds the store the configuration names and opens it. Consumers receive
 * it ready: the queues exist before any of them can send or receive.
 *
 * @throws Error when the backend is `azure` without a connection string, or
 *   when the store cannot be opened (the application then does not start).
 */
export async function openQueueStore(config: AppConfig): Promise<QueueStore> {
  const store = createQueueStore(config);
  await store.init();
  return store;
}

function createQueueStore(config: AppConfig): QueueStore {
  const { backend, sqlitePath, azureConnectionString, azureMessageEncoding } =
    config.queue;

  if (backend === 'sqlite') {
    return new SqliteQueueStore({ path: sqlitePath });
  }

  if (!azureConnectionString) {
    throw new Error(
      'QUEUE_BACKEND=azure needs AZURE_STORAGE_CONNECTION_STRING',
    );
  }
  return new AzureQueueStore({
    connectionString: azureConnectionString,
    messageEncoding: azureMessageEncoding,
  });
}

/**
 * Provides `QUEUE_STORE` (the backend chosen by `QUEUE_BACKEND`) and its
 * health indicator to the whole application.
 *
 * The store closes in `onApplicationShutdown`, after every module's
 * `onModuleDestroy` and `beforeApplicationShutdown`: stop timers and drain
 * work that uses the queues in those hooks.
 */
@Global()
@Module({
  providers: [
    {
      provide: QUEUE_STORE,
      inject: [AppConfig],
      useFactory: openQueueStore,
    },
    // Its only need is terminus's stateless helper; importing
    // TerminusModule here would start a second copy of its shutdown hooks.
    HealthIndicatorService,
    QueueHealthIndicator,
  ],
  exports: [QUEUE_STORE, QueueHealthIndicator],
})
export class QueueModule implements OnApplicationShutdown {
  private readonly logger = new Logger(QueueModule.name);

  constructor(@Inject(QUEUE_STORE) private readonly store: QueueStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
    this.logger.log('Queue store closed');
  }
}
