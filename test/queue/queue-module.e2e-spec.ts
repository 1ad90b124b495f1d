import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/app-config';
import { ConfigModule } from '../../src/config/config.module';
import { AzureQueueStore } from '../../src/queue/azure-queue.store';
import { QueueHealthIndicator } from '../../src/queue/queue.health';
import { QueueModule } from '../../src/queue/queue.module';
import {
  POOL_QUEUE,
  QUEUE_STORE,
  QueueStore,
} from '../../src/queue/queue.port';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue.store';
import { AzuriteQueueService, startAzurite } from '../support/azurite';

// Real files, processes and servers on a shared 2-core machine: be patient.
jest.setTimeout(30_000);

async function startQueueModule(env: Record<string, string>) {
  const moduleRef = await Test.createTestingModule({
    imports: [ConfigModule.register(loadConfig(env)), QueueModule],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

describe('QueueModule', () => {
  let dir: string;

  beforeAll(() => {
    Logger.overrideLogger(false);
    dir = mkdtempSync(join(tmpdir(), 'queue-module-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('provides an open SQLite store by default and closes it on shutdown', async () => {
    const path = join(dir, 'data', 'maxconf.db');
    const app = await startQueueModule({ SQLITE_PATH: path });
    const store = app.get<QueueStore>(QUEUE_STORE);

    expect(store).toBeInstanceOf(SqliteQueueStore);
    await store.send(POOL_QUEUE, 'room-a');
    expect(await store.counts(POOL_QUEUE)).toEqual({
      visible: 1,
      invisible: 0,
    });

    await app.close();

    await expect(store.ping()).rejects.toThrow(/not open/);
  });

  it('reports the store up, then down once it is closed', async () => {
    const app = await startQueueModule({
      SQLITE_PATH: join(dir, 'health.db'),
    });
    const health = app.get(QueueHealthIndicator);

    expect(await health.isHealthy('queue')).toEqual({
      queue: { status: 'up' },
    });
    await app.get<QueueStore>(QUEUE_STORE).close();
    expect(await health.isHealthy('queue')).toEqual({
      queue: {
        status: 'down',
        message: expect.stringMatching(/not open/),
      },
    });

    await app.close();
  });

  describe('with QUEUE_BACKEND=azure', () => {
    let azurite: AzuriteQueueService;

    beforeAll(async () => {
      azurite = await startAzurite();
    });

    afterAll(() => azurite?.stop());

    it('provides an Azure store whose queues already exist', async () => {
      const app = await startQueueModule({
        QUEUE_BACKEND: 'azure',
        AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
      });
      const store = app.get<QueueStore>(QUEUE_STORE);

      expect(store).toBeInstanceOf(AzureQueueStore);
      await store.send(POOL_QUEUE, 'room-a');
      const [message] = await store.receive(POOL_QUEUE, 1, 30);
      expect(message.text).toBe('room-a');
      expect(await app.get(QueueHealthIndicator).isHealthy('queue')).toEqual({
        queue: { status: 'up' },
      });

      await app.close();
    });

    it('refuses to start when the Azure store does not answer', async () => {
      const doomed = await startAzurite();
      const connectionString = doomed.connectionString;
      await doomed.stop();

      await expect(
        startQueueModule({
          QUEUE_BACKEND: 'azure',
          AZURE_STORAGE_CONNECTION_STRING: connectionString,
        }),
      ).rejects.toThrow(/ECONNREFUSED/);
    });
  });
});
