/**
 * Measures the SQLite queue store on this machine: sends per second, and
 * receive-then-delete per second the way the pool (one at a time) and the
 * collector (batches) use it, on an empty table and beside 100,000 hidden
 * messages. Prints numbers; asserts nothing.
 *
 *   npx ts-node --transpile-only test/queue/sqlite-queue-throughput.ts [dir]
 *
 * `dir` (default: the system temp folder) decides which disk is measured:
 * every change waits for a flush to it.
 */
import { Logger } from '@nestjs/common';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DELETION_QUEUE, POOL_QUEUE } from '../../src/queue/queue.port';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue.store';

const MESSAGES = 3_000;
const HIDDEN = 100_000;

async function main(): Promise<void> {
  Logger.overrideLogger(false);
  const dir = mkdtempSync(join(process.argv[2] ?? tmpdir(), 'queue-bench-'));
  const path = join(dir, 'bench.db');
  const store = new SqliteQueueStore({ path });
  await store.init();

  try {
    await measure(store, 'empty table');
    await store.close();
    addHiddenMessages(path, HIDDEN);
    await store.init();
    await measure(store, `beside ${HIDDEN} hidden messages`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(store: SqliteQueueStore, label: string) {
  const sendRate = await rate(MESSAGES, async () => {
    for (let i = 0; i < MESSAGES; i++) {
      await store.send(POOL_QUEUE, `room-${i}`);
    }
  });

  const oneAtATime = await rate(MESSAGES, async () => {
    for (let i = 0; i < MESSAGES; i++) {
      const [message] = await store.receive(POOL_QUEUE, 1, 60);
      await store.delete(POOL_QUEUE, message);
    }
  });

  for (let i = 0; i < MESSAGES; i++) {
    await store.send(DELETION_QUEUE, `room-${i}`);
  }
  const batched = await rate(MESSAGES, async () => {
    for (;;) {
      const batch = await store.receive(DELETION_QUEUE, 20, 60);
      if (batch.length === 0) break;
      for (const message of batch) await store.delete(DELETION_QUEUE, message);
    }
  });

  console.log(`SQLite queue store, ${label}:`);
  console.log(`  send                          ${sendRate} messages/s`);
  console.log(`  receive 1 + delete            ${oneAtATime} messages/s`);
  console.log(`  receive 20 + delete each      ${batched} messages/s`);
}

/** Ripening pool rooms, written in one transaction to save time. */
function addHiddenMessages(path: string, count: number): void {
  const db = new Database(path);
  const insert = db.prepare(
    'INSERT INTO queue_message (queue, body, inserted_at, visible_at) ' +
      'VALUES (?, ?, ?, ?)',
  );
  const later = Date.now() + 86_400_000;
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      insert.run(POOL_QUEUE, `hidden-${i}`, Date.now(), later);
    }
  })();
  db.close();
}

async function rate(count: number, run: () => Promise<void>) {
  const start = process.hrtime.bigint();
  await run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return Math.round(count / seconds);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
