import { Logger } from '@nestjs/common';
import { QueueServiceClient } from '@azure/storage-queue';
import { AddressInfo, createServer, Socket } from 'node:net';
import { AzureQueueStore } from '../../src/queue/azure-queue.store';
import { DELETION_QUEUE, POOL_QUEUE } from '../../src/queue/queue.port';
import { AzuriteQueueService, startAzurite } from '../support/azurite';
import { queueStoreContract } from './queue-store.contract';

// Real files, processes and servers on a shared 2-core machine: be patient.
jest.setTimeout(30_000);

describe('AzureQueueStore against Azurite', () => {
  let azurite: AzuriteQueueService;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    azurite = await startAzurite();
  });

  afterAll(() => azurite?.stop());

  const openStore = async () => {
    const store = new AzureQueueStore({
      connectionString: azurite.connectionString,
    });
    await store.init();
    return store;
  };

  describe('queue store contract', () => {
    queueStoreContract(openStore);
  });

  describe('on the service', () => {
    const rawQueue = (name: string) =>
      QueueServiceClient.fromConnectionString(
        azurite.connectionString,
      ).getQueueClient(name);

    beforeEach(async () => {
      const store = await openStore();
      await store.clear(POOL_QUEUE);
      await store.clear(DELETION_QUEUE);
    });

    it('creates both queues under their contract names', async () => {
      const names: string[] = [];
      const service = QueueServiceClient.fromConnectionString(
        azurite.connectionString,
      );
      for await (const queue of service.listQueues()) names.push(queue.name);

      expect(names).toEqual(
        expect.arrayContaining(['room-creation-queue', 'room-deletion-queue']),
      );
    });

    it('sends messages that never expire', async () => {
      const store = await openStore();

      await store.send(POOL_QUEUE, 'room-a');
      const { peekedMessageItems } = await rawQueue(POOL_QUEUE).peekMessages();

      // Azure's sign for "never": the greatest date it can write.
      expect(peekedMessageItems[0].expiresOn.getUTCFullYear()).toBe(9999);
    });

    it('writes base64 bodies when asked, as Azure Functions bindings do', async () => {
      const store = new AzureQueueStore({
        connectionString: azurite.connectionString,
        messageEncoding: 'base64',
      });
      await store.init();

      await store.send(DELETION_QUEUE, 'salle-é');
      const { peekedMessageItems } =
        await rawQueue(DELETION_QUEUE).peekMessages();
      const [message] = await store.receive(DELETION_QUEUE, 1, 30);

      expect(peekedMessageItems[0].messageText).toBe('c2FsbGUtw6k=');
      expect(message.text).toBe('salle-é');
    });

    it('reads a body another writer left in base64, such as an Azure Function', async () => {
      await rawQueue(DELETION_QUEUE).sendMessage(
        Buffer.from('q3nB0_xYk-2mLw9aZc4TgQ').toString('base64'),
      );
      const store = new AzureQueueStore({
        connectionString: azurite.connectionString,
        messageEncoding: 'base64',
      });

      const [message] = await store.receive(DELETION_QUEUE, 1, 30);

      expect(message.text).toBe('q3nB0_xYk-2mLw9aZc4TgQ');
    });

    it('reads a plain-text body as it is when base64 is configured', async () => {
      await rawQueue(DELETION_QUEUE).sendMessage('q3nB0_xYk-2mLw9aZc4TgQ');
      const store = new AzureQueueStore({
        connectionString: azurite.connectionString,
        messageEncoding: 'base64',
      });

      const [message] = await store.receive(DELETION_QUEUE, 1, 30);

      expect(message.text).toBe('q3nB0_xYk-2mLw9aZc4TgQ');
    });

    it('reports visible messages up to 32 and the rest as invisible', async () => {
      const store = await openStore();
      for (let i = 0; i < 40; i++) await store.send(POOL_QUEUE, `room-${i}`);

      expect(await store.counts(POOL_QUEUE)).toEqual({
        visible: 32,
        invisible: 8,
      });
    });
  });

  describe('when the service goes away', () => {
    it('fails a ping within a few seconds', async () => {
      const doomed = await startAzurite();
      const store = new AzureQueueStore({
        connectionString: doomed.connectionString,
      });
      await store.init();
      await expect(store.ping()).resolves.toBeUndefined();

      await doomed.stop();
      const start = Date.now();
      const failure = await store.ping().then(
        () => undefined,
        (error: unknown) => error,
      );

      expect(failure).toBeInstanceOf(Error);
      // Timing is the behaviour here: the bound is generous on purpose.
      expect(Date.now() - start).toBeLessThan(5_000);
    });

    it('fails a ping within a few seconds when the service accepts but never answers', async () => {
      const sockets = new Set<Socket>();
      const silent = createServer((socket) => sockets.add(socket));
      await new Promise<void>((resolve) =>
        silent.listen(0, '127.0.0.1', resolve),
      );
      const { port } = silent.address() as AddressInfo;
      const store = new AzureQueueStore({
        connectionString: azurite.connectionString.replace(
          /QueueEndpoint=http:\/\/127\.0\.0\.1:\d+/,
          `QueueEndpoint=http://127.0.0.1:${port}`,
        ),
      });

      const start = Date.now();
      const failure = await store.ping().then(
        () => undefined,
        (error: unknown) => error,
      );
      const elapsed = Date.now() - start;
      sockets.forEach((socket) => socket.destroy());
      await new Promise((resolve) => silent.close(resolve));

      expect((failure as Error).message).toBe(
        'Azure Storage did not answer (ping) within 2000 ms',
      );
      expect(sockets.size).toBeGreaterThanOrEqual(1);
      expect(elapsed).toBeLessThan(5_000);
    });
  });
});
