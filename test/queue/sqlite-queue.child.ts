/**
 * A second process for the SQLite store's e2e tests, run with ts-node:
 *
 * - `send <path>`: sends `msg-0`, `msg-1`, … to the pool queue forever and
 *   prints `sent <text>` once each send has resolved, until it is killed.
 * - `drain <path>`: prints `ready`, waits for a line on stdin, receives from
 *   the deletion queue until it is empty, then prints the ids it got as JSON.
 */
import { Logger } from '@nestjs/common';
import { once } from 'node:events';
import { DELETION_QUEUE, POOL_QUEUE } from '../../src/queue/queue.port';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue.store';

async function main(mode: string, path: string): Promise<void> {
  Logger.overrideLogger(false);
  const store = new SqliteQueueStore({ path });
  await store.init();

  if (mode === 'send') {
    for (let i = 0; ; i++) {
      await store.send(POOL_QUEUE, `msg-${i}`);
      process.stdout.write(`sent msg-${i}\n`);
    }
  }

  process.stdout.write('ready\n');
  await once(process.stdin, 'data');
  const ids: string[] = [];
  for (;;) {
    const batch = await store.receive(DELETION_QUEUE, 3, 300);
    if (batch.length === 0) break;
    ids.push(...batch.map((m) => m.id));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await store.close();
  process.stdout.write(`${JSON.stringify(ids)}\n`);
  process.exit(0);
}

main(process.argv[2], process.argv[3]).catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
