import { Logger } from '@nestjs/common';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DELETION_QUEUE, POOL_QUEUE } from '../../src/queue/queue.port';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue.store';
import { queueStoreContract } from './queue-store.contract';

// Real files, processes and servers on a shared 2-core machine: be patient.
jest.setTimeout(30_000);

const CHILD = join(__dirname, 'sqlite-queue.child.ts');

describe('SqliteQueueStore on a real file', () => {
  let dir: string;
  let path: string;

  beforeAll(() => {
    Logger.overrideLogger(false);
    dir = mkdtempSync(join(tmpdir(), 'sqlite-queue-e2e-'));
    path = join(dir, 'data', 'maxconf.db');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const openStore = async () => {
    const store = new SqliteQueueStore({ path });
    await store.init();
    return store;
  };

  describe('queue store contract', () => {
    queueStoreContract(openStore);
  });

  describe('durability', () => {
    let store: SqliteQueueStore;

    beforeEach(async () => {
      store = await openStore();
      await store.clear(POOL_QUEUE);
      await store.clear(DELETION_QUEUE);
    });

    afterEach(() => store.close());

    it('keeps every message, delay and lease across close and reopen', async () => {
      await store.send(POOL_QUEUE, 'ready');
      await store.send(POOL_QUEUE, 'ripening', { visibilityDelaySeconds: 300 });
      await store.send(DELETION_QUEUE, 'ended');
      const [leased] = await store.receive(DELETION_QUEUE, 1, 300);
      await store.close();

      store = await openStore();

      expect(await store.counts(POOL_QUEUE)).toEqual({
        visible: 1,
        invisible: 1,
      });
      expect(await store.counts(DELETION_QUEUE)).toEqual({
        visible: 0,
        invisible: 1,
      });
      expect(await store.delete(DELETION_QUEUE, leased)).toBe(true);
    });

    it('loses no acknowledged send when the process is killed with SIGKILL', async () => {
      const child = startChild('send', path);
      const acknowledged: string[] = [];

      for await (const line of lines(child)) {
        if (line.startsWith('sent ')) acknowledged.push(line.slice(5));
        if (acknowledged.length >= 300) break;
      }
      child.kill('SIGKILL');
      await exited(child);

      const survivors = await store.receive(POOL_QUEUE, 100_000, 300);
      const texts = new Set(survivors.map((m) => m.text));
      expect(acknowledged.filter((text) => !texts.has(text))).toEqual([]);
      expect(survivors.length).toBeGreaterThanOrEqual(300);
    });
  });

  describe('two processes on one file', () => {
    it('never hands the same message to both', async () => {
      const store = await openStore();
      await store.clear(DELETION_QUEUE);
      const names = Array.from({ length: 1000 }, (_, i) => `room-${i}`);
      for (const name of names) await store.send(DELETION_QUEUE, name);
      const child = startChild('drain', path);
      const childLines = lines(child);
      expect((await childLines.next()).value).toBe('ready');

      child.stdin?.write('go\n');
      const mine: string[] = [];
      for (;;) {
        const batch = await store.receive(DELETION_QUEUE, 3, 300);
        if (batch.length === 0) break;
        mine.push(...batch.map((m) => m.id));
        // SQLite's lock wait backs off by sleeping, so a loop that never
        // pauses would starve the other process instead of racing it.
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const theirs = JSON.parse((await childLines.next()).value) as string[];
      await exited(child);
      await store.close();

      const all = [...mine, ...theirs];
      expect(new Set(all).size).toBe(1000);
      expect(all).toHaveLength(1000);
      expect(mine.length).toBeGreaterThan(0);
      expect(theirs.length).toBeGreaterThan(0);
    });
  });
});

function startChild(mode: 'send' | 'drain', path: string): ChildProcess {
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', CHILD, mode, path],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  return child;
}

function lines(child: ChildProcess): AsyncIterableIterator<string> {
  return createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve();
  }
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
