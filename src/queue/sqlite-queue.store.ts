import { Logger } from '@nestjs/common';
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { QueueCounts, QueueMessage, QueueName, QueueStore } from './queue.port';
import { assertDelaySeconds, assertReceiveArguments } from './queue.validation';

export interface SqliteQueueStoreOptions {
  /** Database file, its folder created when missing; `:memory:` in tests. */
  readonly path: string;
  /** Current time in milliseconds since the epoch. Tests pass a fake clock. */
  readonly now?: () => number;
  /** How long a call waits for another connection holding the write lock. */
  readonly busyTimeoutMs?: number;
}

interface MessageRow {
  readonly seq: number;
  readonly body: string;
  readonly inserted_at: number;
  readonly dequeue_count: number;
  readonly pop_receipt: string;
}

/** A change waiting for the next commit, and the caller waiting on it. */
interface PendingChange {
  readonly apply: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

interface CountsRow {
  readonly total: number;
  readonly visible: number | null;
}

const SCHEMA_VERSION = 1;

// One table holds both queues. `visible_at` is when a message may next be
// received: its send time plus the send delay, then the end of each lease.
// The AUTOINCREMENT keeps ids from being reused after a clear, so a caller
// holding an old message can never delete a new one by accident.
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS queue_message (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    body TEXT NOT NULL,
    inserted_at INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    dequeue_count INTEGER NOT NULL DEFAULT 0,
    pop_receipt TEXT
  );
  CREATE INDEX IF NOT EXISTS queue_message_next
    ON queue_message (queue, visible_at);
`;

/**
 * Picks the next visible messages of a queue, in the order Azure (and
 * Azurite) picks them: by the time a message became visible, then by
 * insertion. Every SQLite index ends with the rowid (`seq`), so the index
 * above is already in that order: one seek and a short walk, never a sort,
 * however many messages wait.
 */
export const PICK_VISIBLE_SQL = `
  SELECT seq FROM queue_message
  WHERE queue = @queue AND visible_at <= @now
  ORDER BY visible_at, seq
  LIMIT @limit
`;

// A fresh random receipt on every lease: whoever holds an older one has lost
// the message and must not be able to delete or release it.
const NEW_RECEIPT = 'lower(hex(randomblob(12)))';

const RETURNED_COLUMNS = 'seq, body, inserted_at, dequeue_count, pop_receipt';

/**
 * The embedded queue store: both queues in one SQLite file, for a single
 * instance of the service. A send is on disk (WAL, synchronous=FULL) before
 * its promise resolves, so a crash of the process loses nothing accepted.
 * Every change runs in a write transaction, which also makes it safe for two
 * processes to share the file: they never receive the same message.
 *
 * better-sqlite3 is synchronous: a commit holds the event loop for one disk
 * flush (about 0.2 to 5 ms on an ordinary disk), and for up to
 * `busyTimeoutMs` while another process holds the write lock. So changes are
 * committed in groups: every change asked for in one turn of the event loop
 * runs in one write transaction, each in its own savepoint (one that fails
 * leaves the others applied), and costs one flush between them. Under load
 * the groups grow by themselves: while one flush blocks, the next requests
 * queue up and share the following one. A promise still settles only once
 * its change is committed. That suits the few hundred changes a second this
 * service makes; it is why one instance, not a fleet, sits on this store.
 *
 * @example
 * const store = new SqliteQueueStore({ path: './data/maxconf.db' });
 * await store.init();
 */
export class SqliteQueueStore implements QueueStore {
  private readonly logger = new Logger(SqliteQueueStore.name);
  private readonly path: string;
  private readonly now: () => number;
  private readonly busyTimeoutMs: number;
  private pending: PendingChange[] = [];
  private opened?: {
    readonly db: Database.Database;
    /**
     * Applies a group of changes in one write transaction and collects,
     * per change, how to settle its caller once the commit succeeded.
     */
    readonly commit: Database.Transaction<
      (group: PendingChange[], settle: (() => void)[]) => void
    >;
    readonly send: Database.Statement;
    readonly receive: Database.Statement<[Record<string, unknown>], MessageRow>;
    readonly delete: Database.Statement;
    readonly release: Database.Statement;
    readonly clear: Database.Statement;
    readonly counts: Database.Statement;
    readonly ping: Database.Statement;
  };

  constructor(options: SqliteQueueStoreOptions) {
    this.path = options.path;
    this.now = options.now ?? Date.now;
    this.busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
  }

  /**
   * Opens the file (creating it and its folder) and the table.
   *
   * @throws SqliteError when the file cannot be opened or is not a database.
   */
  async init(): Promise<void> {
    if (this.opened) return;

    const inMemory = this.path === ':memory:';
    if (!inMemory) mkdirSync(dirname(resolve(this.path)), { recursive: true });
    const db = new Database(this.path);

    try {
      db.pragma('journal_mode = WAL');
      // FULL flushes the WAL on every commit: a resolved send survives a
      // power cut, not only a crash of the process.
      db.pragma('synchronous = FULL');
      db.pragma(`busy_timeout = ${Math.floor(this.busyTimeoutMs)}`);
      db.exec(SCHEMA);
      this.checkSchemaVersion(db);
      this.opened = this.prepare(db);
    } catch (error) {
      db.close();
      throw error;
    }

    const where = inMemory ? 'in memory' : `file ${resolve(this.path)}`;
    this.logger.log(`Queue store: SQLite ${where}`);
  }

  async send(
    queue: QueueName,
    text: string,
    options: { visibilityDelaySeconds?: number } = {},
  ): Promise<QueueMessage> {
    const delaySeconds = options.visibilityDelaySeconds ?? 0;
    assertDelaySeconds('visibilityDelaySeconds', delaySeconds);
    const { send } = this.open();

    const now = this.now();
    const row = await this.change(
      () =>
        send.get({
          queue,
          body: text,
          now,
          visibleAt: now + delaySeconds * 1000,
        }) as MessageRow,
    );
    return toMessage(row);
  }

  async receive(
    queue: QueueName,
    maxMessages: number,
    visibilityTimeoutSeconds: number,
  ): Promise<QueueMessage[]> {
    assertReceiveArguments(maxMessages, visibilityTimeoutSeconds);
    const { receive } = this.open();

    const now = this.now();
    const rows = await this.change(() =>
      receive.all({
        queue,
        now,
        limit: maxMessages,
        until: now + visibilityTimeoutSeconds * 1000,
      }),
    );

    // RETURNING promises no order. Which messages were picked follows
    // visibility; within the batch, hand them out oldest inserted first.
    return rows.sort((a, b) => a.seq - b.seq).map(toMessage);
  }

  async delete(queue: QueueName, message: QueueMessage): Promise<boolean> {
    const { delete: remove } = this.open();

    const params = {
      queue,
      seq: toSeq(message.id),
      receipt: message.popReceipt,
    };
    const result = await this.change(() => remove.run(params));
    return result.changes > 0;
  }

  async release(
    queue: QueueName,
    message: QueueMessage,
    delaySeconds = 0,
  ): Promise<QueueMessage | undefined> {
    assertDelaySeconds('delaySeconds', delaySeconds);
    const { release } = this.open();

    const params = {
      queue,
      seq: toSeq(message.id),
      receipt: message.popReceipt,
      until: this.now() + delaySeconds * 1000,
    };
    const row = (await this.change(() => release.get(params))) as
      MessageRow | undefined;
    return row && toMessage(row);
  }

  async clear(queue: QueueName): Promise<void> {
    const { clear } = this.open();
    await this.change(() => clear.run({ queue }));
  }

  /** Exact counts, read in one snapshot. */
  async counts(queue: QueueName): Promise<QueueCounts> {
    const row = this.open().counts.get({ queue, now: this.now() }) as CountsRow;

    const visible = row.visible ?? 0;
    return { visible, invisible: row.total - visible };
  }

  /** @throws Error when the store is closed or the file became unreadable. */
  async ping(): Promise<void> {
    this.open().ping.get();
  }

  /**
   * Commits what is still waiting, then closes the file. Later calls
   * reject; `init` opens it again.
   */
  async close(): Promise<void> {
    this.commitPending();
    const opened = this.opened;
    this.opened = undefined;
    opened?.db.close();
  }

  /**
   * Queues a change for the group commit at the end of this turn of the
   * event loop, and settles with its result once that commit is on disk.
   */
  private change<T>(apply: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({
        apply,
        resolve: resolve as (value: unknown) => void,
        reject,
      });
      if (this.pending.length === 1) {
        setImmediate(() => this.commitPending());
      }
    });
  }

  private commitPending(): void {
    const group = this.pending;
    if (group.length === 0) return;
    this.pending = [];

    // BEGIN IMMEDIATE takes the write lock before reading, so two
    // processes on one file cannot both pick the same message.
    const settle: (() => void)[] = [];
    try {
      this.open().commit.immediate(group, settle);
    } catch (error) {
      // The commit itself failed (disk full, lock held past the busy
      // timeout, store closed): nothing of the group was kept.
      for (const change of group) change.reject(error);
      return;
    }
    for (const settleOne of settle) settleOne();
  }

  private open(): NonNullable<SqliteQueueStore['opened']> {
    if (!this.opened) {
      throw new Error(
        'The SQLite queue store is not open: call init() first, and no ' +
          'call after close()',
      );
    }
    return this.opened;
  }

  private checkSchemaVersion(db: Database.Database): void {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version === 0) {
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      return;
    }
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `${this.path} was written by a newer version of this service ` +
          `(schema ${version}, this one knows ${SCHEMA_VERSION}); ` +
          'run that version or point SQLITE_PATH at another file',
      );
    }
  }

  private prepare(
    db: Database.Database,
  ): NonNullable<SqliteQueueStore['opened']> {
    // Nested in the group's transaction, each change gets a savepoint: one
    // that throws is rolled back alone.
    const applyOne = db.transaction((change: PendingChange) => change.apply());
    const commit = db.transaction(
      (group: PendingChange[], settle: (() => void)[]) => {
        for (const change of group) {
          try {
            const value = applyOne(change);
            settle.push(() => change.resolve(value));
          } catch (error) {
            settle.push(() => change.reject(error));
          }
        }
      },
    );

    const receive = db.prepare<[Record<string, unknown>], MessageRow>(`
      UPDATE queue_message
      SET visible_at = @until,
          pop_receipt = ${NEW_RECEIPT},
          dequeue_count = dequeue_count + 1
      WHERE seq IN (${PICK_VISIBLE_SQL})
      RETURNING ${RETURNED_COLUMNS}
    `);

    return {
      db,
      commit,
      send: db.prepare(`
        INSERT INTO queue_message
          (queue, body, inserted_at, visible_at, pop_receipt)
        VALUES (@queue, @body, @now, @visibleAt, ${NEW_RECEIPT})
        RETURNING ${RETURNED_COLUMNS}
      `),
      receive,
      delete: db.prepare(`
        DELETE FROM queue_message
        WHERE seq = @seq AND queue = @queue AND pop_receipt = @receipt
      `),
      release: db.prepare(`
        UPDATE queue_message
        SET visible_at = @until, pop_receipt = ${NEW_RECEIPT}
        WHERE seq = @seq AND queue = @queue AND pop_receipt = @receipt
        RETURNING ${RETURNED_COLUMNS}
      `),
      clear: db.prepare('DELETE FROM queue_message WHERE queue = @queue'),
      counts: db.prepare(`
        SELECT count(*) AS total, sum(visible_at <= @now) AS visible
        FROM queue_message WHERE queue = @queue
      `),
      ping: db.prepare('SELECT 1'),
    };
  }
}

function toMessage(row: MessageRow): QueueMessage {
  return {
    id: String(row.seq),
    popReceipt: row.pop_receipt,
    text: row.body,
    insertedOn: new Date(row.inserted_at),
    dequeueCount: row.dequeue_count,
  };
}

/** A foreign id (say, from the other backend) matches no row. */
function toSeq(id: string): number {
  return /^\d{1,15}$/.test(id) ? Number(id) : -1;
}
