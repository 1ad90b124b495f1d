import { POOL_QUEUE } from '../../src/queue/queue.port';
import {
  LifecycleRig,
  QUEUE_BACKENDS,
  QueueBackend,
  startLifecycleRig,
  startQueueBackend,
} from './support/lifecycle.harness';
import { CONFERENCES } from '../support/pexip-requests';
import { reportFigure } from '../support/figures';
import { waitFor } from '../support/wait';
import { PoolState } from '../support/service-rig';

/**
 * The pool looks after itself: a timer tops it up to its target, a bulk
 * create never has more Pexip calls in flight than allowed, and delete-all
 * leaves it empty.
 */

jest.setTimeout(30_000);

describe.each(QUEUE_BACKENDS)('pool upkeep on %s', (name) => {
  let backend: QueueBackend;
  let rig: LifecycleRig | undefined;

  beforeAll(async () => {
    backend = await startQueueBackend(name);
  });

  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  afterAll(() => backend?.stop());

  const settled = (wanted: number) => (state: PoolState) =>
    state.available === wanted && state.ripening === 0 && state.creating === 0;

  it('tops the pool up to POOL_TARGET_SIZE on its timer after rooms leave it', async () => {
    rig = await startLifecycleRig(backend, {
      env: { POOL_TARGET_SIZE: '5', POOL_REFILL_INTERVAL_SECONDS: '1' },
    });
    const active = rig;
    await waitFor(() => active.poolState(), settled(5), 'the first top-up');
    expect(await active.pexip.rooms()).toHaveLength(5);

    // Taken behind the service's back: nothing but the timer can notice.
    const taken = await active.queue.receive(POOL_QUEUE, 2, 600);
    for (const message of taken) await active.queue.delete(POOL_QUEUE, message);
    expect(await active.poolState()).toMatchObject({ available: 3 });

    const state = await waitFor(
      () => active.poolState(),
      settled(5),
      'the timer to top the pool up',
    );
    expect(state).toEqual({
      available: 5,
      ripening: 0,
      target: 5,
      creating: 0,
    });
    const rooms = await active.pexip.rooms();
    expect(rooms).toHaveLength(7);
    expect(new Set(rooms.map((room) => room.name)).size).toBe(7);
  });

  it('keeps at most PEXIP_MAX_CONCURRENCY creates in flight during a bulk create', async () => {
    rig = await startLifecycleRig(backend, {
      env: { PEXIP_MAX_CONCURRENCY: '4' },
    });
    const active = rig;
    await active.pexip.control.latency(200);

    const started = Date.now();
    const answer = await active.call('POST', '/room/bulk-create?count=24');
    expect(answer.status).toBe(202);
    // Every management-API request is logged on arrival and gets its
    // status when answered: the ones without a status are in flight.
    let maxInFlight = 0;
    await waitFor(
      async () => {
        const requests = await active.pexip.control.requests();
        const inFlight = requests.filter((r) => r.status === null).length;
        maxInFlight = Math.max(maxInFlight, inFlight);
        return requests;
      },
      (requests) =>
        requests.length === 24 && requests.every((r) => r.status !== null),
      'every create to be answered',
    );
    const elapsedMs = Date.now() - started;
    await active.pexip.control.latency(0);

    reportFigure(`bulk create of 24, cap 4, 200 ms per call (${name})`, {
      maxInFlight,
      elapsedMs,
    });
    expect(maxInFlight).toBeLessThanOrEqual(4);
    expect(maxInFlight).toBeGreaterThanOrEqual(2);
    // Six rounds of four at 200 ms each, at the very least.
    expect(elapsedMs).toBeGreaterThanOrEqual(6 * 200);
    const requests = await active.pexip.control.requests();
    expect(requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(
      Array.from({ length: 24 }, () => `POST ${CONFERENCES} 201`),
    );
    await waitFor(() => active.poolState(), settled(24), '24 pool rooms');
  });

  it('empties the pool with delete-all and spares persistent rooms', async () => {
    rig = await startLifecycleRig(backend);
    const active = rig;
    await active.pexip.seedRoom({ name: 'vkiosk_entrance' });
    expect(
      (await active.call('POST', '/room/bulk-create?count=6')).status,
    ).toBe(202);
    await waitFor(() => active.poolState(), settled(6), 'six pool rooms');

    const answer = await active.call('DELETE', '/room?confirm=true');

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ deleted: 6, failed: [] });
    expect(await active.poolState()).toEqual({
      available: 0,
      ripening: 0,
      target: 0,
      creating: 0,
    });
    expect((await active.pexip.rooms()).map((room) => room.name)).toEqual([
      'vkiosk_entrance',
    ]);
    expect(await active.queue.receive(POOL_QUEUE, 32, 1)).toEqual([]);
  });
});
