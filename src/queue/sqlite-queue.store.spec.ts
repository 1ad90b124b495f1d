import { Logger } from '@nestjs/common';
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DELETION_QUEUE, POOL_QUEUE } from './queue.port';
import { PICK_VISIBLE_SQL, SqliteQueueStore } from './sqlite-queue.store';

describe('SqliteQueueStore', () => {
  let clock: number;
  let store: SqliteQueueStore;
  let dir: string;

  beforeAll(() => Logger.overrideLogger(false));

  beforeEach(async () => {
    clock = Date.UTC(2030, 0, 1);
    dir = mkdtempSync(join(tmpdir(), 'sqlite-queue-'));
    store = new SqliteQueueStore({ path: ':memory:', now: () => clock });
    await store.init();
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const advance = (seconds: number) => {
    clock += seconds * 1000;
  };

  it('hides a delayed message until the exact millisecond its delay ends', async () => {
    await store.send(POOL_QUEUE, 'room-a', { visibilityDelaySeconds: 90 });

    clock += 89_999;
    expect(await store.receive(POOL_QUEUE, 1, 30)).toEqual([]);
    clock += 1;
    const [message] = await store.receive(POOL_QUEUE, 1, 30);

    expect(message.text).toBe('room-a');
    expect(message.insertedOn).toEqual(new Date(clock - 90_000));
  });

  it('returns an undeleted message when its lease ends, with a new receipt and one more dequeue', async () => {
    await store.send(DELETION_QUEUE, 'room-a');
    const [first] = await store.receive(DELETION_QUEUE, 1, 60);

    advance(59);
    expect(await store.receive(DELETION_QUEUE, 1, 60)).toEqual([]);
    advance(1);
    const [second] = await store.receive(DELETION_QUEUE, 1, 60);

    expect(second.id).toBe(first.id);
    expect(second.dequeueCount).toBe(2);
    expect(second.popReceipt).not.toBe(first.popReceipt);
    expect(await store.delete(DELETION_QUEUE, first)).toBe(false);
    expect(await store.delete(DELETION_QUEUE, second)).toBe(true);
  });

  it('keeps the dequeue count and insertion time on release', async () => {
    await store.send(POOL_QUEUE, 'room-a');
    const [taken] = await store.receive(POOL_QUEUE, 1, 60);
    advance(5);

    const released = await store.release(POOL_QUEUE, taken, 10);

    expect(released).toEqual({
      ...taken,
      popReceipt: expect.any(String),
    });
    expect(released?.popReceipt).not.toBe(taken.popReceipt);
    advance(9);
    expect(await store.counts(POOL_QUEUE)).toEqual({
      visible: 0,
      invisible: 1,
    });
    advance(1);
    expect(await store.counts(POOL_QUEUE)).toEqual({
      visible: 1,
      invisible: 0,
    });
  });

  it('counts ripening, leased and visible messages exactly', async () => {
    await store.send(POOL_QUEUE, 'ripe-1');
    await store.send(POOL_QUEUE, 'ripe-2');
    await store.send(POOL_QUEUE, 'ripe-3');
    await store.send(POOL_QUEUE, 'ripening', { visibilityDelaySeconds: 90 });
    await store.send(DELETION_QUEUE, 'ended');
    await store.receive(POOL_QUEUE, 1, 60);

    expect(await store.counts(POOL_QUEUE)).toEqual({
      visible: 2,
      invisible: 2,
    });
    expect(await store.counts(DELETION_QUEUE)).toEqual({
      visible: 1,
      invisible: 0,
    });
  });

  it('picks the messages visible longest, and returns a batch oldest inserted first', async () => {
    await store.send(POOL_QUEUE, 'a');
    await store.send(POOL_QUEUE, 'b');
    const [a] = await store.receive(POOL_QUEUE, 1, 60);
    advance(1);
    await store.release(POOL_QUEUE, a);
    await store.send(POOL_QUEUE, 'c');

    const [first] = await store.receive(POOL_QUEUE, 1, 60);
    const rest = await store.receive(POOL_QUEUE, 2, 60);

    expect(first.text).toBe('b');
    expect(rest.map((m) => m.text)).toEqual(['a', 'c']);
  });

  it('treats an id it never issued as a lost lease', async () => {
    await store.send(POOL_QUEUE, 'room-a');
    const [message] = await store.receive(POOL_QUEUE, 1, 60);
    const foreign = { ...message, id: '3f0c1a52-7d8e-4c1b-9b7a-0d9e1f2a3b4c' };

    expect(await store.delete(POOL_QUEUE, foreign)).toBe(false);
    expect(await store.release(POOL_QUEUE, foreign)).toBeUndefined();
    expect(await store.delete(DELETION_QUEUE, message)).toBe(false);
    expect(await store.delete(POOL_QUEUE, message)).toBe(true);
  });

  it('applies changes asked for in one turn in the order asked', async () => {
    await store.send(POOL_QUEUE, 'a');
    const [a] = await store.receive(POOL_QUEUE, 1, 60);

    const [, , deleted, again, taken] = await Promise.all([
      store.send(POOL_QUEUE, 'b'),
      store.send(POOL_QUEUE, 'c'),
      store.delete(POOL_QUEUE, a),
      store.delete(POOL_QUEUE, a),
      store.receive(POOL_QUEUE, 5, 60),
    ]);

    expect(deleted).toBe(true);
    expect(again).toBe(false);
    expect(taken.map((m) => m.text)).toEqual(['b', 'c']);
  });

  it('keeps the other changes of a turn when one of them fails', async () => {
    const results = await Promise.allSettled([
      store.send(POOL_QUEUE, 'before'),
      // A body SQLite refuses (NOT NULL) stands for any failing change.
      store.send(POOL_QUEUE, null as unknown as string),
      store.send(POOL_QUEUE, 'after'),
    ]);

    expect(results.map((r) => r.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    const kept = await store.receive(POOL_QUEUE, 5, 60);
    expect(kept.map((m) => m.text)).toEqual(['before', 'after']);
  });

  it('commits changes still waiting when it is closed', async () => {
    const path = join(dir, 'close.db');
    const fileStore = new SqliteQueueStore({ path });
    await fileStore.init();

    const sent = fileStore.send(POOL_QUEUE, 'last-words');
    await fileStore.close();
    await sent;

    const reopened = new SqliteQueueStore({ path });
    await reopened.init();
    const [message] = await reopened.receive(POOL_QUEUE, 1, 60);
    await reopened.close();
    expect(message.text).toBe('last-words');
  });

  it('rejects every call before init and after close, naming the fix', async () => {
    const closed = new SqliteQueueStore({ path: ':memory:' });

    await expect(closed.ping()).rejects.toThrow(/call init\(\) first/);
    await store.close();
    await expect(store.send(POOL_QUEUE, 'x')).rejects.toThrow(
      /call init\(\) first/,
    );
  });

  it('refuses delays and timeouts Azure would refuse', async () => {
    await expect(
      store.send(POOL_QUEUE, 'x', { visibilityDelaySeconds: 1.5 }),
    ).rejects.toThrow(RangeError);
    await expect(store.receive(POOL_QUEUE, 0, 30)).rejects.toThrow(RangeError);
    await expect(store.receive(POOL_QUEUE, 1, 0)).rejects.toThrow(RangeError);
    await expect(
      store.receive(POOL_QUEUE, 1, 7 * 24 * 3600 + 1),
    ).rejects.toThrow(RangeError);
    expect(await store.counts(POOL_QUEUE)).toEqual({
      visible: 0,
      invisible: 0,
    });
  });

  describe('on a file', () => {
    it('creates the missing folder and a database in WAL mode', async () => {
      const path = join(dir, 'nested', 'deeper', 'queue.db');
      const fileStore = new SqliteQueueStore({ path });

      await fileStore.init();
      const db = new Database(path, { readonly: true });
      const journal = db.pragma('journal_mode', { simple: true });
      db.close();
      await fileStore.close();

      expect(existsSync(path)).toBe(true);
      expect(journal).toBe('wal');
    });

    it('finds the next visible message with one index seek and no sort', async () => {
      const path = join(dir, 'plan.db');
      const fileStore = new SqliteQueueStore({ path });
      await fileStore.init();
      await fileStore.close();

      const db = new Database(path, { readonly: true });
      const plan = db
        .prepare(`EXPLAIN QUERY PLAN ${PICK_VISIBLE_SQL}`)
        .all({ queue: POOL_QUEUE, now: 0, limit: 1 }) as { detail: string }[];
      db.close();

      expect(plan.map((step) => step.detail)).toEqual([
        'SEARCH queue_message USING COVERING INDEX queue_message_next ' +
          '(queue=? AND visible_at<?)',
      ]);
    });

    it('refuses a file written by a newer schema', async () => {
      const path = join(dir, 'newer.db');
      const db = new Database(path);
      db.pragma('user_version = 99');
      db.close();

      await expect(new SqliteQueueStore({ path }).init()).rejects.toThrow(
        /newer version of this service \(schema 99/,
      );
    });
  });
});
