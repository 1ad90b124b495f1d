import {
  ALIAS_KEYS,
  CREATED_ROOM_KEYS,
  RoomHarness,
  startRoomHarness,
} from './support/room.harness';
import { CONFERENCES, queryOf, writesOf } from '../support/pexip-requests';
import { EXAMPLE_TAG, EXAMPLE_UUI, tagFor, uuiFor } from '../support/uui';
import { waitFor } from '../support/wait';
import { metricValue } from '../support/prometheus';

/**
 * POST /room/create over real HTTP against the simulator: the answer's
 * shape, idempotency by tag, the pool hand-out and its round trips.
 */

const ROOM_NAME = /^[A-Za-z0-9_-]{22}$/;
/** pino's number for the warn level. */
const PINO_WARN = 40;

describe('POST /room/create', () => {
  let rig: RoomHarness;

  beforeAll(async () => {
    rig = await startRoomHarness();
  });

  afterAll(() => rig.close());

  beforeEach(() => rig.reset());

  describe('the answer', () => {
    it('answers the contract example with its tag and exactly the CreatedRoom fields', async () => {
      const answer = await rig.create(EXAMPLE_UUI);

      expect(answer.status).toBe(200);
      expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
      expect(Object.keys(answer.body).sort()).toEqual(CREATED_ROOM_KEYS);
      expect(answer.body).toEqual({
        id: expect.any(Number),
        name: expect.stringMatching(ROOM_NAME),
        service_type: 'conference',
        allow_guests: true,
        guest_pin: expect.stringMatching(/^\d{4}$/),
        tag: EXAMPLE_TAG,
        aliases: [
          {
            id: expect.any(Number),
            alias: answer.body.name,
            conference: `${CONFERENCES}${answer.body.id}/`,
            creation_time: expect.stringMatching(
              /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/,
            ),
            description: '',
          },
        ],
      });
      expect(Object.keys(answer.body.aliases[0]).sort()).toEqual(ALIAS_KEYS);
    });

    it('keeps the host PIN out of the answer while Pexip holds a 6-digit one that differs from the guest PIN', async () => {
      const answer = await rig.create(EXAMPLE_UUI);

      expect(answer.body).not.toHaveProperty('pin');
      expect(answer.text).not.toMatch(/"pin"/);
      const onPexip = await rig.pexip.findRoom(answer.body.name);
      expect(onPexip).toMatchObject({
        id: answer.body.id,
        tag: EXAMPLE_TAG,
        guest_pin: answer.body.guest_pin,
        pin: expect.stringMatching(/^\d{6}$/),
      });
      expect(onPexip?.pin).not.toBe(answer.body.guest_pin);
      expect(answer.text).not.toContain(onPexip?.pin);
    });

    it('writes neither PIN to the log, even when the room is read back with its host PIN', async () => {
      await rig.fillPool(1);

      const answer = await rig.create(EXAMPLE_UUI);
      const read = await rig.call('GET', `/room/${answer.body.name}`);

      expect(read.body.pin).toMatch(/^\d{6}$/);
      const log = rig.service.logText();
      expect(log).toContain(answer.body.name);
      expect(log).not.toContain(`"${read.body.pin}"`);
      expect(log).not.toContain(`"${read.body.guest_pin}"`);
    });

    it('keeps the host PIN out of a pool hand-out and of a repeated create', async () => {
      await rig.fillPool(1);

      const first = await rig.create(EXAMPLE_UUI);
      const again = await rig.create(EXAMPLE_UUI);

      expect(first.status).toBe(200);
      expect(again.status).toBe(200);
      for (const answer of [first, again]) {
        expect(Object.keys(answer.body).sort()).toEqual(CREATED_ROOM_KEYS);
        expect(answer.text).not.toMatch(/"pin"/);
      }
    });

    it('accepts hex digits in upper case and ignores parameters other than encoding', async () => {
      const upper = EXAMPLE_UUI.split(';')[0].toUpperCase();

      const plain = await rig.create(upper);
      const withPurpose = await rig.create(
        `${upper};purpose=isdn;encoding=hex`,
      );

      expect(plain.status).toBe(200);
      expect(plain.body.tag).toBe(EXAMPLE_TAG);
      expect(withPurpose.body).toEqual(plain.body);
    });
  });

  describe('idempotency', () => {
    it('answers a repeated create with the same room and spends no pool room', async () => {
      await rig.fillPool(2);
      const first = await rig.create(EXAMPLE_UUI);
      expect(await rig.poolState()).toMatchObject({
        available: 1,
        ripening: 0,
      });
      await rig.pexip.control.clearRequests();

      const again = await rig.create(EXAMPLE_UUI);

      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      expect(await rig.poolState()).toMatchObject({
        available: 1,
        ripening: 0,
      });
      const requests = await rig.pexip.control.requests();
      expect(writesOf(requests)).toEqual([]);
      // The tag look-up and the look-up of the pool room taken, side by side.
      expect(requests.map((request) => request.method)).toEqual(['GET', 'GET']);
      const tagged = (await rig.pexip.rooms()).filter(
        (room) => room.tag === EXAMPLE_TAG,
      );
      expect(tagged.map((room) => room.name)).toEqual([first.body.name]);
    });

    it('answers a room tagged outside the service rather than a new one', async () => {
      const seeded = await rig.pexip.seedRoom({ tag: EXAMPLE_TAG });
      await rig.pexip.control.clearRequests();

      const answer = await rig.create(EXAMPLE_UUI);

      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ id: seeded.id, name: seeded.name });
      expect(answer.body).not.toHaveProperty('pin');
      expect(writesOf(await rig.pexip.control.requests())).toEqual([]);
    });

    it('gives concurrent creates for one uuiData one pool room between them', async () => {
      await rig.fillPool(3);
      await rig.pexip.control.clearRequests();

      const answers = await Promise.all(
        Array.from({ length: 5 }, () => rig.create(EXAMPLE_UUI)),
      );

      expect(answers.map((answer) => answer.status)).toEqual([
        200, 200, 200, 200, 200,
      ]);
      expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
      const writes = writesOf(await rig.pexip.control.requests());
      expect(writes.map((write) => write.method)).toEqual(['PATCH']);
      expect(await rig.poolState()).toMatchObject({
        available: 2,
        ripening: 0,
      });
    });

    it('gives concurrent creates for one uuiData one on-demand room between them', async () => {
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => rig.create(EXAMPLE_UUI)),
      );

      expect(new Set(answers.map((answer) => answer.body.name)).size).toBe(1);
      const writes = writesOf(await rig.pexip.control.requests());
      expect(writes).toEqual([
        { method: 'POST', path: CONFERENCES, status: 201 },
      ]);
    });

    it('never hands one room to two identity checks, however many arrive at once', async () => {
      await rig.fillPool(4);
      await rig.pexip.control.clearRequests();
      const ids = Array.from({ length: 7 }, (_, i) => `Y2FsbC${i}`);

      const answers = await Promise.all(
        ids.map((id) => rig.create(uuiFor('id', id))),
      );

      expect(answers.map((answer) => answer.status)).toEqual(
        ids.map(() => 200),
      );
      expect(answers.map((answer) => answer.body.tag)).toEqual(
        ids.map((id) => tagFor('id', id)),
      );
      expect(new Set(answers.map((answer) => answer.body.name)).size).toBe(7);
      const writes = writesOf(await rig.pexip.control.requests());
      expect(writes.filter((w) => w.method === 'PATCH')).toHaveLength(4);
      expect(writes.filter((w) => w.method === 'POST')).toHaveLength(3);
      expect(await rig.poolState()).toMatchObject({
        available: 0,
        ripening: 0,
      });
    });

    it('gives different uuiData different rooms', async () => {
      await rig.fillPool(2);

      const [a, b] = await Promise.all([
        rig.create(uuiFor('id', 'QUFB')),
        rig.create(uuiFor('id', 'QkJC')),
      ]);

      expect(a.body.tag).toBe(tagFor('id', 'QUFB'));
      expect(b.body.tag).toBe(tagFor('id', 'QkJC'));
      expect(a.body.name).not.toBe(b.body.name);
      expect(await rig.poolState()).toMatchObject({
        available: 0,
        ripening: 0,
      });
    });
  });

  describe('hand-out from the pool', () => {
    it('tags the oldest ripe pool room on Pexip and takes it out of the pool', async () => {
      const [oldest, middle, newest] = await rig.fillPoolInOrder(3);
      await rig.pexip.control.clearRequests();

      const answer = await rig.create(EXAMPLE_UUI);

      expect(answer.status).toBe(200);
      expect(answer.body.name).toBe(oldest);
      const onPexip = await rig.pexip.findRoom(oldest);
      expect(onPexip?.tag).toBe(EXAMPLE_TAG);
      const writes = writesOf(await rig.pexip.control.requests());
      expect(writes).toEqual([
        { method: 'PATCH', path: `${CONFERENCES}${onPexip?.id}/`, status: 202 },
      ]);
      expect(await rig.poolState()).toMatchObject({
        available: 2,
        ripening: 0,
      });

      // The other two follow in order; then the pool is empty.
      const second = await rig.create(uuiFor('id', 'c2Vjb25k'));
      const third = await rig.create(uuiFor('id', 'dGhpcmQ'));
      expect([second.body.name, third.body.name]).toEqual([middle, newest]);
      expect(await rig.poolState()).toMatchObject({
        available: 0,
        ripening: 0,
      });
    });

    it('costs three management-API requests in two round trips: tag and pool-room look-ups side by side, then one PATCH', async () => {
      const [poolRoom] = await rig.fillPoolInOrder(1);
      const { id } = (await rig.pexip.findRoom(poolRoom)) as { id: number };
      await rig.pexip.control.clearRequests();

      await rig.create(EXAMPLE_UUI);

      const requests = await rig.pexip.control.requests();
      expect(requests).toHaveLength(3);
      const [lookups, patch] = [requests.slice(0, 2), requests[2]];
      const byFilter = Object.fromEntries(
        lookups.map((request) => {
          const query = queryOf(request);
          return [query.has('tag') ? 'tag' : 'name', { request, query }];
        }),
      );
      expect(byFilter.tag.request.method).toBe('GET');
      expect(byFilter.tag.query.get('tag')).toBe(EXAMPLE_TAG);
      expect(byFilter.name.request.method).toBe('GET');
      expect([...byFilter.name.query]).toEqual([['name', poolRoom]]);
      for (const lookup of lookups) {
        expect(lookup.path.startsWith(`${CONFERENCES}?`)).toBe(true);
        expect(lookup.status).toBe(200);
      }
      expect(patch).toEqual({
        method: 'PATCH',
        path: `${CONFERENCES}${id}/`,
        status: 202,
      });
    });

    it('sends the pool-room look-up without waiting for the tag look-up', async () => {
      // Without retries a hanging tag look-up fails the create: a look-up
      // made only after it would never be sent at all.
      const service = await startRoomHarness({
        PEXIP_TIMEOUT_MS: '500',
        PEXIP_MAX_RETRIES: '0',
      });
      try {
        const [poolRoom] = await service.fillPoolInOrder(1);
        await service.pexip.control.clearRequests();
        // Only list calls carry `limit`: this holds the tag look-up alone.
        await service.pexip.control.faults({
          method: 'GET',
          path_prefix: `${CONFERENCES}?limit=`,
          hang: true,
        });

        const answer = await service.create(EXAMPLE_UUI);

        expect(answer.status).toBe(504);
        const requests = await service.pexip.control.requests();
        expect(requests).toHaveLength(2);
        const tagLookup = requests.find((r) => queryOf(r).has('tag'));
        const nameLookup = requests.find((r) => queryOf(r).has('name'));
        expect(tagLookup).toMatchObject({ method: 'GET', status: null });
        expect(queryOf(tagLookup!).get('tag')).toBe(EXAMPLE_TAG);
        expect(nameLookup).toMatchObject({ method: 'GET', status: 200 });
        expect(queryOf(nameLookup!).get('name')).toBe(poolRoom);
      } finally {
        await service.close();
      }
    });

    it('skips a pool room deleted behind its back, takes the next, and drops the gone one from the pool', async () => {
      const [gone, next] = await rig.fillPoolInOrder(2);
      const { id } = (await rig.pexip.findRoom(gone)) as { id: number };
      expect(
        (await rig.pexip.api('DELETE', `${CONFERENCES}${id}/`)).status,
      ).toBe(204);

      const answer = await rig.create(EXAMPLE_UUI);

      expect(answer.status).toBe(200);
      expect(answer.body.name).toBe(next);
      expect(await rig.poolState()).toMatchObject({
        available: 0,
        ripening: 0,
      });
      const dropped = rig.service.logs.filter(
        (line) => line.msg === 'pool room dropped' && line.room === gone,
      );
      expect(dropped).toEqual([
        expect.objectContaining({
          level: PINO_WARN,
          reason: 'no longer on Pexip',
        }),
      ]);
    });

    it('skips a pool room that already carries a tag', async () => {
      const [stale, next] = await rig.fillPoolInOrder(2);
      const { id } = (await rig.pexip.findRoom(stale)) as { id: number };
      await rig.pexip.api('PATCH', `${CONFERENCES}${id}/`, {
        tag: tagFor('id', 'b3RoZXI'),
      });

      const answer = await rig.create(EXAMPLE_UUI);

      expect(answer.body.name).toBe(next);
      expect((await rig.pexip.findRoom(stale))?.tag).toBe(
        tagFor('id', 'b3RoZXI'),
      );
      expect(await rig.poolState()).toMatchObject({
        available: 0,
        ripening: 0,
      });
    });

    it('makes a room on demand once the pool is empty, with one POST and the pool recipe', async () => {
      const answer = await rig.create(EXAMPLE_UUI);

      expect(answer.status).toBe(200);
      const requests = await rig.pexip.control.requests();
      expect(requests.map((r) => r.method)).toEqual(['GET', 'POST', 'GET']);
      expect(requests[2].path).toBe(`${CONFERENCES}${answer.body.id}/`);
      const onPexip = await rig.pexip.findRoom(answer.body.name);
      expect(onPexip).toMatchObject({
        service_type: 'conference',
        allow_guests: true,
        tag: EXAMPLE_TAG,
        aliases: [{ alias: answer.body.name }],
      });
    });
  });
});

describe('POST /room/create with a pool kept at its target', () => {
  let rig: RoomHarness;

  beforeAll(async () => {
    rig = await startRoomHarness({
      POOL_TARGET_SIZE: '2',
      POOL_REFILL_INTERVAL_SECONDS: '86400',
    });
  });

  afterAll(() => rig.close());

  it('creates a replacement pool room in the background after a hand-out', async () => {
    await waitFor(rig.poolState, (s) => s.available === 2, 'the first top-up');
    const before = new Set((await rig.pexip.rooms()).map((room) => room.name));

    const answer = await rig.create(EXAMPLE_UUI);

    expect(answer.status).toBe(200);
    expect(before.has(answer.body.name)).toBe(true);
    const state = await waitFor(
      rig.poolState,
      (s) => s.available === 2 && s.creating === 0,
      'the pool to refill to its target',
    );
    expect(state).toEqual({
      available: 2,
      ripening: 0,
      target: 2,
      creating: 0,
    });
    const rooms = await rig.pexip.rooms();
    expect(rooms).toHaveLength(3);
    const replacement = rooms.filter((room) => !before.has(room.name));
    expect(replacement).toHaveLength(1);
    expect(replacement[0].tag).toBe('');
  });
});

describe('POST /room/create while the pool is still ripening', () => {
  let rig: RoomHarness;

  beforeAll(async () => {
    rig = await startRoomHarness({ POOL_RIPEN_SECONDS: '3600' });
  });

  afterAll(() => rig.close());

  it('leaves unripe pool rooms alone, makes the room on demand, counts it and warns', async () => {
    await rig.fillPool(2);
    expect(await rig.poolState()).toMatchObject({ available: 0, ripening: 2 });
    const onDemand = async () => {
      const { text } = await rig.call('GET', '/metrics');
      const created = metricValue(text, 'maxconf_rooms_created_total', {
        purpose: 'on_demand',
      });
      return created ?? 0;
    };
    const before = await onDemand();
    await rig.pexip.control.clearRequests();

    const answer = await rig.create(EXAMPLE_UUI);

    expect(answer.status).toBe(200);
    expect(await onDemand()).toBe(before + 1);
    const writes = writesOf(await rig.pexip.control.requests());
    expect(writes.map((write) => write.method)).toEqual(['POST']);
    expect(await rig.poolState()).toMatchObject({ available: 0, ripening: 2 });
    const untagged = (await rig.pexip.rooms()).filter(
      (room) => room.tag === '',
    );
    expect(untagged).toHaveLength(2);
    expect(untagged.map((room) => room.name)).not.toContain(answer.body.name);
    const warnings = rig.service.logs.filter(
      (line) => line.level === PINO_WARN && line.context === 'RoomService',
    );
    expect(warnings.map((line) => line.msg)).toEqual([
      expect.stringMatching(/on demand.*not be dialable/),
    ]);
  });
});
