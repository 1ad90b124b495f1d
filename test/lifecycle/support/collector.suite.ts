import { DELETION_QUEUE } from '../../../src/queue/queue.port';
import type { LoggedRequest } from '../../../simulator';
import type { SeededRoom } from '../../support/simulator';
import {
  LifecycleRig,
  QueueBackend,
  QueueBackendName,
  startLifecycleRig,
  startQueueBackend,
} from './lifecycle.harness';
import {
  conferenceEnded,
  SINK_PASSWORD,
  SINK_USERNAME,
} from '../../support/event-sink';
import {
  CONFERENCES,
  LIVE_CONFERENCES,
  roomDeletions,
} from '../../support/pexip-requests';
import { reportFigure } from '../../support/figures';
import { waitFor } from '../../support/wait';

/**
 * The collector empties the deletion queue: it reads Pexip's room list once
 * per run, drops messages for rooms that are gone, persistent or live again,
 * leaves young ones for later, and deletes the rest. Driven here by
 * `CollectorService.runOnce()`, against the real simulator.
 */

const MIN_AGE_SECONDS = 2;
const MAX_ATTEMPTS = 3;

/**
 * The collector's specification, declared inside a `describe` of the
 * caller's, against a service on the named queue backend.
 *
 * @example describe('the collector on azure', () => collectorSuite('azure'));
 */
export function collectorSuite(name: QueueBackendName): void {
  let backend: QueueBackend;
  let rig: LifecycleRig;

  beforeAll(async () => {
    backend = await startQueueBackend(name);
    rig = await startLifecycleRig(backend, {
      env: {
        GC_MIN_AGE_SECONDS: String(MIN_AGE_SECONDS),
        GC_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
        GC_BATCH_SIZE: '50',
      },
    });
  });

  afterAll(async () => {
    await rig?.close();
    await backend?.stop();
  });

  beforeEach(async () => {
    await rig.queue.clear(DELETION_QUEUE);
    await rig.pexip.control.reset();
  });

  /**
   * Queues room names as the event sink does (hidden until old enough)
   * and waits until the collector can see them all.
   */
  const queueOldEnough = async (names: string[]) => {
    for (const room of names) {
      await rig.queue.send(DELETION_QUEUE, room, {
        visibilityDelaySeconds: MIN_AGE_SECONDS,
      });
    }
    // Azure counts at most 32 visible messages and keeps time in whole
    // seconds: wait for what the count can show and for the clock.
    const allVisibleAt = Date.now() + (MIN_AGE_SECONDS + 1) * 1000;
    await waitFor(
      () => rig.queue.counts(DELETION_QUEUE),
      (counts) =>
        counts.visible >= Math.min(names.length, 32) &&
        Date.now() >= allVisibleAt,
      `${names.length} messages old enough`,
    );
  };

  const expectQueueEmpty = async () => {
    expect(await rig.queue.counts(DELETION_QUEUE)).toEqual({
      visible: 0,
      invisible: 0,
    });
  };

  it('deletes an old room, drops a gone or persistent one, and never deletes a persistent room', async () => {
    const ended = await rig.pexip.seedRoom();
    const persistent = [
      await rig.pexip.seedRoom({ name: 'test_lobby' }),
      await rig.pexip.seedRoom({ name: 'vkiosk_front-desk' }),
    ];
    await queueOldEnough([
      ended.name,
      'a-room-that-is-gone',
      ...persistent.map((room) => room.name),
    ]);
    await rig.pexip.control.clearRequests();

    const run = await rig.collector.runOnce();

    expect(run).toEqual({
      received: 4,
      deleted: 1,
      dropped: 3,
      deferred: 0,
      failed: 0,
    });
    expect(roomDeletions(await rig.pexip.control.requests())).toEqual([
      { method: 'DELETE', path: ended.resource_uri, status: 204 },
    ]);
    expect(await rig.pexip.findRoom(ended.name)).toBeUndefined();
    for (const room of persistent) {
      expect(await rig.pexip.findRoom(room.name)).toMatchObject({
        name: room.name,
      });
    }
    await expectQueueEmpty();
  });

  it('leaves a message younger than GC_MIN_AGE_SECONDS for later, then deletes the room', async () => {
    // The system this service replaces queues without a delay, so during
    // a migration the collector does see young messages.
    const room = await rig.pexip.seedRoom();
    await rig.queue.send(DELETION_QUEUE, room.name);

    const first = await rig.collector.runOnce();

    expect(first).toMatchObject({ received: 1, deferred: 1, deleted: 0 });
    expect(await rig.pexip.findRoom(room.name)).toBeDefined();
    expect(await rig.queue.counts(DELETION_QUEUE)).toEqual({
      visible: 0,
      invisible: 1,
    });
    const later = await waitFor(
      () => rig.collector.runOnce(),
      (run) => run.received > 0,
      'the message to come back',
    );
    expect(later).toEqual({
      received: 1,
      deleted: 1,
      dropped: 0,
      deferred: 0,
      failed: 0,
    });
    expect(await rig.pexip.findRoom(room.name)).toBeUndefined();
    await expectQueueEmpty();
  });

  it('does not delete a room that is live again, and deletes it once its next end is old enough', async () => {
    const room = await rig.pexip.seedRoom();
    expect((await rig.sink(conferenceEnded(room.name))).status).toBe(200);
    // Someone rejoins; when the call ends, both nodes report it to the sink.
    await rig.pexip.control.call({
      conference: room.name,
      duration_ms: 6_000,
      nodes: ['10.0.1.21', '10.0.1.22'],
      sink_url: rig.sinkUrl,
      username: SINK_USERNAME,
      password: SINK_PASSWORD,
    });
    const live = await rig.pexip.api('GET', LIVE_CONFERENCES);
    expect(live.body.objects.map((c: { name: string }) => c.name)).toEqual([
      room.name,
    ]);
    await waitFor(
      () => rig.queue.counts(DELETION_QUEUE),
      (counts) => counts.visible === 1,
      'the first end to be old enough',
    );

    const whileLive = await rig.collector.runOnce();

    expect(whileLive).toMatchObject({ received: 1, dropped: 1, deleted: 0 });
    expect(await rig.pexip.findRoom(room.name)).toBeDefined();
    await expectQueueEmpty();

    const ended = await waitFor(
      () => rig.collector.runOnce(),
      (run) => run.deleted === 1,
      'the room to be deleted after its call ended',
    );
    expect(ended).toMatchObject({ received: 1, deleted: 1 });
    expect(await rig.pexip.findRoom(room.name)).toBeUndefined();
  });

  it(`drops a deletion that keeps failing after ${MAX_ATTEMPTS} attempts, with an error naming the room`, async () => {
    const room = await rig.pexip.seedRoom();
    await rig.pexip.control.faults({
      method: 'DELETE',
      path_prefix: room.resource_uri,
      status: 500,
      times: 100,
    });
    await queueOldEnough([room.name]);
    await rig.pexip.control.clearRequests();

    const runs = [];
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      runs.push(await rig.collector.runOnce());
    }

    expect(runs).toEqual(
      Array.from({ length: MAX_ATTEMPTS }, () => ({
        received: 1,
        deleted: 0,
        dropped: 0,
        deferred: 0,
        failed: 1,
      })),
    );
    expect(await rig.collector.runOnce()).toMatchObject({ received: 0 });
    await expectQueueEmpty();
    expect(roomDeletions(await rig.pexip.control.requests())).toHaveLength(
      MAX_ATTEMPTS,
    );
    expect(await rig.pexip.findRoom(room.name)).toBeDefined();
    const errors = rig.service.logs.filter(
      (line) => line.level === 50 && line.room === room.name,
    );
    expect(errors).toEqual([
      expect.objectContaining({
        room: room.name,
        attempts: MAX_ATTEMPTS,
        msg: expect.stringMatching(/giving up/),
      }),
    ]);
  });

  it('joins a run in progress instead of starting a second one', async () => {
    const room = await rig.pexip.seedRoom();
    await queueOldEnough([room.name]);
    await rig.pexip.control.clearRequests();
    await rig.pexip.control.latency(300);

    const first = rig.collector.runOnce();
    await waitFor(
      () => rig.pexip.control.requests(),
      (requests) => requests.length > 0,
      'the first run to reach Pexip',
    );
    const second = rig.collector.runOnce();

    expect(second).toBe(first);
    expect(await second).toMatchObject({ received: 1, deleted: 1 });
    await rig.pexip.control.latency(0);
    const requests = await rig.pexip.control.requests();
    expect(requests.map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual(
      expect.arrayContaining([
        `GET ${CONFERENCES}`,
        `GET ${LIVE_CONFERENCES}`,
        `DELETE ${room.resource_uri}`,
      ]),
    );
    expect(requests).toHaveLength(3);
  });

  it('reads the room list once per run, following pagination: 50 messages, 1,200 rooms', async () => {
    const rooms = await seedRooms(rig, 1_200);
    const ended = rooms.filter((_, i) => i % 24 === 0);
    expect(ended).toHaveLength(50);
    await queueOldEnough(ended.map((room) => room.name));
    await rig.pexip.control.clearRequests();

    const run = await rig.collector.runOnce();

    expect(run).toEqual({
      received: 50,
      deleted: 50,
      dropped: 0,
      deferred: 0,
      failed: 0,
    });
    const requests = await rig.pexip.control.requests();
    const listPages = requests.filter((r) => isList(r, CONFERENCES));
    const liveLists = requests.filter((r) => isList(r, LIVE_CONFERENCES));
    const deletions = roomDeletions(requests);
    expect(listPages).toHaveLength(2);
    expect(liveLists).toHaveLength(1);
    expect(deletions.map((r) => r.path).sort()).toEqual(
      ended.map((room) => room.resource_uri).sort(),
    );
    expect(requests).toHaveLength(
      listPages.length + liveLists.length + deletions.length,
    );
    reportFigure(`Pexip calls per collector run (${name})`, {
      messages: 50,
      rooms: 1_200,
      listPages: listPages.length,
      liveLists: liveLists.length,
      deletions: deletions.length,
      total: requests.length,
    });
    expect((await rig.pexip.rooms()).length).toBe(1_150);
    await expectQueueEmpty();
  });
}

/** Seeds `count` rooms, several at a time; answers them in id order. */
async function seedRooms(
  rig: LifecycleRig,
  count: number,
): Promise<SeededRoom[]> {
  const rooms: SeededRoom[] = [];
  for (let start = 0; start < count; start += 25) {
    const batch = Array.from({ length: Math.min(25, count - start) }, () =>
      rig.pexip.seedRoom(),
    );
    rooms.push(...(await Promise.all(batch)));
  }
  return rooms.sort((a, b) => a.id - b.id);
}

function isList(request: LoggedRequest, path: string): boolean {
  return request.method === 'GET' && request.path.split('?')[0] === path;
}
