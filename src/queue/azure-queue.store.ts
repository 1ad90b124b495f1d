import { Logger } from '@nestjs/common';
import {
  DequeuedMessageItem,
  QueueClient,
  QueueServiceClient,
  StorageRetryOptions,
} from '@azure/storage-queue';
import {
  AzureMessageEncoding,
  decodeMessage,
  encodeMessage,
} from './azure-message.codec';
import {
  POOL_QUEUE,
  QUEUE_NAMES,
  QueueCounts,
  QueueMessage,
  QueueName,
  QueueStore,
} from './queue.port';
import { assertDelaySeconds, assertReceiveArguments } from './queue.validation';

export interface AzureQueueStoreOptions {
  /** Storage account connection string (or Azurite's). */
  readonly connectionString: string;
  /** Default `text`. */
  readonly messageEncoding?: AzureMessageEncoding;
  /** Retries of every call but `ping`. */
  readonly retryOptions?: StorageRetryOptions;
  /** Retries of `ping`. */
  readonly pingRetryOptions?: StorageRetryOptions;
  /** Deadline of one call to the service, retries included. Default 15 s. */
  readonly callTimeoutMs?: number;
  /** Deadline of `ping`, retries included. Default 2 s. */
  readonly pingTimeoutMs?: number;
}

/**
 * The SDK's defaults retry four times with delays growing to two minutes;
 * a request waiting on the pool would hang that long. These retry quickly,
 * and the call deadline (`callTimeoutMs`) bounds the whole thing.
 *
 * `tryTimeoutInMs` is only passed to the service as its own time limit: the
 * SDK does not abort a try that gets no answer, which is why every call here
 * also carries an abort signal.
 */
export const DEFAULT_AZURE_RETRY_OPTIONS: StorageRetryOptions = {
  maxTries: 3,
  tryTimeoutInMs: 5_000,
  retryDelayInMs: 200,
  maxRetryDelayInMs: 2_000,
};

/** One quick retry: a readiness probe learns of a dead store in ~2 s. */
export const DEFAULT_AZURE_PING_RETRY_OPTIONS: StorageRetryOptions = {
  maxTries: 2,
  tryTimeoutInMs: 1_000,
  retryDelayInMs: 100,
  maxRetryDelayInMs: 100,
};

/** The service returns at most this many messages per receive or peek. */
const SERVICE_BATCH_LIMIT = 32;

// Azure drops a message after 7 days unless told otherwise; a ripe pool room
// or a pending deletion must not vanish silently, so messages never expire.
const NEVER_EXPIRE = -1;

/**
 * The queue store on Azure Storage Queue, shared by every replica of the
 * service and by the system it replaces during a migration.
 *
 * Counts are approximate: the total comes from the queue's approximate
 * message count, and the visible part from a peek, which the service caps at
 * 32. Below 32 visible messages `visible` is exact; from 32 on it reads 32 (a
 * lower bound) and `invisible` holds the rest of the total.
 *
 * Every call carries a deadline (15 s, retries included; 2 s for `ping`), so
 * a service that stops answering fails calls instead of holding them.
 * Bodies are written and read as plain text or base64 (see
 * `AzureMessageEncoding`).
 *
 * @example
 * const store = new AzureQueueStore({ connectionString });
 * await store.init();
 */
export class AzureQueueStore implements QueueStore {
  private readonly logger = new Logger(AzureQueueStore.name);
  private readonly encoding: AzureMessageEncoding;
  private readonly queues: ReadonlyMap<QueueName, QueueClient>;
  private readonly pingClient: QueueClient;
  private readonly callTimeoutMs: number;
  private readonly pingTimeoutMs: number;
  private closed = false;

  /**
   * @throws Error when the connection string cannot be parsed.
   */
  constructor(options: AzureQueueStoreOptions) {
    this.encoding = options.messageEncoding ?? 'text';
    this.callTimeoutMs = options.callTimeoutMs ?? 15_000;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 2_000;

    const service = QueueServiceClient.fromConnectionString(
      options.connectionString,
      { retryOptions: options.retryOptions ?? DEFAULT_AZURE_RETRY_OPTIONS },
    );
    this.queues = new Map(
      QUEUE_NAMES.map((name) => [name, service.getQueueClient(name)]),
    );

    const pingService = QueueServiceClient.fromConnectionString(
      options.connectionString,
      {
        retryOptions:
          options.pingRetryOptions ?? DEFAULT_AZURE_PING_RETRY_OPTIONS,
      },
    );
    this.pingClient = pingService.getQueueClient(POOL_QUEUE);
  }

  /** Creates both queues when missing. @throws RestError from the service. */
  async init(): Promise<void> {
    this.closed = false;

    for (const name of QUEUE_NAMES) {
      const client = this.client(name);
      const response = await this.call(`create queue ${name}`, (abortSignal) =>
        client.createIfNotExists({ abortSignal }),
      );
      if (response.succeeded) this.logger.log(`Created Azure queue ${name}`);
    }

    this.logger.log(
      'Queue store: Azure Storage Queue, account ' +
        `${this.client(POOL_QUEUE).accountName}, message encoding ` +
        this.encoding,
    );
  }

  async send(
    queue: QueueName,
    text: string,
    options: { visibilityDelaySeconds?: number } = {},
  ): Promise<QueueMessage> {
    const delaySeconds = options.visibilityDelaySeconds ?? 0;
    assertDelaySeconds('visibilityDelaySeconds', delaySeconds);
    const client = this.client(queue);

    const sent = await this.call(`send to ${queue}`, (abortSignal) =>
      client.sendMessage(encodeMessage(text, this.encoding), {
        visibilityTimeout: delaySeconds,
        messageTimeToLive: NEVER_EXPIRE,
        abortSignal,
      }),
    );
    return {
      id: sent.messageId,
      popReceipt: sent.popReceipt,
      text,
      insertedOn: sent.insertedOn,
      dequeueCount: 0,
    };
  }

  /** Loops over the service's 32-message limit until `maxMessages` or dry. */
  async receive(
    queue: QueueName,
    maxMessages: number,
    visibilityTimeoutSeconds: number,
  ): Promise<QueueMessage[]> {
    assertReceiveArguments(maxMessages, visibilityTimeoutSeconds);
    const client = this.client(queue);

    const messages: QueueMessage[] = [];
    while (messages.length < maxMessages) {
      const wanted = Math.min(
        SERVICE_BATCH_LIMIT,
        maxMessages - messages.length,
      );
      let received: DequeuedMessageItem[];
      try {
        const response = await this.call(
          `receive from ${queue}`,
          (abortSignal) =>
            client.receiveMessages({
              numberOfMessages: wanted,
              visibilityTimeout: visibilityTimeoutSeconds,
              abortSignal,
            }),
        );
        received = response.receivedMessageItems;
      } catch (error) {
        if (messages.length === 0) throw error;
        // Throwing now would hide the messages already leased until their
        // timeout for nothing: hand over what we have.
        this.logger.warn(
          `Receive from ${queue} stopped after ${messages.length} ` +
            `messages: ${(error as Error).message}`,
        );
        break;
      }

      messages.push(...received.map((item) => this.toMessage(item)));
      if (received.length < wanted) break;
    }
    return messages;
  }

  async delete(queue: QueueName, message: QueueMessage): Promise<boolean> {
    const client = this.client(queue);

    try {
      await this.call(`delete from ${queue}`, (abortSignal) =>
        client.deleteMessage(message.id, message.popReceipt, { abortSignal }),
      );
      return true;
    } catch (error) {
      if (isLostLease(error)) return false;
      throw error;
    }
  }

  async release(
    queue: QueueName,
    message: QueueMessage,
    delaySeconds = 0,
  ): Promise<QueueMessage | undefined> {
    assertDelaySeconds('delaySeconds', delaySeconds);
    const client = this.client(queue);

    try {
      // No new text: the body stays as it is on the service.
      const response = await this.call(`release on ${queue}`, (abortSignal) =>
        client.updateMessage(
          message.id,
          message.popReceipt,
          undefined,
          delaySeconds,
          { abortSignal },
        ),
      );
      if (!response.popReceipt) {
        throw new Error(`Azure returned no pop receipt for ${message.id}`);
      }
      return { ...message, popReceipt: response.popReceipt };
    } catch (error) {
      if (isLostLease(error)) return undefined;
      throw error;
    }
  }

  async clear(queue: QueueName): Promise<void> {
    const client = this.client(queue);

    await this.call(`clear ${queue}`, (abortSignal) =>
      client.clearMessages({ abortSignal }),
    );
  }

  /** See the class comment: `visible` is exact only below 32. */
  async counts(queue: QueueName): Promise<QueueCounts> {
    const client = this.client(queue);

    const [properties, peeked] = await this.call(
      `count ${queue}`,
      (abortSignal) =>
        Promise.all([
          client.getProperties({ abortSignal }),
          client.peekMessages({
            numberOfMessages: SERVICE_BATCH_LIMIT,
            abortSignal,
          }),
        ]),
    );

    // The total is approximate and may lag behind the peek.
    const visible = peeked.peekedMessageItems.length;
    const total = Math.max(properties.approximateMessagesCount ?? 0, visible);
    return { visible, invisible: total - visible };
  }

  /**
   * Reads the pool queue's properties, giving up after `pingTimeoutMs`.
   *
   * @throws RestError, a network error, or a timeout error naming the wait.
   */
  async ping(): Promise<void> {
    this.assertOpen();

    await this.call(
      'ping',
      (abortSignal) => this.pingClient.getProperties({ abortSignal }),
      this.pingTimeoutMs,
    );
  }

  /** Later calls reject; the SDK holds no handle that needs closing. */
  async close(): Promise<void> {
    this.closed = true;
  }

  private client(queue: QueueName): QueueClient {
    this.assertOpen();

    const client = this.queues.get(queue);
    if (!client) throw new RangeError(`Unknown queue ${String(queue)}`);
    return client;
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new Error('The Azure queue store is closed');
    }
  }

  /**
   * Runs one SDK call under a deadline. The SDK's own retries never stop a
   * try that gets no answer (a hung load balancer, a half-open connection):
   * only an abort signal does.
   */
  private async call<T>(
    what: string,
    run: (abortSignal: AbortSignal) => Promise<T>,
    timeoutMs = this.callTimeoutMs,
  ): Promise<T> {
    const abortSignal = AbortSignal.timeout(timeoutMs);

    try {
      return await run(abortSignal);
    } catch (error) {
      if (abortSignal.aborted) {
        throw new Error(
          `Azure Storage did not answer (${what}) within ${timeoutMs} ms`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  private toMessage(item: DequeuedMessageItem): QueueMessage {
    let text = decodeMessage(item.messageText, this.encoding);
    if (text === undefined) {
      // Refusing it would leave it to come back forever; the consumer will
      // find no room by that name and drop it.
      this.logger.warn(
        `Message ${item.messageId} is not base64 as configured ` +
          '(AZURE_QUEUE_MESSAGE_ENCODING=base64); reading it as plain text',
      );
      text = item.messageText;
    }

    return {
      id: item.messageId,
      popReceipt: item.popReceipt,
      text,
      insertedOn: item.insertedOn,
      dequeueCount: item.dequeueCount,
    };
  }
}

/**
 * The message was deleted, or received again by someone else once our
 * lease ran out: the pop receipt we hold no longer counts.
 */
function isLostLease(error: unknown): boolean {
  const code = storageErrorCode(error);
  return code === 'MessageNotFound' || code === 'PopReceiptMismatch';
}

function storageErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;

  const { code, details } = error as {
    code?: unknown;
    details?: { errorCode?: unknown };
  };
  if (typeof details?.errorCode === 'string') return details.errorCode;
  return typeof code === 'string' ? code : undefined;
}
