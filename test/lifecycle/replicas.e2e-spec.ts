import { startTestSimulator, TestSimulator } from '../support/simulator';
import {
  LifecycleRig,
  QueueBackend,
  startLifecycleRig,
  startQueueBackend,
} from './support/lifecycle.harness';
import { conferenceEnded } from '../support/event-sink';
import { reportFigure } from '../support/figures';
import { roomDeletions } from '../support/pexip-requests';
import { tagFor, uuiFor } from '../support/uui';
import { waitFor } from '../support/wait';

/**
 * Two replicas of the service share one Azure Storage Queue account (here
 * Azurite) and one Pexip. The queues alone keep them from stepping on each
 * other: a pool room goes to one citizen only, and an ended room is
 * deleted once.
 */

jest.setTimeout(60_000);

const POOL_ROOMS = 100;
const CREATES_PER_REPLICA = 40;

describe('two replicas on one Azurite and one Pexip', () => {
  let backend: QueueBackend;
  let pexip: TestSimulator;
  let replicas: LifecycleRig[] = [];
  /** Room name → the tag its create asked for. */
  const handedOut = new Map<string, string>();

  beforeAll(async () => {
    backend = await startQueueBackend('azure');
    pexip = await startTestSimulator();
    const env = { GC_MIN_AGE_SECONDS: '1', GC_BATCH_SIZE: '20' };
    replicas = [
      await startLifecycleRig(backend, { pexip, env }),
      await startLifecycleRig(backend, { pexip, env, keepQueues: true }),
    ];
  });

  afterAll(async () => {
    for (const replica of replicas) await replica.close();
    await pexip?.close();
    await backend?.stop();
  });

  it(`hands out each pool room once: 2 × ${CREATES_PER_REPLICA} creates at once, ${POOL_ROOMS} ripe rooms`, async () => {
    const [a, b] = replicas;
    expect(
      (await a.call('POST', `/room/bulk-create?count=${POOL_ROOMS}`)).status,
    ).toBe(202);
    await waitFor(
      () => b.poolState(),
      (s) => s.creating === 0 && s.available + s.ripening === POOL_ROOMS,
      `${POOL_ROOMS} pool rooms`,
      30_000,
    );
    await waitFor(
      () => a.poolState(),
      (s) => s.creating === 0,
      'the bulk create to finish',
    );
    await pexip.control.clearRequests();

    const requests = replicas.flatMap((replica, r) =>
      Array.from({ length: CREATES_PER_REPLICA }, (_, i) => {
        const videoCallId = `replica${r}-call${i}`;
        return { replica, videoCallId, tag: tagFor('id', videoCallId) };
      }),
    );
    const answers = await Promise.all(
      requests.map(({ replica, videoCallId }) =>
        replica.create(uuiFor('id', videoCallId)),
      ),
    );

    expect(answers.map((answer) => answer.status)).toEqual(
      requests.map(() => 200),
    );
    answers.forEach((answer, i) => {
      expect(answer.body.tag).toBe(requests[i].tag);
      handedOut.set(answer.body.name, requests[i].tag);
    });
    const names = answers.map((answer) => answer.body.name as string);
    expect(handedOut.size).toBe(names.length);

    const rooms = await a.pexip.rooms();
    const tagged = rooms.filter((room) => room.tag !== '');
    expect(rooms).toHaveLength(POOL_ROOMS);
    expect(tagged).toHaveLength(names.length);
    for (const room of tagged) {
      expect(handedOut.get(room.name)).toBe(room.tag);
    }
    const fromPool = await Promise.all(
      replicas.map(
        async (replica) => (await replica.metrics.roomsHandedOut.get()).values,
      ),
    );
    const bySource = (source: string) =>
      fromPool
        .flat()
        .filter((sample) => sample.labels.source === source)
        .reduce((sum, sample) => sum + sample.value, 0);
    expect(bySource('pool')).toBe(names.length);
    expect(bySource('on_demand')).toBe(0);
    expect(await a.poolState()).toMatchObject({
      available: POOL_ROOMS - names.length,
    });
    reportFigure('replicas: concurrent creates', {
      creates: answers.length,
      ok: answers.filter((answer) => answer.status === 200).length,
      distinctRooms: handedOut.size,
      taggedOnPexip: tagged.length,
      poolLeft: POOL_ROOMS - tagged.length,
    });
  });

  it('deletes each ended room once while both collectors run at once', async () => {
    expect(handedOut.size).toBe(2 * CREATES_PER_REPLICA);
    const [a, b] = replicas;
    // Each conferencing node posts to whichever replica the load balancer
    // picks: every end reaches both, so the queue holds two copies.
    await Promise.all(
      [...handedOut.keys()].flatMap((room) => [
        a.sink(conferenceEnded(room, '10.0.1.21')),
        b.sink(conferenceEnded(room, '10.0.1.22')),
      ]),
    ).then((answers) =>
      expect(answers.every((answer) => answer.status === 200)).toBe(true),
    );
    const queued = await a.deletionBacklog();
    await pexip.control.clearRequests();

    const runs: { received: number; deleted: number; dropped: number }[] = [];
    await waitFor(
      async () => {
        runs.push(
          ...(await Promise.all(replicas.map((r) => r.collector.runOnce()))),
        );
        return a.deletionBacklog();
      },
      (backlog) => backlog === 0,
      'both collectors to empty the deletion queue',
      30_000,
    );

    const deletions = roomDeletions(await pexip.control.requests());
    const byPath = new Map<string, (number | null)[]>();
    for (const request of deletions) {
      byPath.set(request.path, [
        ...(byPath.get(request.path) ?? []),
        request.status,
      ]);
    }
    const twice = [...byPath.values()].filter(
      (statuses) => statuses.length > 1,
    );
    reportFigure('replicas: collectors at once', {
      endsPosted: 2 * handedOut.size,
      messagesQueued: queued,
      collectorRuns: runs.length,
      messagesHandled: runs.reduce((sum, run) => sum + run.received, 0),
      deletedReported: runs.reduce((sum, run) => sum + run.deleted, 0),
      deleteRequests: deletions.length,
      roomsDeleted: byPath.size,
      roomsDeletedTwice: twice.length,
      secondDeleteStatuses: twice.map((statuses) => statuses.slice(1)).flat(),
    });
    expect(byPath.size).toBe(handedOut.size);
    for (const statuses of byPath.values()) {
      expect(statuses.filter((status) => status === 204)).toHaveLength(1);
      expect(statuses.slice(1).every((status) => status === 404)).toBe(true);
    }
    expect(runs.reduce((sum, run) => sum + run.deleted, 0)).toBe(
      handedOut.size,
    );
    const left = await a.pexip.rooms();
    expect(left).toHaveLength(POOL_ROOMS - handedOut.size);
    expect(left.every((room) => room.tag === '')).toBe(true);
  });
});
