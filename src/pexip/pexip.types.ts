/**
 * Shapes of the Pexip Infinity management API, as the adapter sees them.
 * "Conference" is Pexip's word for what the rest of the service calls a room;
 * it appears only in this folder.
 *
 * Pexip adds fields in new releases, so every object type keeps an index
 * signature: unknown keys are carried through, never rejected.
 */

export const CONFIGURATION_PATH = '/api/admin/configuration/v1';
export const CONFERENCE_PATH = `${CONFIGURATION_PATH}/conference/`;
export const CONFERENCE_ALIAS_PATH = `${CONFIGURATION_PATH}/conference_alias/`;
export const AUTOMATIC_PARTICIPANT_PATH = `${CONFIGURATION_PATH}/automatic_participant/`;
export const STATUS_CONFERENCE_PATH = '/api/admin/status/v1/conference/';
export const OAUTH_TOKEN_PATH = '/oauth/token/';

export interface PexipAlias {
  id: number;
  alias: string;
  /** Resource URI of the owning conference. */
  conference: string;
  creation_time: string;
  description: string;
  [field: string]: unknown;
}

export interface PexipConference {
  id: number;
  name: string;
  service_type: string;
  allow_guests: boolean;
  pin: string;
  guest_pin: string;
  tag: string;
  description: string;
  aliases: PexipAlias[];
  automatic_participants?: unknown[];
  resource_uri: string;
  creation_time?: string;
  [field: string]: unknown;
}

/** Body of a conference POST: the room recipe, aliases created inline. */
export interface NewPexipConference {
  name: string;
  service_type: 'conference';
  allow_guests: boolean;
  pin: string;
  guest_pin: string;
  tag: string;
  description?: string;
  aliases: { alias: string; description?: string }[];
}

/** Body of an automatic_participant POST. */
export interface NewPexipAutomaticParticipant {
  alias: string;
  /** Conference resource URIs (a to-many field). */
  conference: string[];
  protocol: 'sip';
  role: 'guest' | 'chair';
  call_type?: 'audio' | 'video' | 'video-only';
  remote_display_name?: string;
  routing?: 'manual' | 'routing_rule';
  keep_conference_alive?:
    | 'keep_conference_alive'
    | 'keep_conference_alive_if_multiple'
    | 'keep_conference_alive_never';
  description?: string;
}

/** An automatic participant as Pexip returns it. */
export interface PexipAutomaticParticipant {
  id: number;
  alias: string;
  /** Conference resource URIs; one participant may serve several rooms. */
  conference: string[];
  resource_uri?: string;
  [field: string]: unknown;
}

/** The fields a PATCH may change. */
export type PexipConferencePatch = Partial<
  Pick<PexipConference, 'pin' | 'guest_pin' | 'tag' | 'description'> & {
    participant_limit: number | null;
    mute_all_guests: boolean;
    max_callrate_in: number | null;
    max_callrate_out: number | null;
    host_view: string | null;
    guest_view: string | null;
    call_type: string;
    crypto_mode: string | null;
  }
>;

/** Filters of a conference list; all optional, combined with AND. */
export interface PexipConferenceFilter {
  name?: string;
  namePrefix?: string;
  tag?: string;
}

/** The list envelope Pexip wraps every collection in. */
export interface PexipListPage<T> {
  meta: {
    limit?: number;
    next?: string | null;
    offset?: number;
    previous?: string | null;
    total_count?: number;
  };
  objects: T[];
}

export function conferenceUri(id: number): string {
  return `${CONFERENCE_PATH}${id}/`;
}

export function automaticParticipantUri(id: number): string {
  return `${AUTOMATIC_PARTICIPANT_PATH}${id}/`;
}
