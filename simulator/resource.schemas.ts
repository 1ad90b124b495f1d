import { FieldSpec, FieldSpecs } from './field.validator';

/**
 * The writable fields of the three configuration resources the simulator
 * keeps, with the defaults and rules of Pexip's server schema. Relations
 * (aliases, automatic participants, a participant's conferences) and
 * server-assigned fields (id, resource_uri, creation_time) are handled by
 * the store, not here.
 */

export const CONFIGURATION_PREFIX = '/api/admin/configuration/v1/';
export const STATUS_PREFIX = '/api/admin/status/v1/';

export type ResourceName =
  'conference' | 'conference_alias' | 'automatic_participant';

/** `/api/admin/configuration/v1/<resource>/<id>/` */
export function resourceUri(resource: ResourceName, id: number): string {
  return `${CONFIGURATION_PREFIX}${resource}/${id}/`;
}

const URI_PATTERNS: Record<ResourceName, RegExp> = {
  conference: uriPattern('conference'),
  conference_alias: uriPattern('conference_alias'),
  automatic_participant: uriPattern('automatic_participant'),
};

function uriPattern(resource: ResourceName): RegExp {
  return new RegExp(`^${CONFIGURATION_PREFIX}${resource}/(\\d+)/$`);
}

/**
 * The id a resource URI of `resource` names; absolute URLs are accepted.
 *
 * @returns the id, or `undefined` when `uri` is no such URI
 * @example idFromUri('conference', '/api/admin/configuration/v1/conference/7/') // 7
 */
export function idFromUri(
  resource: ResourceName,
  uri: string,
): number | undefined {
  const path = URL.canParse(uri, 'http://localhost')
    ? new URL(uri, 'http://localhost').pathname
    : uri;
  const match = URI_PATTERNS[resource].exec(path);
  return match ? Number(match[1]) : undefined;
}

const LAYOUTS = [
  'one_main_zero_pips',
  'one_main_seven_pips',
  'one_main_twentyone_pips',
  'two_mains_twentyone_pips',
  'four_mains_zero_pips',
  'nine_mains_zero_pips',
  'sixteen_mains_zero_pips',
  'twentyfive_mains_zero_pips',
  'five_mains_seven_pips',
] as const;

const SERVICE_TYPES = [
  'conference',
  'lecture',
  'two_stage_dialing',
  'test_call',
  'media_playback',
] as const;

const CALL_TYPES = ['audio', 'video', 'video-only'] as const;

/** 4–20 characters counting the optional terminal `#`; `''` means no PIN. */
const PIN_PATTERN = /^(?:\d{4,20}|\d{3,19}#)$/;

const PIN_FORMAT = {
  test: (value: string) => PIN_PATTERN.test(value),
  message:
    'A PIN is 4 to 20 characters long: digits only, optionally ending ' +
    'with a single #.',
};

const text = (maxLength = 250, defaultValue = ''): FieldSpec => ({
  type: 'string',
  default: defaultValue,
  maxLength,
});

const choice = (
  choices: readonly string[],
  defaultValue: string | null,
  nullable = false,
): FieldSpec => ({
  type: 'string',
  default: defaultValue,
  choices,
  nullable,
  blank: false,
  maxLength: 50,
});

const flag = (defaultValue: boolean): FieldSpec => ({
  type: 'boolean',
  default: defaultValue,
});

const related = (): FieldSpec => ({
  type: 'related',
  default: null,
  nullable: true,
});

const callRate = (): FieldSpec => ({
  type: 'integer',
  default: null,
  nullable: true,
  min: 128,
  max: 8192,
});

export const CONFERENCE_FIELDS: FieldSpecs = {
  name: { type: 'string', blank: false, maxLength: 250 },
  service_type: choice(SERVICE_TYPES, 'conference'),
  description: text(),
  tag: text(),
  pin: { ...text(), format: PIN_FORMAT },
  guest_pin: { ...text(), format: PIN_FORMAT },
  allow_guests: flag(false),
  guests_can_present: flag(true),
  guests_can_see_guests: choice(['no_hosts', 'never', 'always'], 'no_hosts'),
  mute_all_guests: flag(false),
  call_type: choice(CALL_TYPES, 'video'),
  crypto_mode: {
    ...choice(['besteffort', 'on', 'off'], ''),
    nullable: true,
    blank: true,
  },
  max_callrate_in: callRate(),
  max_callrate_out: callRate(),
  max_pixels_per_second: choice(['sd', 'hd', 'fullhd'], null, true),
  participant_limit: {
    type: 'integer',
    default: null,
    nullable: true,
    min: 0,
    max: 1_000_000,
  },
  host_view: choice(LAYOUTS, 'one_main_seven_pips', true),
  guest_view: choice(LAYOUTS, null, true),
  enable_chat: choice(['default', 'yes', 'no'], 'default'),
  enable_overlay_text: flag(false),
  enable_active_speaker_indication: flag(false),
  force_presenter_into_main: flag(false),
  denoise_enabled: flag(false),
  softmute_enabled: flag(false),
  breakout_rooms: flag(false),
  direct_media: choice(['never', 'best_effort', 'always'], 'never'),
  direct_media_notification_duration: {
    type: 'integer',
    default: 0,
    min: 0,
    max: 30,
  },
  live_captions_enabled: choice(['default', 'yes', 'no'], 'default'),
  non_idp_participants: choice(
    ['disallow_all', 'allow_if_trusted'],
    'disallow_all',
  ),
  primary_owner_email_address: text(100),
  match_string: text(),
  replace_string: text(),
  post_match_string: text(),
  post_replace_string: text(),
  two_stage_dial_type: choice(['regular', 'mssip', 'gms', 'teams'], 'regular'),
  sync_tag: text(),
  on_completion: text(),
  ivr_theme: related(),
  media_playlist: related(),
  mssip_proxy: related(),
  system_location: related(),
  teams_proxy: related(),
  gms_access_token: related(),
  host_identity_provider_group: related(),
  guest_identity_provider_group: related(),
  pinning_config: related(),
};

export const ALIAS_FIELDS: FieldSpecs = {
  alias: { type: 'string', blank: false, maxLength: 250 },
  description: text(),
};

export const PARTICIPANT_FIELDS: FieldSpecs = {
  alias: { type: 'string', blank: false, maxLength: 250 },
  protocol: choice(['sip', 'h323', 'mssip', 'rtmp', 'gms', 'teams'], 'sip'),
  role: choice(['guest', 'chair'], 'guest'),
  call_type: choice(CALL_TYPES, 'video'),
  dtmf_sequence: text(),
  keep_conference_alive: choice(
    [
      'keep_conference_alive',
      'keep_conference_alive_if_multiple',
      'keep_conference_alive_never',
    ],
    'keep_conference_alive_if_multiple',
  ),
  routing: choice(['manual', 'routing_rule'], 'manual'),
  system_location: related(),
  streaming: flag(false),
  remote_display_name: text(),
  presentation_url: text(),
  description: text(),
};

/** Fields a list may be filtered on, per resource (Tastypie's `filtering`). */
export const FILTERABLE_FIELDS: Readonly<Record<ResourceName, string[]>> = {
  conference: [
    'id',
    'name',
    'tag',
    'service_type',
    'description',
    'allow_guests',
    'enable_chat',
    'enable_overlay_text',
    'pin',
    'guest_pin',
    'participant_limit',
    'max_callrate_in',
    'max_callrate_out',
    'primary_owner_email_address',
    'creation_time',
    'two_stage_dial_type',
    'aliases',
  ],
  conference_alias: [
    'id',
    'alias',
    'conference',
    'description',
    'creation_time',
  ],
  automatic_participant: [
    'id',
    'alias',
    'conference',
    'protocol',
    'role',
    'description',
    'creation_time',
  ],
};

/** Fields a list may be ordered by, per resource. */
export const ORDERABLE_FIELDS: Readonly<Record<ResourceName, string[]>> = {
  conference: FILTERABLE_FIELDS.conference.filter((f) => f !== 'aliases'),
  conference_alias: ['id', 'alias', 'description', 'creation_time'],
  automatic_participant: [
    'id',
    'alias',
    'protocol',
    'role',
    'description',
    'creation_time',
  ],
};
