import {
  POOL_STATE_KEYS,
  RoomHarness,
  startRoomHarness,
} from './support/room.harness';
import { CONFERENCES, writesOf } from '../support/pexip-requests';
import { EXAMPLE_UUI } from '../support/uui';
import { expectProblem } from '../support/problem';
import { waitFor } from '../support/wait';

/**
 * The operator's pool tools: bulk create, pool state, and delete-all with
 * its confirmation and its respect for persistent rooms.
 */

describe('POST /room/bulk-create and GET /room/pool', () => {
  let rig: RoomHarness;

  beforeAll(async () => {
    rig = await startRoomHarness();
  });

  afterAll(() => rig.close());

  beforeEach(() => rig.reset());

  it('answers the pool state with exactly its four counts', async () => {
    const answer = await rig.call('GET', '/room/pool');

    expect(answer.status).toBe(200);
    expect(Object.keys(answer.body).sort()).toEqual(POOL_STATE_KEYS);
    expect(answer.body).toEqual({
      available: 0,
      ripening: 0,
      target: 0,
      creating: 0,
    });
  });

  it('answers 202 {requested} with Location /room/pool, then the rooms appear on Pexip and in the pool', async () => {
    const answer = await rig.call('POST', '/room/bulk-create?count=4');

    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ requested: 4 });
    expect(answer.headers.get('location')).toBe('/room/pool');
    const state = await waitFor(
      rig.poolState,
      (s) => s.available === 4 && s.creating === 0,
      'four pool rooms',
    );
    expect(state).toEqual({
      available: 4,
      ripening: 0,
      target: 0,
      creating: 0,
    });
    const rooms = await rig.pexip.rooms();
    expect(rooms).toHaveLength(4);
    for (const room of rooms) {
      expect(room).toMatchObject({
        name: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
        service_type: 'conference',
        allow_guests: true,
        tag: '',
        pin: expect.stringMatching(/^\d{6}$/),
        guest_pin: expect.stringMatching(/^\d{4}$/),
        aliases: [expect.objectContaining({ alias: room.name })],
      });
      expect(room.pin).not.toBe(room.guest_pin);
    }
    expect(new Set(rooms.map((room) => room.name)).size).toBe(4);
  });

  it('counts the rooms a bulk create is still making, as ripening too', async () => {
    await rig.pexip.control.latency(400);
    try {
      await rig.call('POST', '/room/bulk-create?count=3');

      // Each entry is queued before its room is made, hidden until then.
      expect(await rig.poolState()).toEqual({
        available: 0,
        ripening: 3,
        target: 0,
        creating: 3,
      });
      await waitFor(
        rig.poolState,
        (s) => s.available === 3,
        'three pool rooms',
      );
      expect((await rig.poolState()).creating).toBe(0);
    } finally {
      await rig.pexip.control.latency(0);
    }
  });

  it.each(['0', '501', 'abc', '-1', '2.5', ''])(
    'answers 400 for count=%j and creates nothing',
    async (count) => {
      const answer = await rig.call('POST', `/room/bulk-create?count=${count}`);

      expectProblem(answer, 400);
      expect(Object.keys(answer.body.errors)).toEqual(['count']);
      expect(await rig.pexip.control.requests()).toEqual([]);
      expect(await rig.poolState()).toMatchObject({
        creating: 0,
        available: 0,
      });
    },
  );

  it('answers 400 when count is missing', async () => {
    const answer = await rig.call('POST', '/room/bulk-create');

    expectProblem(answer, 400);
    expect(Object.keys(answer.body.errors)).toEqual(['count']);
  });
});

describe('POST /room/bulk-create with BULK_CREATE_MAX lowered', () => {
  let rig: RoomHarness;

  beforeAll(async () => {
    rig = await startRoomHarness({ BULK_CREATE_MAX: '5' });
  });

  afterAll(() => rig.close());

  it('refuses a count above the configured maximum and creates nothing', async () => {
    const answer = await rig.call('POST', '/room/bulk-create?count=6');

    expectProblem(answer, 400);
    expect(answer.body.errors).toEqual({
      count: [expect.stringMatching(/5/)],
    });
    expect(await rig.pexip.control.requests()).toEqual([]);
  });

  it('accepts the configured maximum', async () => {
    const answer = await rig.call('POST', '/room/bulk-create?count=5');

    expect(answer.status).toBe(202);
    await waitFor(rig.poolState, (s) => s.available === 5, 'five pool rooms');
  });
});

describe('pool rooms made with AUTO_DIAL_SIP_URI and other PIN lengths', () => {
  let rig: RoomHarness;
  const SIP = 'queue@contact-centre.example.org';

  beforeAll(async () => {
    rig = await startRoomHarness({
      AUTO_DIAL_SIP_URI: SIP,
      POOL_HOST_PIN_LENGTH: '8',
      POOL_GUEST_PIN_LENGTH: '5',
    });
  });

  afterAll(() => rig.close());

  it('gives each room one automatic participant that dials the address with the room name', async () => {
    await rig.fillPool(2);

    const rooms = await rig.pexip.rooms();
    expect(rooms).toHaveLength(2);
    for (const room of rooms) {
      expect(room.pin).toMatch(/^\d{8}$/);
      expect(room.guest_pin).toMatch(/^\d{5}$/);
      const dials = await rig.pexip.api(
        'GET',
        `/api/admin/configuration/v1/automatic_participant/?conference=${room.id}`,
      );
      expect(dials.body.objects).toEqual([
        expect.objectContaining({
          alias: SIP,
          remote_display_name: room.name,
          conference: [room.resource_uri],
        }),
      ]);
    }
  });

  it('hands out such a room without the automatic participant in the answer', async () => {
    const answer = await rig.create(EXAMPLE_UUI);

    expect(answer.status).toBe(200);
    expect(answer.body).not.toHaveProperty('automatic_participants');
    expect(answer.body.guest_pin).toMatch(/^\d{5}$/);
  });
});

describe('GET /room/pool while rooms ripen', () => {
  let rig: RoomHarness;

  beforeAll(async () => {
    rig = await startRoomHarness({
      POOL_RIPEN_SECONDS: '3600',
      POOL_TARGET_SIZE: '3',
      POOL_REFILL_INTERVAL_SECONDS: '86400',
    });
  });

  afterAll(() => rig.close());

  it('counts the top-up rooms as ripening, not available, with the target', async () => {
    const state = await waitFor(
      rig.poolState,
      (s) => s.ripening === 3 && s.creating === 0,
      'the first top-up',
    );

    expect(state).toEqual({
      available: 0,
      ripening: 3,
      target: 3,
      creating: 0,
    });
  });
});

describe('the pool timer', () => {
  let rig: RoomHarness;

  beforeAll(async () => {
    rig = await startRoomHarness({
      POOL_TARGET_SIZE: '2',
      POOL_REFILL_INTERVAL_SECONDS: '1',
    });
  });

  afterAll(() => rig.close());

  it('tops the pool up to its target without any create, after delete-all emptied it', async () => {
    await waitFor(rig.poolState, (s) => s.available === 2, 'the first top-up');

    const wiped = await rig.call('DELETE', '/room?confirm=true');

    expect(wiped.body).toEqual({ deleted: 2, failed: [] });
    const state = await waitFor(
      rig.poolState,
      (s) => s.available === 2 && s.creating === 0,
      'the timer to refill the pool',
    );
    expect(state).toEqual({
      available: 2,
      ripening: 0,
      target: 2,
      creating: 0,
    });
    expect(await rig.pexip.rooms()).toHaveLength(2);
  });
});

describe('DELETE /room with PERSISTENT_ROOM_PREFIXES set', () => {
  let rig: RoomHarness;

  beforeAll(async () => {
    rig = await startRoomHarness({ PERSISTENT_ROOM_PREFIXES: 'keep-,lab_' });
  });

  afterAll(() => rig.close());

  it('keeps the configured prefixes and nothing else', async () => {
    for (const name of ['keep-1', 'lab_2', 'test_3', 'vkiosk_4']) {
      await rig.pexip.seedRoom({ name });
    }

    const answer = await rig.call('DELETE', '/room?confirm=true');

    expect(answer.body).toEqual({ deleted: 2, failed: [] });
    const left = (await rig.pexip.rooms()).map((room) => room.name).sort();
    expect(left).toEqual(['keep-1', 'lab_2']);
  });
});

describe('DELETE /room', () => {
  let rig: RoomHarness;
  const PERSISTENT = ['test_lobby', 'vkiosk_front'];

  beforeAll(async () => {
    rig = await startRoomHarness();
  });

  afterAll(() => rig.close());

  beforeEach(async () => {
    await rig.reset();
    for (const name of PERSISTENT) await rig.pexip.seedRoom({ name });
    await rig.pexip.seedRoom({ name: 'citizen-room', tag: 'some-tag' });
    await rig.fillPool(3);
    await rig.pexip.control.clearRequests();
  });

  it.each([
    '',
    '?confirm=false',
    '?confirm=TRUE',
    '?confirm=1',
    '?confirm=true&confirm=true',
  ])('answers 400 for %j and deletes nothing', async (query) => {
    const answer = await rig.call('DELETE', `/room${query}`);

    expectProblem(answer, 400);
    expect(Object.keys(answer.body.errors)).toEqual(['confirm']);
    expect(await rig.pexip.control.requests()).toEqual([]);
    expect(await rig.pexip.rooms()).toHaveLength(6);
    expect(await rig.poolState()).toMatchObject({ available: 3 });
  });

  it('with confirm=true deletes every non-persistent room, empties the pool and answers the count', async () => {
    const answer = await rig.call('DELETE', '/room?confirm=true');

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ deleted: 4, failed: [] });
    const left = (await rig.pexip.rooms()).map((room) => room.name).sort();
    expect(left).toEqual(PERSISTENT);
    expect(await rig.poolState()).toMatchObject({ available: 0, ripening: 0 });
    const deletes = writesOf(await rig.pexip.control.requests());
    expect(deletes).toHaveLength(4);
    for (const request of deletes) {
      expect(request).toMatchObject({ method: 'DELETE', status: 204 });
    }
  });

  it('names the rooms Pexip would not delete and still deletes the others', async () => {
    const citizen = (await rig.pexip.findRoom('citizen-room')) as {
      id: number;
    };
    await rig.pexip.control.faults({
      method: 'DELETE',
      path_prefix: `${CONFERENCES}${citizen.id}/`,
      status: 500,
      times: 10,
    });

    const answer = await rig.call('DELETE', '/room?confirm=true');

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ deleted: 3, failed: ['citizen-room'] });
    const left = (await rig.pexip.rooms()).map((room) => room.name).sort();
    expect(left).toEqual(['citizen-room', ...PERSISTENT]);
  });
});
