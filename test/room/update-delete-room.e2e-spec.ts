import { RoomHarness, startRoomHarness } from './support/room.harness';
import type { SeededRoom } from '../support/simulator';
import { CONFERENCES, writesOf } from '../support/pexip-requests';
import { expectProblem } from '../support/problem';

/** PATCH /room/{name} and DELETE /room/{name}, checked on the simulator. */

const ALIASES = '/api/admin/configuration/v1/conference_alias/';

describe('PATCH /room/{room_name}', () => {
  let rig: RoomHarness;
  let room: SeededRoom;

  beforeAll(async () => {
    rig = await startRoomHarness();
  });

  afterAll(() => rig.close());

  beforeEach(async () => {
    await rig.reset();
    room = await rig.pexip.seedRoom({ pin: '123456', guest_pin: '4321' });
    await rig.pexip.control.clearRequests();
  });

  it('answers 202 with no body and makes the change on Pexip', async () => {
    const changes = {
      pin: '987654#',
      guest_pin: '1111',
      tag: 'changed-tag',
      description: 'front desk',
      participant_limit: 3,
      mute_all_guests: true,
      max_callrate_in: 128,
      max_callrate_out: 8192,
      host_view: 'one_main_zero_pips',
      guest_view: 'four_mains_zero_pips',
      call_type: 'video-only',
      crypto_mode: 'on',
    };

    const answer = await rig.call('PATCH', `/room/${room.name}`, {
      body: changes,
    });

    expect(answer.status).toBe(202);
    expect(answer.text).toBe('');
    expect(await rig.pexip.findRoom(room.name)).toMatchObject({
      ...changes,
      name: room.name,
      id: room.id,
    });
    expect(writesOf(await rig.pexip.control.requests())).toEqual([
      { method: 'PATCH', path: `${CONFERENCES}${room.id}/`, status: 202 },
    ]);
  });

  it('changes only the fields given', async () => {
    await rig.call('PATCH', `/room/${room.name}`, {
      body: { description: 'only this' },
    });

    expect(await rig.pexip.findRoom(room.name)).toMatchObject({
      description: 'only this',
      pin: '123456',
      guest_pin: '4321',
      tag: '',
    });
  });

  it('logs the names of the fields changed, and never a PIN', async () => {
    await rig.call('PATCH', `/room/${room.name}`, {
      body: { description: 'front desk', pin: '55501234', guest_pin: '77009' },
    });
    await rig.call('GET', `/room/${room.name}`);

    const updates = rig.service.logs.filter(
      (line) => line.msg === 'room updated' && line.room === room.name,
    );
    expect(updates).toHaveLength(1);
    expect((updates[0].fields as string[]).sort()).toEqual([
      'description',
      'guest_pin',
      'pin',
    ]);
    expect(rig.service.logText()).not.toMatch(/55501234|77009/);
  });

  it('accepts null to clear the nullable fields', async () => {
    await rig.pexip.api('PATCH', room.resource_uri, {
      participant_limit: 5,
      max_callrate_in: 512,
    });

    const answer = await rig.call('PATCH', `/room/${room.name}`, {
      body: { participant_limit: null, max_callrate_in: null },
    });

    expect(answer.status).toBe(202);
    expect(await rig.pexip.findRoom(room.name)).toMatchObject({
      participant_limit: null,
      max_callrate_in: null,
    });
  });

  it.each([
    ['an unknown field', { colour: 'blue' }, 'colour'],
    [
      'a field Pexip has but the API does not change',
      { name: 'other' },
      'name',
    ],
    ['a PIN with a letter', { pin: '12a456' }, 'pin'],
    ['a PIN of 3 digits', { pin: '123' }, 'pin'],
    ['a PIN of 21 digits', { pin: '1'.repeat(21) }, 'pin'],
    ['a PIN with two #', { guest_pin: '1234##' }, 'guest_pin'],
    ['a PIN given as a number', { pin: 123456 }, 'pin'],
    ['a rate below 128', { max_callrate_in: 127 }, 'max_callrate_in'],
    ['a rate above 8192', { max_callrate_out: 8193 }, 'max_callrate_out'],
    ['a fractional rate', { max_callrate_out: 256.5 }, 'max_callrate_out'],
    ['an unknown layout', { host_view: 'one_big_pip' }, 'host_view'],
    ['an unknown call type', { call_type: 'fax' }, 'call_type'],
    ['an unknown crypto mode', { crypto_mode: 'maybe' }, 'crypto_mode'],
    [
      'a negative participant limit',
      { participant_limit: -1 },
      'participant_limit',
    ],
    ['a tag of 251 characters', { tag: 't'.repeat(251) }, 'tag'],
    ['a string for a boolean', { mute_all_guests: 'yes' }, 'mute_all_guests'],
  ])(
    'answers 400 for %s and sends nothing to Pexip',
    async (_what, body, field) => {
      const answer = await rig.call('PATCH', `/room/${room.name}`, { body });

      expectProblem(answer, 400);
      expect(Object.keys(answer.body.errors)).toEqual([field]);
      expect(await rig.pexip.control.requests()).toEqual([]);
    },
  );

  it.each([
    ['a body that is not JSON', '{"pin": '],
    ['a JSON string', '"pin"'],
    ['a JSON array', '[]'],
  ])('answers 400 for %s and sends nothing to Pexip', async (_what, raw) => {
    const answer = await rig.call('PATCH', `/room/${room.name}`, {
      rawBody: raw,
    });

    expectProblem(answer, 400);
    expect(await rig.pexip.control.requests()).toEqual([]);
  });

  it("passes Pexip's refusal of a host PIN equal to the guest PIN back as 400 with its field messages", async () => {
    const answer = await rig.call('PATCH', `/room/${room.name}`, {
      body: { pin: '4321' },
    });

    expectProblem(answer, 400);
    expect(answer.body.type).toBe('urn:maxconf:problem:pexip-rejected');
    expect(answer.body.errors).toEqual({
      guest_pin: ['The Guest PIN must differ from the Host PIN.'],
    });
    expect(await rig.pexip.findRoom(room.name)).toMatchObject({
      pin: '123456',
      guest_pin: '4321',
    });
  });

  it('answers 404 for a room that does not exist', async () => {
    const answer = await rig.call('PATCH', '/room/no-such-room', {
      body: { description: 'x' },
    });

    expectProblem(answer, 404);
    expect(writesOf(await rig.pexip.control.requests())).toEqual([]);
  });

  it('answers 400 for a name with an encoded slash', async () => {
    const answer = await rig.call('PATCH', '/room/a%2Fb', {
      body: { description: 'x' },
    });

    expectProblem(answer, 400);
    expect(await rig.pexip.control.requests()).toEqual([]);
  });
});

describe('DELETE /room/{room_name}', () => {
  let rig: RoomHarness;

  beforeAll(async () => {
    rig = await startRoomHarness();
  });

  afterAll(() => rig.close());

  beforeEach(() => rig.reset());

  it('answers 204 and removes the room and its aliases from Pexip', async () => {
    const room = await rig.pexip.seedRoom();
    const other = await rig.pexip.seedRoom();
    await rig.pexip.control.clearRequests();

    const answer = await rig.call('DELETE', `/room/${room.name}`);

    expect(answer.status).toBe(204);
    expect(answer.text).toBe('');
    expect(await rig.pexip.findRoom(room.name)).toBeUndefined();
    const aliases = await rig.pexip.api(
      'GET',
      `${ALIASES}?alias=${encodeURIComponent(room.name)}`,
    );
    expect(aliases.body.objects).toEqual([]);
    expect(await rig.pexip.findRoom(other.name)).toBeDefined();
    expect(writesOf(await rig.pexip.control.requests())).toEqual([
      { method: 'DELETE', path: `${CONFERENCES}${room.id}/`, status: 204 },
    ]);
  });

  it('answers 404 for a room that does not exist, and for one already deleted', async () => {
    const room = await rig.pexip.seedRoom();
    expect((await rig.call('DELETE', `/room/${room.name}`)).status).toBe(204);

    expectProblem(await rig.call('DELETE', `/room/${room.name}`), 404);
    expectProblem(await rig.call('DELETE', '/room/never-was'), 404);
  });

  it('answers 400 for a name with a control character and deletes nothing', async () => {
    const answer = await rig.call('DELETE', '/room/a%0Ab');

    expectProblem(answer, 400);
    expect(await rig.pexip.control.requests()).toEqual([]);
  });

  it('deletes a persistent room when asked for it by name', async () => {
    const room = await rig.pexip.seedRoom({ name: 'test_by_hand' });

    expect((await rig.call('DELETE', `/room/${room.name}`)).status).toBe(204);
    expect(await rig.pexip.findRoom(room.name)).toBeUndefined();
  });
});
