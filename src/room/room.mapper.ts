import type { PexipAlias, PexipConference } from '../pexip/pexip.types';
import type { AliasResponseDto } from './dto/alias.response.dto';
import type { ConstrainedRoomResponseDto } from './dto/constrained-room.response.dto';
import type { CreatedRoomResponseDto } from './dto/created-room.response.dto';
import type { FullRoomResponseDto } from './dto/full-room.response.dto';

/**
 * The three ways the API shows a room. The constrained shapes copy named
 * fields only, so nothing Pexip adds ever leaks into them.
 */

export function toAlias(alias: PexipAlias): AliasResponseDto {
  return {
    id: alias.id,
    alias: alias.alias,
    conference: alias.conference,
    creation_time: alias.creation_time,
    description: alias.description ?? '',
  };
}

/** The answer of a create: no host PIN, ever. */
export function toCreatedRoom(room: PexipConference): CreatedRoomResponseDto {
  return {
    id: room.id,
    name: room.name,
    service_type: room.service_type,
    allow_guests: room.allow_guests,
    guest_pin: room.guest_pin,
    tag: room.tag,
    aliases: (room.aliases ?? []).map(toAlias),
  };
}

export function toConstrainedRoom(
  room: PexipConference,
): ConstrainedRoomResponseDto {
  return {
    id: room.id,
    name: room.name,
    service_type: room.service_type,
    allow_guests: room.allow_guests,
    pin: room.pin,
    guest_pin: room.guest_pin,
    tag: room.tag,
    aliases: (room.aliases ?? []).map(toAlias),
  };
}

/** Everything Pexip holds, unknown fields included. */
export function toFullRoom(room: PexipConference): FullRoomResponseDto {
  return { ...room };
}
