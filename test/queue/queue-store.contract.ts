import {
  DELETION_QUEUE,
  POOL_QUEUE,
  QueueMessage,
  QueueName,
  QueueStore,
} from '../../src/queue/queue.port';

/**
 * What every queue store must do, whatever stands behind it. Each backend's
 * e2e spec calls this inside its own `describe`, once its backing service is
 * up.
 *
 * @param openStore opens a new, initialised store on the same backing queues
 *   every time it is called (two stores must see the same messages).
 */
export function queueStoreContract(openStore: () => Promise<QueueStore>): void {
  const opened: QueueStore[] = [];
  let store: QueueStore;

  const open = async () => {
    const next = await openStore();
    opened.push(next);
    return next;
  };

  beforeEach(async () => {
    store = await open();
    await store.clear(POOL_QUEUE);
    await store.clear(DELETION_QUEUE);
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  it('receives a sent message with its text, insertion time and a first dequeue', async () => {
    const before = Date.now();
    await store.send(POOL_QUEUE, 'room-a');
    const after = Date.now();

    const [message, ...others] = await store.receive(POOL_QUEUE, 10, 30);

    expect(others).toEqual([]);
    expect(message).toEqual({
      id: expect.any(String),
      popReceipt: expect.any(String),
      text: 'room-a',
      insertedOn: expect.any(Date),
      dequeueCount: 1,
    });
    // Azure keeps whole seconds.
    expect(message.insertedOn.getTime()).toBeGreaterThanOrEqual(
      Math.floor(before / 1000) * 1000,
    );
    expect(message.insertedOn.getTime()).toBeLessThanOrEqual(after);
  });

  it('lets the sender delete a message it sent, even while it is hidden', async () => {
    const sent = await store.send(POOL_QUEUE, 'room-a', {
      visibilityDelaySeconds: 60,
    });

    expect(sent).toEqual({
      id: expect.any(String),
      popReceipt: expect.any(String),
      text: 'room-a',
      insertedOn: expect.any(Date),
      dequeueCount: 0,
    });
    expect(await store.delete(POOL_QUEUE, sent)).toBe(true);
    expect(await store.counts(POOL_QUEUE)).toEqual({
      visible: 0,
      invisible: 0,
    });
  });

  it("refuses the sender's receipt once someone has received the message", async () => {
    const sent = await store.send(POOL_QUEUE, 'room-a');
    const [received] = await store.receive(POOL_QUEUE, 1, 30);

    expect(received.text).toBe('room-a');
    expect(await store.delete(POOL_QUEUE, sent)).toBe(false);
    expect(await store.delete(POOL_QUEUE, received)).toBe(true);
  });

  it('forgets a message once it is deleted', async () => {
    await store.send(DELETION_QUEUE, 'room-a');
    const [message] = await store.receive(DELETION_QUEUE, 1, 30);

    expect(await store.delete(DELETION_QUEUE, message)).toBe(true);
    expect(await store.counts(DELETION_QUEUE)).toEqual({
      visible: 0,
      invisible: 0,
    });
    expect(await store.delete(DELETION_QUEUE, message)).toBe(false);
  });

  it('hands messages out oldest first', async () => {
    for (const name of ['a', 'b', 'c', 'd']) await store.send(POOL_QUEUE, name);

    const [first] = await store.receive(POOL_QUEUE, 1, 30);
    const rest = await store.receive(POOL_QUEUE, 3, 30);

    expect([first, ...rest].map((m) => m.text)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('keeps the two queues apart', async () => {
    await store.send(POOL_QUEUE, 'ready-room');
    await store.send(DELETION_QUEUE, 'ended-room');

    const pool = await store.receive(POOL_QUEUE, 10, 30);
    const deletion = await store.receive(DELETION_QUEUE, 10, 30);

    expect(pool.map((m) => m.text)).toEqual(['ready-room']);
    expect(deletion.map((m) => m.text)).toEqual(['ended-room']);
  });

  it('keeps text with markup, quotes and non-ASCII characters intact', async () => {
    const text = `<room name="a&b">'é—✓'</room>`;
    await store.send(POOL_QUEUE, text);

    const [message] = await store.receive(POOL_QUEUE, 1, 30);

    expect(message.text).toBe(text);
  });

  it('hides a delayed message until its delay has passed', async () => {
    const start = Date.now();
    await store.send(POOL_QUEUE, 'ripening', { visibilityDelaySeconds: 1 });

    expect(await store.receive(POOL_QUEUE, 1, 30)).toEqual([]);
    expect(await store.counts(POOL_QUEUE)).toEqual({
      visible: 0,
      invisible: 1,
    });
    const message = await receiveOneWithin(store, POOL_QUEUE, 10_000);

    expect(message.text).toBe('ripening');
    expect(Date.now() - start).toBeGreaterThanOrEqual(900);
  });

  it('returns an undeleted message after the visibility timeout, counting the second dequeue', async () => {
    await store.send(DELETION_QUEUE, 'room-a');
    const [first] = await store.receive(DELETION_QUEUE, 1, 1);

    expect(await store.receive(DELETION_QUEUE, 1, 1)).toEqual([]);
    const second = await receiveOneWithin(store, DELETION_QUEUE, 10_000, 30);

    expect(second.id).toBe(first.id);
    expect(second.text).toBe('room-a');
    expect(second.dequeueCount).toBe(2);
    expect(second.insertedOn).toEqual(first.insertedOn);
  });

  it('refuses a delete with a stale receipt once someone else holds the message', async () => {
    await store.send(DELETION_QUEUE, 'room-a');
    const [stale] = await store.receive(DELETION_QUEUE, 1, 1);
    const current = await receiveOneWithin(store, DELETION_QUEUE, 10_000, 30);

    expect(current.popReceipt).not.toBe(stale.popReceipt);
    expect(await store.delete(DELETION_QUEUE, stale)).toBe(false);
    expect(await store.counts(DELETION_QUEUE)).toEqual({
      visible: 0,
      invisible: 1,
    });
    expect(await store.delete(DELETION_QUEUE, current)).toBe(true);
  });

  it('makes a released message visible at once under a new receipt', async () => {
    await store.send(POOL_QUEUE, 'room-a');
    const [taken] = await store.receive(POOL_QUEUE, 1, 300);

    const released = await store.release(POOL_QUEUE, taken);
    const [again] = await store.receive(POOL_QUEUE, 1, 300);

    expect(released).toEqual({ ...taken, popReceipt: expect.any(String) });
    expect(released?.popReceipt).not.toBe(taken.popReceipt);
    expect(again.id).toBe(taken.id);
    expect(again.dequeueCount).toBe(2);
    expect(await store.delete(POOL_QUEUE, taken)).toBe(false);
    expect(await store.delete(POOL_QUEUE, again)).toBe(true);
  });

  it('accepts a delete with the receipt that release returned', async () => {
    await store.send(POOL_QUEUE, 'room-a');
    const [taken] = await store.receive(POOL_QUEUE, 1, 300);

    const released = await store.release(POOL_QUEUE, taken, 300);

    expect(await store.delete(POOL_QUEUE, released!)).toBe(true);
    expect(await store.counts(POOL_QUEUE)).toEqual({
      visible: 0,
      invisible: 0,
    });
  });

  it('hides a message released with a delay for that long', async () => {
    await store.send(POOL_QUEUE, 'room-a');
    const [taken] = await store.receive(POOL_QUEUE, 1, 1);

    await store.release(POOL_QUEUE, taken, 300);
    await sleep(1_500);

    expect(await store.receive(POOL_QUEUE, 1, 30)).toEqual([]);
    expect(await store.counts(POOL_QUEUE)).toEqual({
      visible: 0,
      invisible: 1,
    });
  });

  it('gives nothing back when releasing a message already deleted', async () => {
    await store.send(POOL_QUEUE, 'room-a');
    const [taken] = await store.receive(POOL_QUEUE, 1, 30);
    await store.delete(POOL_QUEUE, taken);

    expect(await store.release(POOL_QUEUE, taken)).toBeUndefined();
  });

  it('returns more than 32 messages in one receive, each once, oldest first', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `room-${i}`);
    for (const name of names) await store.send(DELETION_QUEUE, name);

    const messages = await store.receive(DELETION_QUEUE, 45, 30);

    expect(messages.map((m) => m.text)).toEqual(names);
    expect(new Set(messages.map((m) => m.id)).size).toBe(40);
  });

  it('returns at most maxMessages', async () => {
    for (const name of ['a', 'b', 'c']) await store.send(POOL_QUEUE, name);

    const messages = await store.receive(POOL_QUEUE, 2, 30);

    expect(messages.map((m) => m.text)).toEqual(['a', 'b']);
    expect(await store.counts(POOL_QUEUE)).toEqual({
      visible: 1,
      invisible: 2,
    });
  });

  it('clears every message of one queue, hidden ones included, and no other', async () => {
    await store.send(POOL_QUEUE, 'visible');
    await store.send(POOL_QUEUE, 'ripening', { visibilityDelaySeconds: 300 });
    await store.send(POOL_QUEUE, 'leased');
    await store.receive(POOL_QUEUE, 1, 300);
    await store.send(DELETION_QUEUE, 'ended');

    await store.clear(POOL_QUEUE);

    expect(await store.counts(POOL_QUEUE)).toEqual({
      visible: 0,
      invisible: 0,
    });
    expect(await store.receive(POOL_QUEUE, 10, 30)).toEqual([]);
    expect(await store.counts(DELETION_QUEUE)).toEqual({
      visible: 1,
      invisible: 0,
    });
  });

  it('counts visible messages apart from delayed and leased ones', async () => {
    for (const name of ['a', 'b', 'c']) await store.send(POOL_QUEUE, name);
    await store.send(POOL_QUEUE, 'd', { visibilityDelaySeconds: 300 });
    await store.send(POOL_QUEUE, 'e', { visibilityDelaySeconds: 300 });

    expect(await store.counts(POOL_QUEUE)).toEqual({
      visible: 3,
      invisible: 2,
    });
    await store.receive(POOL_QUEUE, 1, 300);
    expect(await store.counts(POOL_QUEUE)).toEqual({
      visible: 2,
      invisible: 3,
    });
  });

  it('never gives one message to two receivers racing on the same queue', async () => {
    const names = Array.from({ length: 200 }, (_, i) => `room-${i}`);
    await Promise.all(names.map((name) => store.send(POOL_QUEUE, name)));
    const other = await open();

    const [mine, theirs] = await Promise.all([
      drain(store, POOL_QUEUE),
      drain(other, POOL_QUEUE),
    ]);
    const all = [...mine, ...theirs];

    expect(all).toHaveLength(200);
    expect(new Set(all.map((m) => m.id)).size).toBe(200);
    expect(all.map((m) => m.text).sort()).toEqual([...names].sort());
  });

  it('refuses arguments outside what Azure accepts', async () => {
    await expect(store.receive(POOL_QUEUE, 0, 30)).rejects.toThrow(RangeError);
    await expect(store.receive(POOL_QUEUE, 1, 0)).rejects.toThrow(RangeError);
    await expect(
      store.send(POOL_QUEUE, 'x', { visibilityDelaySeconds: -1 }),
    ).rejects.toThrow(RangeError);
    await expect(
      store.send(POOL_QUEUE, 'x', { visibilityDelaySeconds: 8 * 24 * 3600 }),
    ).rejects.toThrow(RangeError);

    expect(await store.counts(POOL_QUEUE)).toEqual({
      visible: 0,
      invisible: 0,
    });
  });

  it('answers a ping while open and rejects every call once closed', async () => {
    await expect(store.ping()).resolves.toBeUndefined();

    await store.close();

    await expect(store.ping()).rejects.toThrow();
    await expect(store.send(POOL_QUEUE, 'late')).rejects.toThrow();
  });
}

/** Receives until the queue gives nothing more, in small batches. */
async function drain(
  store: QueueStore,
  queue: QueueName,
): Promise<QueueMessage[]> {
  const taken: QueueMessage[] = [];
  for (;;) {
    const batch = await store.receive(queue, 7, 300);
    if (batch.length === 0) return taken;
    taken.push(...batch);
  }
}

/** Polls until one message shows up; fails after `withinMs`. */
async function receiveOneWithin(
  store: QueueStore,
  queue: QueueName,
  withinMs: number,
  visibilityTimeoutSeconds = 30,
): Promise<QueueMessage> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    const [message] = await store.receive(queue, 1, visibilityTimeoutSeconds);
    if (message) return message;
    await sleep(100);
  }
  throw new Error(`no message on ${queue} within ${withinMs} ms`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
