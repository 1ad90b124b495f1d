import { ApiError } from './api-answer';
import { ConfigurationStore } from './configuration.store';
import { parseListRequest } from './list.query';
import { ResourceName } from './resource.schemas';

const ROOM = {
  name: 'room-a',
  service_type: 'conference',
  allow_guests: true,
  pin: '123456',
  guest_pin: '4321',
  tag: '',
};

function refusal(act: () => unknown): ApiError {
  try {
    act();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected the store to refuse');
}

describe('ConfigurationStore', () => {
  let store: ConfigurationStore;

  const list = (resource: ResourceName, query = '') => {
    const page = store.listJson(
      resource,
      parseListRequest(
        new URLSearchParams(query),
        store.queryable(resource),
        20,
        1000,
      ),
    );
    return { ...page, objects: page.objects.map((text) => JSON.parse(text)) };
  };
  const read = (resource: ResourceName, id: number) =>
    JSON.parse(store.getJson(resource, id) ?? 'null');
  const conference = (id: number) => read('conference', id);

  beforeEach(() => {
    store = new ConfigurationStore();
  });

  describe('conference creation', () => {
    it('fills the defaults of every documented field and nests the aliases', () => {
      const id = store.create('conference', {
        ...ROOM,
        aliases: [{ alias: 'room-a' }, { alias: 'sip:a@x', description: 'd' }],
      });

      const room = conference(id);
      expect(room).toMatchObject({
        id: 1,
        name: 'room-a',
        resource_uri: '/api/admin/configuration/v1/conference/1/',
        call_type: 'video',
        crypto_mode: '',
        enable_chat: 'default',
        guests_can_present: true,
        host_view: 'one_main_seven_pips',
        guest_view: null,
        max_callrate_in: null,
        participant_limit: null,
        automatic_participants: [],
      });
      expect(room.creation_time).toMatch(
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/,
      );
      expect(room.aliases).toEqual([
        {
          alias: 'room-a',
          conference: '/api/admin/configuration/v1/conference/1/',
          creation_time: expect.any(String),
          description: '',
          id: 1,
        },
        {
          alias: 'sip:a@x',
          conference: '/api/admin/configuration/v1/conference/1/',
          creation_time: expect.any(String),
          description: 'd',
          id: 2,
        },
      ]);
    });

    it('shows keys in sorted order, as Tastypie serializes them', () => {
      const keys = Object.keys(conference(store.create('conference', ROOM)));

      expect(keys).toEqual([...keys].sort());
    });

    it('ignores fields it does not know', () => {
      const id = store.create('conference', { ...ROOM, future_field: 1 });

      expect(conference(id)).not.toHaveProperty('future_field');
    });

    it('numbers objects from 1 and never reuses an id, even after clear()', () => {
      store.create('conference', { name: 'one' });
      const second = store.create('conference', { name: 'two' });
      store.remove('conference', second);
      const third = store.create('conference', { name: 'three' });
      store.clear();
      const fourth = store.create('conference', { name: 'four' });

      expect([second, third, fourth]).toEqual([2, 3, 4]);
    });

    it('refuses a missing name', () => {
      const error = refusal(() => store.create('conference', {}));

      expect(error.status).toBe(400);
      expect(error.body).toEqual({
        conference: { name: ['This field is required.'] },
      });
    });

    it('refuses a duplicate name with the message Pexip sends', () => {
      store.create('conference', ROOM);

      const error = refusal(() => store.create('conference', ROOM));

      expect(error.body).toEqual({
        conference: {
          name: ['Virtual Meeting Room with this Name already exists.'],
        },
      });
    });

    it('treats names differing only in case as different rooms', () => {
      store.create('conference', { name: 'Room' });

      expect(store.create('conference', { name: 'room' })).toBe(2);
    });
  });

  describe('PIN rules', () => {
    const pinMessage =
      'A PIN is 4 to 20 characters long: digits only, optionally ending ' +
      'with a single #.';

    it.each([
      [
        'a 6-digit host and 4-digit guest PIN',
        { pin: '123456', guest_pin: '9876' },
      ],
      ['a PIN ending in #', { pin: '123#', guest_pin: '' }],
      ['20 digits', { pin: '1'.repeat(20), guest_pin: '' }],
      [
        'no PINs and no guests',
        { pin: '', guest_pin: '', allow_guests: false },
      ],
    ])('accepts %s', (_case, pins) => {
      expect(() =>
        store.create('conference', { ...ROOM, ...pins }),
      ).not.toThrow();
    });

    it.each([
      ['3 digits', { pin: '123' }, { pin: [pinMessage] }],
      ['21 digits', { pin: '1'.repeat(21) }, { pin: [pinMessage] }],
      ['a letter', { pin: '12a4' }, { pin: [pinMessage] }],
      ['two #', { pin: '1234##' }, { pin: [pinMessage] }],
      ['# inside', { guest_pin: '12#4' }, { guest_pin: [pinMessage] }],
      [
        'guests without a host PIN',
        { pin: '', guest_pin: '' },
        {
          allow_guests: ['Guests can only be allowed when a Host PIN is set.'],
        },
      ],
      [
        'a guest PIN without a host PIN',
        { pin: '', guest_pin: '1234', allow_guests: false },
        { guest_pin: ['A Guest PIN can only be set with a Host PIN.'] },
      ],
      [
        'equal PINs',
        { pin: '1234', guest_pin: '1234' },
        { guest_pin: ['The Guest PIN must differ from the Host PIN.'] },
      ],
    ])('refuses %s', (_case, pins, errors) => {
      const error = refusal(() =>
        store.create('conference', { ...ROOM, ...pins }),
      );

      expect(error.body).toEqual({ conference: errors });
    });

    it('applies the rules to the merged object on update', () => {
      const id = store.create('conference', ROOM);

      const error = refusal(() => store.update('conference', id, { pin: '' }));

      expect(error.body).toEqual({
        conference: {
          allow_guests: ['Guests can only be allowed when a Host PIN is set.'],
          guest_pin: ['A Guest PIN can only be set with a Host PIN.'],
        },
      });
      expect(conference(id).pin).toBe('123456');
    });
  });

  describe('field rules', () => {
    it.each([
      ['service_type', 'webinar', "Value 'webinar' is not a valid choice."],
      ['call_type', 'hologram', "Value 'hologram' is not a valid choice."],
      ['crypto_mode', 'maybe', "Value 'maybe' is not a valid choice."],
      ['host_view', 'one_big', "Value 'one_big' is not a valid choice."],
      ['enable_chat', 'sometimes', "Value 'sometimes' is not a valid choice."],
      ['max_pixels_per_second', '4k', "Value '4k' is not a valid choice."],
      [
        'max_callrate_in',
        127,
        'Ensure this value is greater than or equal to 128.',
      ],
      [
        'max_callrate_out',
        8193,
        'Ensure this value is less than or equal to 8192.',
      ],
      [
        'participant_limit',
        1_000_001,
        'Ensure this value is less than or equal to 1000000.',
      ],
      [
        'tag',
        'x'.repeat(251),
        'Ensure this value has at most 250 characters (it has 251).',
      ],
    ])('refuses %s = %j', (field, value, message) => {
      const error = refusal(() =>
        store.create('conference', { ...ROOM, [field]: value }),
      );

      expect(error.body).toEqual({ conference: { [field]: [message] } });
    });

    it.each([
      ['crypto_mode', ''],
      ['crypto_mode', null],
      ['crypto_mode', 'besteffort'],
      ['max_callrate_in', 8192],
      ['max_callrate_in', null],
      ['participant_limit', 0],
      ['guest_view', 'five_mains_seven_pips'],
      ['max_pixels_per_second', null],
    ])('accepts %s = %j', (field, value) => {
      const id = store.create('conference', { ...ROOM, [field]: value });

      expect(conference(id)[field]).toBe(value);
    });
  });

  describe('aliases', () => {
    it('refuses an alias that another room already has, creating nothing', () => {
      store.create('conference', { ...ROOM, aliases: [{ alias: 'shared' }] });

      const error = refusal(() =>
        store.create('conference', {
          name: 'room-b',
          aliases: [{ alias: 'shared' }],
        }),
      );

      expect(error.body).toEqual({
        conference_alias: {
          alias: ['Conference alias with this Alias already exists.'],
        },
      });
      expect(store.findConference('room-b')).toBeUndefined();
    });

    it('refuses a duplicate alias created on its own', () => {
      store.create('conference', { ...ROOM, aliases: [{ alias: 'shared' }] });

      const error = refusal(() =>
        store.create('conference_alias', {
          alias: 'shared',
          conference: '/api/admin/configuration/v1/conference/1/',
        }),
      );

      expect(error.status).toBe(400);
      expect(error.body).toEqual({
        conference_alias: {
          alias: ['Conference alias with this Alias already exists.'],
        },
      });
    });

    it('replaces the alias list on update, keeping aliases still listed', () => {
      const id = store.create('conference', {
        ...ROOM,
        aliases: [{ alias: 'a' }, { alias: 'b' }],
      });

      store.update('conference', id, {
        aliases: [{ alias: 'b', description: 'kept' }, { alias: 'c' }],
      });

      expect(
        conference(id).aliases.map((a: any) => [a.id, a.alias, a.description]),
      ).toEqual([
        [2, 'b', 'kept'],
        [3, 'c', ''],
      ]);
      expect(list('conference_alias', 'alias=a').total).toBe(0);
    });

    it('refuses an alias for a conference that does not exist', () => {
      const error = refusal(() =>
        store.create('conference_alias', {
          alias: 'x',
          conference: '/api/admin/configuration/v1/conference/99/',
        }),
      );

      expect(error.body).toEqual({
        error:
          'Could not find a conference object at the resource URI ' +
          "'/api/admin/configuration/v1/conference/99/'.",
      });
    });
  });

  describe('deletion', () => {
    it('takes the aliases of a room with it and frees their names', () => {
      const id = store.create('conference', {
        ...ROOM,
        aliases: [{ alias: 'room-a' }],
      });

      store.remove('conference', id);

      expect(list('conference_alias').total).toBe(0);
      expect(() =>
        store.create('conference', { ...ROOM, aliases: [{ alias: 'room-a' }] }),
      ).not.toThrow();
    });

    it('detaches automatic participants but keeps them', () => {
      const id = store.create('conference', ROOM);
      const participant = store.create('automatic_participant', {
        alias: 'sip:queue@example.com',
        conference: ['/api/admin/configuration/v1/conference/1/'],
      });
      expect(conference(id).automatic_participants).toHaveLength(1);

      store.remove('conference', id);

      expect(read('automatic_participant', participant)).toMatchObject({
        alias: 'sip:queue@example.com',
        conference: [],
      });
    });

    it('answers 404 for an object that does not exist', () => {
      expect(refusal(() => store.remove('conference', 7)).status).toBe(404);
      expect(refusal(() => store.update('conference', 7, {})).status).toBe(404);
    });
  });

  describe('reads after writes', () => {
    const CONFERENCE_1 = '/api/admin/configuration/v1/conference/1/';

    it('shows alias changes made through the alias resource', () => {
      const id = store.create('conference', ROOM);
      expect(conference(id).aliases).toEqual([]);

      const alias = store.create('conference_alias', {
        alias: 'added',
        conference: CONFERENCE_1,
      });
      const afterAdd = conference(id).aliases.map((a: any) => a.alias);
      store.update('conference_alias', alias, { alias: 'renamed' });
      const afterRename = conference(id).aliases.map((a: any) => a.alias);
      store.remove('conference_alias', alias);

      expect(afterAdd).toEqual(['added']);
      expect(afterRename).toEqual(['renamed']);
      expect(conference(id).aliases).toEqual([]);
    });

    it('shows participant changes made through the participant resource', () => {
      const id = store.create('conference', ROOM);
      const participant = store.create('automatic_participant', {
        alias: 'sip:queue@example.com',
        conference: [CONFERENCE_1],
      });
      expect(conference(id).automatic_participants[0].role).toBe('guest');

      store.update('automatic_participant', participant, { role: 'chair' });
      const afterUpdate = conference(id).automatic_participants;
      store.update('automatic_participant', participant, { conference: [] });

      expect(afterUpdate[0].role).toBe('chair');
      expect(conference(id).automatic_participants).toEqual([]);
    });

    it('finds a retagged room by its new tag only', () => {
      store.create('conference', { ...ROOM, tag: 'old' });

      store.update('conference', 1, { tag: 'new' });

      expect(list('conference', 'tag=old').total).toBe(0);
      expect(list('conference', 'tag=new').objects[0].tag).toBe('new');
    });
  });

  describe('lists', () => {
    beforeEach(() => {
      for (const name of ['alpha', 'Alpine', 'beta']) {
        store.create('conference', {
          name,
          tag: `tag-${name}`,
          aliases: [{ alias: `${name}@example.com` }],
        });
      }
    });

    const names = (query: string) =>
      list('conference', query).objects.map((room: any) => room.name);

    it.each([
      ['name=alpha', ['alpha']],
      ['name=ALPHA', []],
      ['name__startswith=Al', ['Alpine']],
      ['name__istartswith=al', ['alpha', 'Alpine']],
      ['name__icontains=ET', ['beta']],
      ['tag__startswith=tag-b', ['beta']],
      ['aliases__alias=beta@example.com', ['beta']],
      ['service_type__in=lecture,conference', ['alpha', 'Alpine', 'beta']],
      ['order_by=-name', ['beta', 'alpha', 'Alpine']],
      ['name__istartswith=al&tag=tag-Alpine', ['Alpine']],
    ])('selects %s', (query, expected) => {
      expect(names(query)).toEqual(expected);
    });

    it('follows a rename in the name index', () => {
      store.update('conference', 1, { name: 'gamma' });

      expect(names('name=alpha')).toEqual([]);
      expect(names('name=gamma')).toEqual(['gamma']);
    });

    it('deletes only the objects the filters select', () => {
      const request = parseListRequest(
        new URLSearchParams('name__istartswith=al'),
        store.queryable('conference'),
        20,
        1000,
      );

      expect(store.removeMatching('conference', request)).toBe(2);
      expect(names('')).toEqual(['beta']);
    });
  });
});
