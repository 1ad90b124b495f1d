import type { PexipConference } from '../pexip/pexip.types';
import { toConstrainedRoom, toCreatedRoom, toFullRoom } from './room.mapper';

const pexipRoom: PexipConference = {
  id: 90,
  name: 'kQ3vN0b1c2d3e4f5g6h7iA',
  service_type: 'conference',
  allow_guests: true,
  pin: '730194',
  guest_pin: '4821',
  tag: 'https://id.gov.bc.ca/idcheck/protected/video/MTIzNDU2LDc2NTQzMg',
  description: '',
  resource_uri: '/api/admin/configuration/v1/conference/90/',
  creation_time: '2024-03-05T14:31:06.131007',
  host_view: 'one_main_seven_pips',
  future_pexip_field: { nested: true },
  aliases: [
    {
      id: 85,
      alias: 'kQ3vN0b1c2d3e4f5g6h7iA',
      conference: '/api/admin/configuration/v1/conference/90/',
      creation_time: '2024-03-05T14:31:06.145782',
      description: '',
      resource_uri: '/api/admin/configuration/v1/conference_alias/85/',
    },
  ],
};

const expectedAlias = {
  id: 85,
  alias: 'kQ3vN0b1c2d3e4f5g6h7iA',
  conference: '/api/admin/configuration/v1/conference/90/',
  creation_time: '2024-03-05T14:31:06.145782',
  description: '',
};

describe('room mapping', () => {
  it('shows a created room without the host PIN or any other field', () => {
    expect(toCreatedRoom(pexipRoom)).toStrictEqual({
      id: 90,
      name: 'kQ3vN0b1c2d3e4f5g6h7iA',
      service_type: 'conference',
      allow_guests: true,
      guest_pin: '4821',
      tag: pexipRoom.tag,
      aliases: [expectedAlias],
    });
  });

  it('shows a constrained room with exactly the eight documented fields', () => {
    const room = toConstrainedRoom(pexipRoom);

    expect(Object.keys(room).sort()).toEqual([
      'aliases',
      'allow_guests',
      'guest_pin',
      'id',
      'name',
      'pin',
      'service_type',
      'tag',
    ]);
    expect(room.pin).toBe('730194');
    expect(room.aliases).toStrictEqual([expectedAlias]);
  });

  it('passes unknown Pexip fields through in the full shape', () => {
    const room = toFullRoom(pexipRoom);

    expect(room.future_pexip_field).toEqual({ nested: true });
    expect(room.host_view).toBe('one_main_seven_pips');
    expect(room).not.toBe(pexipRoom);
  });
});
