import {
  LifecycleRig,
  QUEUE_BACKENDS,
  QueueBackend,
  startLifecycleRig,
  startQueueBackend,
} from './support/lifecycle.harness';
import {
  CONFERENCES,
  LIVE_CONFERENCES,
  roomDeletions,
} from '../support/pexip-requests';
import { SINK_PASSWORD, SINK_USERNAME } from '../support/event-sink';
import { tagFor, uuiFor } from '../support/uui';
import { waitFor } from '../support/wait';

/**
 * A room's whole life, with every timer running and shortened by
 * configuration: handed out from the pool, a call in it, the end reported
 * by two conferencing nodes, deleted by the collector's own timer once the
 * end is old enough, and the pool back at its target.
 */

jest.setTimeout(45_000);

const POOL_TARGET = 3;
const MIN_AGE_SECONDS = 2;

describe.each(QUEUE_BACKENDS)(
  'a room from hand-out to deletion on %s',
  (name) => {
    let backend: QueueBackend;
    let rig: LifecycleRig;

    beforeAll(async () => {
      backend = await startQueueBackend(name);
      rig = await startLifecycleRig(backend, {
        env: {
          POOL_TARGET_SIZE: String(POOL_TARGET),
          POOL_RIPEN_SECONDS: '1',
          POOL_REFILL_INTERVAL_SECONDS: '1',
          GC_INTERVAL_SECONDS: '1',
          GC_MIN_AGE_SECONDS: String(MIN_AGE_SECONDS),
        },
      });
    });

    afterAll(async () => {
      await rig?.close();
      await backend?.stop();
    });

    it('hands out a pool room, collects it after its call, and refills the pool', async () => {
      const ripe = await waitFor(
        () => rig.poolState(),
        (state) => state.available === POOL_TARGET && state.creating === 0,
        'a ripe pool',
      );
      expect(ripe).toEqual({
        available: POOL_TARGET,
        ripening: 0,
        target: POOL_TARGET,
        creating: 0,
      });
      const poolNames = (await rig.pexip.rooms()).map((room) => room.name);
      expect(poolNames).toHaveLength(POOL_TARGET);

      // 1. The identity service asks for a room and gets a pool room.
      const created = await rig.create(uuiFor('id', 'MTIzNDU2LDc2NTQzMg'));
      expect(created.status).toBe(200);
      const room = created.body as { id: number; name: string; tag: string };
      expect(poolNames).toContain(room.name);
      expect(room.tag).toBe(tagFor('id', 'MTIzNDU2LDc2NTQzMg'));
      expect(created.body).not.toHaveProperty('pin');
      expect(await rig.pexip.findRoom(room.name)).toMatchObject({
        tag: room.tag,
      });

      // 2. The citizen and the agent meet; two conferencing nodes carry
      //    the call and report to the event sink.
      await rig.pexip.control.call({
        conference: room.name,
        duration_ms: 1_500,
        nodes: ['10.0.1.21', '10.0.2.31'],
        sink_url: rig.sinkUrl,
        username: SINK_USERNAME,
        password: SINK_PASSWORD,
      });
      const live = await rig.pexip.api('GET', LIVE_CONFERENCES);
      expect(live.body.objects).toEqual([
        expect.objectContaining({ name: room.name, tag: room.tag }),
      ]);

      // 3. Both nodes report the end; one message waits on the queue.
      await waitFor(
        async () =>
          rig.service.logs.filter(
            (line) =>
              line.msg === 'request completed' &&
              (line.req as { url?: string })?.url === '/public/event_sink',
          ).length,
        (posts) => posts === 4,
        'two starts and two ends from the nodes',
      );
      const queuedAt = Date.now();
      expect(await rig.deletionBacklog()).toBe(1);
      expect(
        rig.service.logs.filter(
          (line) =>
            line.room === room.name &&
            line.msg === 'conference ended: room queued for deletion',
        ),
      ).toHaveLength(1);

      // 4. The collector's timer deletes it once the end is old enough.
      await waitFor(
        () => rig.pexip.findRoom(room.name),
        (found) => found === undefined,
        'the collector to delete the room',
      );
      const deletedAfterMs = Date.now() - queuedAt;
      expect(deletedAfterMs).toBeGreaterThanOrEqual(
        MIN_AGE_SECONDS * 1000 - 500,
      );
      expect(
        roomDeletions(await rig.pexip.control.requests()).filter(
          (r) => r.path === `${CONFERENCES}${room.id}/`,
        ),
      ).toEqual([
        { method: 'DELETE', path: `${CONFERENCES}${room.id}/`, status: 204 },
      ]);
      await waitFor(
        () => rig.deletionBacklog(),
        (backlog) => backlog === 0,
        'the deletion message to be removed',
      );

      // 5. The pool is back at its target with fresh rooms.
      const refilled = await waitFor(
        () => rig.poolState(),
        (state) => state.available === POOL_TARGET && state.creating === 0,
        'the pool to ripen back to its target',
      );
      expect(refilled.ripening).toBe(0);
      const rooms = await rig.pexip.rooms();
      expect(rooms).toHaveLength(POOL_TARGET);
      expect(rooms.map((r) => r.name)).not.toContain(room.name);
      expect(rooms.every((r) => r.tag === '')).toBe(true);
    });
  },
);
