import {
  ALIAS_KEYS,
  CONSTRAINED_ROOM_KEYS,
  RoomHarness,
  startRoomHarness,
} from './support/room.harness';
import { CONFERENCES, queryOf } from '../support/pexip-requests';
import { expectProblem } from '../support/problem';
import { send } from '../support/http';

/**
 * GET /room/{name} and GET /room: the two shapes of a room, name checks,
 * how names travel to Pexip, and listing across Pexip's pages.
 */

describe('GET /room/{room_name}', () => {
  let rig: RoomHarness;

  beforeAll(async () => {
    rig = await startRoomHarness();
  });

  afterAll(() => rig.close());

  beforeEach(() => rig.reset());

  it('answers exactly the eight constrained fields by default, host PIN included', async () => {
    const seeded = await rig.pexip.seedRoom({ tag: 'tag-1' });

    for (const query of ['', '?constrained_attributes=true']) {
      const answer = await rig.call('GET', `/room/${seeded.name}${query}`);

      expect(answer.status).toBe(200);
      expect(Object.keys(answer.body).sort()).toEqual(CONSTRAINED_ROOM_KEYS);
      expect(answer.body).toEqual({
        id: seeded.id,
        name: seeded.name,
        service_type: 'conference',
        allow_guests: true,
        pin: seeded.pin,
        guest_pin: seeded.guest_pin,
        tag: 'tag-1',
        aliases: [
          {
            id: expect.any(Number),
            alias: seeded.name,
            conference: seeded.resource_uri,
            creation_time: expect.any(String),
            description: '',
          },
        ],
      });
      expect(Object.keys(answer.body.aliases[0]).sort()).toEqual(ALIAS_KEYS);
    }
  });

  it('passes every field Pexip holds through with constrained_attributes=false, unknown ones too', async () => {
    const seeded = await rig.pexip.seedRoom();
    const onPexip = await rig.pexip.findRoom(seeded.name);

    const answer = await rig.call(
      'GET',
      `/room/${seeded.name}?constrained_attributes=false`,
    );

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(onPexip);
    expect(answer.body).toMatchObject({
      host_view: expect.any(String),
      creation_time: expect.any(String),
      resource_uri: seeded.resource_uri,
      // Not in the documented schema: must still come through.
      two_stage_dial_type: 'regular',
      breakout_rooms: false,
    });
  });

  it.each(['yes', '1', 'TRUE', ''])(
    'answers 400 for constrained_attributes=%j',
    async (value) => {
      const seeded = await rig.pexip.seedRoom();

      const answer = await rig.call(
        'GET',
        `/room/${seeded.name}?constrained_attributes=${value}`,
      );

      expectProblem(answer, 400);
      expect(answer.body.errors).toEqual({
        constrained_attributes: [
          'constrained_attributes must be true or false',
        ],
      });
    },
  );

  it('answers 404 problem for a name no room has', async () => {
    const answer = await rig.call('GET', '/room/no-such-room');

    expectProblem(answer, 404);
    expect(answer.body).toMatchObject({
      type: 'urn:maxconf:problem:not-found',
      title: 'Room not found',
    });
  });

  it('matches the name exactly: no prefix, no other case', async () => {
    await rig.pexip.seedRoom({ name: 'Room-Abc' });

    expectProblem(await rig.call('GET', '/room/Room-Ab'), 404);
    expectProblem(await rig.call('GET', '/room/room-abc'), 404);
    expect((await rig.call('GET', '/room/Room-Abc')).status).toBe(200);
  });

  it.each([
    ['an encoded slash', 'a%2Fb', /"\/"/],
    ['a NUL', 'a%00b', /control characters/],
    ['a line feed', 'a%0Ab', /control characters/],
    ['a DEL', 'a%7Fb', /control characters/],
    ['251 characters', 'a'.repeat(251), /1–250 characters/],
  ])(
    'answers 400 for a name with %s and asks Pexip nothing',
    async (_what, name, message) => {
      const answer = await rig.call('GET', `/room/${name}`);

      expectProblem(answer, 400);
      expect(answer.body.errors).toEqual({
        room_name: [expect.stringMatching(message)],
      });
      expect(await rig.pexip.control.requests()).toEqual([]);
    },
  );

  it('takes a name of exactly 250 characters to Pexip', async () => {
    const name = 'b'.repeat(250);
    await rig.pexip.seedRoom({ name });

    const answer = await rig.call('GET', `/room/${name}`);

    expect(answer.status).toBe(200);
    expect(answer.body.name).toBe(name);
  });

  it.each([
    ['a?b&c=d', '/room/a%3Fb%26c%3Dd'],
    ['%', '/room/%25'],
    ['..', '/room/..'],
    ['a b+c#d', '/room/a%20b+c%23d'],
    ['sälj', '/room/s%C3%A4lj'],
  ])(
    'sends the name %j to Pexip encoded inside the query of the room list',
    async (name, path) => {
      await rig.pexip.seedRoom({ name });
      await rig.pexip.control.clearRequests();

      const answer = await send(rig.service.url, 'GET', path);

      expect(answer.status).toBe(200);
      expect(answer.body.name).toBe(name);
      const [lookup] = await rig.pexip.control.requests();
      expect(lookup.method).toBe('GET');
      const [pathOnly, query] = lookup.path.split('?');
      expect(pathOnly).toBe(CONFERENCES);
      expect([...queryOf(lookup)]).toEqual([['name', name]]);
      expect(query).toBe(new URLSearchParams({ name }).toString());
    },
  );
});

describe('GET /room', () => {
  let rig: RoomHarness;
  const PERSISTENT = ['test_lobby', 'vkiosk_front'];
  const SEEDED = 2_050;

  /** Creates rooms straight on the simulator, many at a time. */
  const seedMany = async (names: string[], tagOf: (i: number) => string) => {
    for (let start = 0; start < names.length; start += 100) {
      await Promise.all(
        names
          .slice(start, start + 100)
          .map((name, i) =>
            rig.pexip.seedRoom({ name, tag: tagOf(start + i) }),
          ),
      );
    }
  };

  beforeAll(async () => {
    rig = await startRoomHarness();
    const names = [
      ...PERSISTENT,
      ...Array.from(
        { length: SEEDED - PERSISTENT.length },
        (_, i) => `bulk-${String(i).padStart(4, '0')}`,
      ),
    ];
    await seedMany(names, (i) => (i % 100 === 7 ? 'tag-seven' : ''));
  }, 30_000);

  afterAll(() => rig.close());

  beforeEach(() => rig.pexip.control.clearRequests());

  it('lists every room across Pexip pages, persistent ones included, in the constrained shape', async () => {
    const answer = await rig.call('GET', '/room');

    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.body).toHaveLength(SEEDED);
    const names = new Set(
      answer.body.map((room: { name: string }) => room.name),
    );
    expect(names.size).toBe(SEEDED);
    for (const name of PERSISTENT) expect(names.has(name)).toBe(true);
    for (const room of answer.body) {
      expect(Object.keys(room).sort()).toEqual(CONSTRAINED_ROOM_KEYS);
    }
    const pages = await rig.pexip.control.requests();
    expect(pages.map((page) => queryOf(page).get('offset') ?? '0')).toEqual([
      '0',
      '1000',
      '2000',
    ]);
  });

  it('lists the full Pexip records with constrained_attributes=false', async () => {
    const answer = await rig.call('GET', '/room?constrained_attributes=false');

    expect(answer.body).toHaveLength(SEEDED);
    const lobby = answer.body.find(
      (room: { name: string }) => room.name === 'test_lobby',
    );
    expect(lobby).toEqual(await rig.pexip.findRoom('test_lobby'));
  });

  it('keeps only names starting with prefix', async () => {
    const answer = await rig.call('GET', '/room?prefix=test_');

    expect(answer.status).toBe(200);
    expect(answer.body.map((room: { name: string }) => room.name)).toEqual([
      'test_lobby',
    ]);
  });

  it('keeps only rooms carrying exactly tag', async () => {
    const answer = await rig.call('GET', '/room?tag=tag-seven');

    expect(answer.status).toBe(200);
    expect(answer.body).toHaveLength(Math.ceil(SEEDED / 100));
    for (const room of answer.body) expect(room.tag).toBe('tag-seven');
    expect((await rig.call('GET', '/room?tag=tag-seve')).body).toEqual([]);
  });

  it('combines prefix and tag', async () => {
    const answer = await rig.call('GET', '/room?prefix=bulk-000&tag=tag-seven');

    expect(answer.body.map((room: { name: string }) => room.name)).toEqual([
      'bulk-0005',
    ]);
  });

  it('answers an empty array when nothing matches', async () => {
    const answer = await rig.call('GET', '/room?prefix=nothing-like-this');

    expect(answer.status).toBe(200);
    expect(answer.text).toBe('[]');
  });

  it('cuts the connection, rather than end a short list, when Pexip fails after the first page', async () => {
    await rig.pexip.control.faults({
      method: 'GET',
      path_prefix: `${CONFERENCES}?limit=1000&offset=1000`,
      status: 500,
      times: 10,
    });

    try {
      await expect(rig.call('GET', '/room')).rejects.toThrow();
    } finally {
      await rig.pexip.control.clearFaults();
    }
  });

  it('answers 400 for a bad constrained_attributes and asks Pexip nothing', async () => {
    const answer = await rig.call('GET', '/room?constrained_attributes=no');

    expectProblem(answer, 400);
    expect(answer.body.errors).toHaveProperty('constrained_attributes');
    expect(await rig.pexip.control.requests()).toEqual([]);
  });
});
