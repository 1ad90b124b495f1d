import { ServiceRig, startServiceRig } from '../../support/service-rig';
import { waitFor } from '../../support/wait';

/** The fields of a room answered by POST /room/create, in any order. */
export const CREATED_ROOM_KEYS = [
  'aliases',
  'allow_guests',
  'guest_pin',
  'id',
  'name',
  'service_type',
  'tag',
];
/** The default shape of a room: the created one plus the host PIN. */
export const CONSTRAINED_ROOM_KEYS = [...CREATED_ROOM_KEYS, 'pin'].sort();
export const ALIAS_KEYS = [
  'alias',
  'conference',
  'creation_time',
  'description',
  'id',
];
export const POOL_STATE_KEYS = ['available', 'creating', 'ripening', 'target'];

/** A service wired to its own simulator, with the pool tools of its tests. */
export interface RoomHarness extends ServiceRig {
  /** Bulk-creates `count` pool rooms and waits until all are queued. */
  fillPool(count: number): Promise<void>;
  /**
   * Fills the pool one room at a time, so that the queue order is the
   * order of creation; answers the names of every untagged room on Pexip
   * (on a clean Pexip: the pool), oldest first.
   */
  fillPoolInOrder(count: number): Promise<string[]>;
  /** Back to an empty Pexip, an empty pool and an empty request log. */
  reset(): Promise<void>;
}

/**
 * Starts a simulator and the whole service pointed at it. `env` overrides
 * the defaults of `startServiceRig` (no pool top-up, rooms ripe at once).
 *
 * @example
 * const rig = await startRoomHarness({ POOL_TARGET_SIZE: '2' });
 * const answer = await rig.create(EXAMPLE_UUI);
 */
export async function startRoomHarness(
  env: Record<string, string> = {},
): Promise<RoomHarness> {
  const rig = await startServiceRig(env);

  const fillPool = async (count: number) => {
    const before = await rig.poolState();
    const wanted = before.available + before.ripening + count;
    const accepted = await rig.call('POST', `/room/bulk-create?count=${count}`);
    expect(accepted.status).toBe(202);
    await waitFor(
      rig.poolState,
      (state) =>
        state.creating === 0 && state.available + state.ripening === wanted,
      `${count} pool rooms queued`,
    );
  };

  return {
    ...rig,
    fillPool,
    async fillPoolInOrder(count) {
      for (let i = 0; i < count; i++) {
        await fillPool(1);
      }
      const rooms = await rig.pexip.rooms();
      return rooms
        .filter((room) => room.tag === '')
        .sort((a, b) => a.id - b.id)
        .map((room) => room.name as string);
    },
    async reset() {
      await rig.pexip.control.reset();
      // With Pexip empty this only clears the pool queue.
      const cleared = await rig.call('DELETE', '/room?confirm=true');
      if (cleared.status !== 200) {
        throw new Error(
          `Emptying the pool answered ${cleared.status}: ${cleared.text}`,
        );
      }
      await rig.pexip.control.clearRequests();
    },
  };
}
