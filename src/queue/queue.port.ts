/**
 * The queue store: the two durable queues of the service, with the semantics
 * of Azure Storage Queue so that either backend can stand behind it.
 *
 * - A message is invisible for `visibilityDelaySeconds` after it is sent
 *   (the pool uses this to let a new room ripen).
 * - `receive` hides the messages it returns for `visibilityTimeoutSeconds`
 *   and counts a dequeue; a message not deleted in that time comes back.
 * - `delete` needs the message exactly as `receive` (or `release`) gave it.
 *
 * Messages are at-least-once: a consumer must tolerate seeing one twice.
 *
 * Delays and timeouts are whole seconds within Azure's limits (0 to 7 days;
 * a receive's timeout at least 1 s). Every store rejects other values with a
 * RangeError, so code that works on one backend works on the other.
 */

export const QUEUE_STORE = Symbol('QUEUE_STORE');

/** Ready rooms, oldest first. Each message body is a room name. */
export const POOL_QUEUE = 'room-creation-queue';
/** Rooms whose conference ended. Each message body is a room name. */
export const DELETION_QUEUE = 'room-deletion-queue';

export type QueueName = typeof POOL_QUEUE | typeof DELETION_QUEUE;
export const QUEUE_NAMES: readonly QueueName[] = [POOL_QUEUE, DELETION_QUEUE];

export interface QueueMessage {
  readonly id: string;
  /** Proof of the current lease; changes on every receive and release. */
  readonly popReceipt: string;
  readonly text: string;
  readonly insertedOn: Date;
  /** How many times the message has been received, this time included. */
  readonly dequeueCount: number;
}

export interface QueueCounts {
  /** Messages a receive could return now. */
  readonly visible: number;
  /** Messages hidden by a send delay or a lease. */
  readonly invisible: number;
}

export interface QueueStore {
  /** Creates the queues when missing. Called once at start-up. */
  init(): Promise<void>;

  /**
   * Adds a message; durable once the promise resolves.
   * @param options.visibilityDelaySeconds hide it this long first (default 0).
   * @returns the message with a receipt that lets the sender delete it
   *   again, even while it is still hidden (until someone receives it).
   */
  send(
    queue: QueueName,
    text: string,
    options?: { visibilityDelaySeconds?: number },
  ): Promise<QueueMessage>;

  /**
   * Takes up to `maxMessages` visible messages, oldest first where the
   * backend can tell, and hides them for `visibilityTimeoutSeconds`.
   */
  receive(
    queue: QueueName,
    maxMessages: number,
    visibilityTimeoutSeconds: number,
  ): Promise<QueueMessage[]>;

  /**
   * Removes a received message. A stale pop receipt (the lease expired and
   * someone else took the message) is not an error: resolves to false.
   */
  delete(queue: QueueName, message: QueueMessage): Promise<boolean>;

  /**
   * Gives a received message back, visible again after `delaySeconds`
   * (default 0). Resolves to the message with its new receipt, or undefined
   * when the lease was already lost.
   */
  release(
    queue: QueueName,
    message: QueueMessage,
    delaySeconds?: number,
  ): Promise<QueueMessage | undefined>;

  /** Removes every message of the queue. */
  clear(queue: QueueName): Promise<void>;

  /** Approximate counts; exact for SQLite. */
  counts(queue: QueueName): Promise<QueueCounts>;

  /** Resolves when the store answers; rejects with the cause otherwise. */
  ping(): Promise<void>;

  /** Releases connections and file handles. */
  close(): Promise<void>;
}
