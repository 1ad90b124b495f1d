import { startTestSimulator, TestSimulator } from '../support/simulator';

const CONFIG = '/api/admin/configuration/v1';
const CONFERENCES = `${CONFIG}/conference/`;

const ROOM = {
  name: 'room-a',
  service_type: 'conference',
  allow_guests: true,
  pin: '123456',
  guest_pin: '4321',
  tag: 'first',
};

describe('Pexip simulator: configuration API over HTTP', () => {
  let pexip: TestSimulator;

  /** Creates a conference and returns its path from `Location`. */
  const createRoom = async (body: object = ROOM) => {
    const created = await pexip.api('POST', CONFERENCES, body);
    expect(created.status).toBe(201);
    return new URL(created.headers.get('location') as string).pathname;
  };

  beforeAll(async () => {
    pexip = await startTestSimulator();
  });

  afterAll(() => pexip.close());

  beforeEach(() => pexip.control.reset());

  describe('create, read, update, delete', () => {
    it('answers a create with 201, an empty body and an absolute Location', async () => {
      const created = await pexip.api('POST', CONFERENCES, ROOM);

      expect(created.status).toBe(201);
      expect(created.body).toBeUndefined();
      expect(created.headers.get('location')).toMatch(
        new RegExp(`^${pexip.url}${CONFERENCES}\\d+/$`),
      );
    });

    it('gives a path-only Location when told to', async () => {
      const other = await startTestSimulator({ absoluteLocation: false });
      try {
        const created = await other.api('POST', CONFERENCES, ROOM);

        expect(created.headers.get('location')).toBe(`${CONFERENCES}1/`);
      } finally {
        await other.close();
      }
    });

    it('shows the created room, with its inline aliases, on a detail GET', async () => {
      const path = await createRoom({
        ...ROOM,
        aliases: [{ alias: 'room-a' }],
      });

      const room = await pexip.api('GET', path);

      expect(room.status).toBe(200);
      expect(room.headers.get('content-type')).toBe('application/json');
      expect(room.body).toMatchObject({
        ...ROOM,
        resource_uri: path,
        aliases: [{ alias: 'room-a', conference: path, description: '' }],
      });
      expect(room.body.aliases[0]).not.toHaveProperty('resource_uri');
    });

    it('merges a PATCH (202, empty) and keeps the other fields', async () => {
      const path = await createRoom();

      const patched = await pexip.api('PATCH', path, { tag: 'second' });

      expect(patched.status).toBe(202);
      expect(patched.body).toBeUndefined();
      expect((await pexip.api('GET', path)).body).toMatchObject({
        tag: 'second',
        pin: '123456',
      });
    });

    it('answers a PUT with 204', async () => {
      const path = await createRoom();

      const put = await pexip.api('PUT', path, { ...ROOM, description: 'x' });

      expect(put.status).toBe(204);
      expect((await pexip.api('GET', path)).body.description).toBe('x');
    });

    it('deletes with 204, then answers 404 with an empty body', async () => {
      const path = await createRoom();

      const deleted = await pexip.api('DELETE', path);
      const again = await pexip.api('DELETE', path);
      const read = await pexip.api('GET', path);

      expect(deleted.status).toBe(204);
      expect([again.status, again.body]).toEqual([404, undefined]);
      expect([read.status, read.body]).toEqual([404, undefined]);
    });

    it('answers 404 to a PATCH of a room that does not exist', async () => {
      const patched = await pexip.api('PATCH', `${CONFERENCES}999/`, {
        tag: 'x',
      });

      expect([patched.status, patched.body]).toEqual([404, undefined]);
    });

    it('deletes the aliases of a deleted room and frees them', async () => {
      const path = await createRoom({
        ...ROOM,
        aliases: [{ alias: 'room-a' }],
      });

      await pexip.api('DELETE', path);
      const aliases = await pexip.api('GET', `${CONFIG}/conference_alias/`);

      expect(aliases.body.meta.total_count).toBe(0);
      await createRoom({ ...ROOM, aliases: [{ alias: 'room-a' }] });
    });
  });

  describe('validation', () => {
    it('refuses a duplicate name with the body Pexip sends', async () => {
      await createRoom();

      const duplicate = await pexip.api('POST', CONFERENCES, ROOM);

      expect(duplicate.status).toBe(400);
      expect(duplicate.body).toEqual({
        conference: {
          name: ['Virtual Meeting Room with this Name already exists.'],
        },
      });
    });

    it('refuses a 3-digit PIN, keyed by resource and field', async () => {
      const refused = await pexip.api('POST', CONFERENCES, {
        ...ROOM,
        pin: '123',
      });

      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({
        conference: {
          pin: [
            'A PIN is 4 to 20 characters long: digits only, optionally ' +
              'ending with a single #.',
          ],
        },
      });
    });

    it('refuses a PATCH that makes the host PIN equal the guest PIN', async () => {
      const path = await createRoom();

      const refused = await pexip.api('PATCH', path, {
        pin: '4321',
      });

      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({
        conference: {
          guest_pin: ['The Guest PIN must differ from the Host PIN.'],
        },
      });
    });

    it('accepts host and guest PINs of different lengths', async () => {
      await createRoom({ ...ROOM, pin: '123456', guest_pin: '9876' });
    });

    it('refuses an alias another room already has', async () => {
      await createRoom({ ...ROOM, aliases: [{ alias: 'shared' }] });

      const refused = await pexip.api('POST', CONFERENCES, {
        name: 'room-b',
        aliases: [{ alias: 'shared' }],
      });

      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({
        conference_alias: {
          alias: ['Conference alias with this Alias already exists.'],
        },
      });
    });

    it('ignores fields it does not know', async () => {
      const path = await createRoom({ ...ROOM, from_a_newer_release: true });

      expect((await pexip.api('GET', path)).body).not.toHaveProperty(
        'from_a_newer_release',
      );
    });

    it('answers malformed JSON with 400 {"error": …}', async () => {
      const response = await fetch(`${pexip.url}${CONFERENCES}`, {
        method: 'POST',
        headers: {
          Authorization: basic(pexip.username, pexip.password),
          'Content-Type': 'application/json',
        },
        body: '{"name": ',
      });

      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        error: 'The request body is not valid JSON.',
      });
    });

    it('refuses a body that is not a JSON object', async () => {
      const refused = await pexip.api('POST', CONFERENCES, ['room']);

      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({ error: 'Expected a JSON object.' });
    });
  });

  describe('authentication', () => {
    it.each([
      ['no credentials', undefined],
      ['a wrong password', basic('admin', 'wrong')],
      ['an unknown bearer token', 'Bearer abc'],
    ])('answers %s with an empty 401', async (_case, authorization) => {
      const response = await fetch(`${pexip.url}${CONFERENCES}`, {
        headers: authorization ? { Authorization: authorization } : {},
      });

      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(
        'Basic realm="Pexip"',
      );
      expect(await response.text()).toBe('');
    });

    it('accepts the configured credentials', async () => {
      const other = await startTestSimulator({
        username: 'api',
        password: 'p:ss',
      });
      try {
        const response = await other.api('GET', CONFERENCES);

        expect(response.status).toBe(200);
      } finally {
        await other.close();
      }
    });
  });

  describe('routing', () => {
    it('redirects a GET without the trailing slash, keeping the query', async () => {
      const response = await pexip.api(
        'GET',
        `${CONFIG}/conference?name=room-a`,
      );

      expect(response.status).toBe(301);
      expect(response.headers.get('location')).toBe(
        `${CONFERENCES}?name=room-a`,
      );
    });

    it('answers 404 to a write without the trailing slash', async () => {
      const response = await pexip.api('POST', `${CONFIG}/conference`, ROOM);

      expect(response.status).toBe(404);
      expect((await pexip.api('GET', CONFERENCES)).body.meta.total_count).toBe(
        0,
      );
    });

    it.each([
      [`${CONFIG}/ivr_theme/`],
      [`${CONFERENCES}abc/`],
      ['/api/admin/nothing/'],
    ])('answers 404 for %s', async (path) => {
      const response = await pexip.api('GET', path);

      expect([response.status, response.body]).toEqual([404, undefined]);
    });

    it('answers 501 to a POST on a detail URL', async () => {
      const path = await createRoom();

      expect((await pexip.api('POST', path, ROOM)).status).toBe(501);
    });

    it('answers 405 with Allow to a method the list does not take', async () => {
      const response = await pexip.api('OPTIONS', CONFERENCES);

      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe(
        'GET, POST, PUT, PATCH, DELETE',
      );
    });
  });

  describe('collection writes', () => {
    it('deletes only the filtered rooms on a DELETE of the list', async () => {
      await createRoom({ name: 'keep-1' });
      await createRoom({ name: 'drop-1' });
      await createRoom({ name: 'drop-2' });

      const deleted = await pexip.api(
        'DELETE',
        `${CONFERENCES}?name__startswith=drop`,
      );

      expect(deleted.status).toBe(204);
      const left = await pexip.api('GET', CONFERENCES);
      expect(left.body.objects.map((room: any) => room.name)).toEqual([
        'keep-1',
      ]);
    });

    it('deletes every room on an unfiltered DELETE of the list', async () => {
      await createRoom({ name: 'one' });
      await createRoom({ name: 'two' });

      expect((await pexip.api('DELETE', CONFERENCES)).status).toBe(204);
      expect((await pexip.api('GET', CONFERENCES)).body.meta.total_count).toBe(
        0,
      );
    });

    it('creates, updates and deletes in one bulk PATCH (202)', async () => {
      const updated = await createRoom({ name: 'updated' });
      const deleted = await createRoom({ name: 'deleted' });

      const response = await pexip.api('PATCH', CONFERENCES, {
        objects: [{ name: 'created' }, { resource_uri: updated, tag: 'new' }],
        deleted_objects: [deleted],
      });

      expect(response.status).toBe(202);
      const rooms = (await pexip.api('GET', CONFERENCES)).body.objects;
      expect(rooms.map((room: any) => [room.name, room.tag])).toEqual([
        ['updated', 'new'],
        ['created', ''],
      ]);
    });
  });

  describe('aliases and automatic participants', () => {
    it('adds an alias on its own and lists it by conference', async () => {
      const path = await createRoom();

      const created = await pexip.api('POST', `${CONFIG}/conference_alias/`, {
        alias: 'room-a@example.com',
        conference: path,
      });
      const aliases = await pexip.api(
        'GET',
        `${CONFIG}/conference_alias/?conference=${encodeURIComponent(path)}`,
      );

      expect(created.status).toBe(201);
      expect(aliases.body.objects).toEqual([
        expect.objectContaining({
          alias: 'room-a@example.com',
          conference: path,
          resource_uri: expect.stringMatching(/conference_alias\/\d+\/$/),
        }),
      ]);
    });

    it('nests an automatic participant in its room and detaches it on room delete', async () => {
      const path = await createRoom();
      const created = await pexip.api(
        'POST',
        `${CONFIG}/automatic_participant/`,
        {
          alias: 'sip:queue@contact.example.com',
          conference: [path],
          protocol: 'sip',
          role: 'guest',
          remote_display_name: 'room-a',
        },
      );
      const participant = new URL(created.headers.get('location') as string)
        .pathname;

      const room = await pexip.api('GET', path);
      await pexip.api('DELETE', path);
      const after = await pexip.api('GET', participant);

      expect(room.body.automatic_participants).toEqual([
        expect.objectContaining({
          alias: 'sip:queue@contact.example.com',
          keep_conference_alive: 'keep_conference_alive_if_multiple',
          resource_uri: participant,
        }),
      ]);
      expect(room.body.automatic_participants[0]).not.toHaveProperty(
        'conference',
      );
      expect(after.body.conference).toEqual([]);
    });

    it('refuses an automatic participant for a room that does not exist', async () => {
      const refused = await pexip.api(
        'POST',
        `${CONFIG}/automatic_participant/`,
        { alias: 'sip:x@example.com', conference: [`${CONFERENCES}999/`] },
      );

      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({
        error:
          'Could not find a conference object at the resource URI ' +
          `'${CONFERENCES}999/'.`,
      });
    });
  });
});

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}
