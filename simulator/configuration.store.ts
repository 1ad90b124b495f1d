import { ApiError } from './api-answer';
import {
  cleanFields,
  FieldErrors,
  FieldSpecs,
  FieldValue,
} from './field.validator';
import {
  filterRows,
  FilterField,
  ListRequest,
  Queryable,
  selectPage,
} from './list.query';
import {
  ALIAS_FIELDS,
  CONFERENCE_FIELDS,
  FILTERABLE_FIELDS,
  idFromUri,
  ORDERABLE_FIELDS,
  PARTICIPANT_FIELDS,
  ResourceName,
  resourceUri,
} from './resource.schemas';
import { naiveIsoNow } from './timestamps';

// Rows are class instances so that every row of a table shares one hidden
// class: list filters read tens of thousands of them per request, and
// V8 reads uniform objects many times faster than varied ones.

abstract class Row {
  readonly creationTime = naiveIsoNow();

  constructor(
    readonly id: number,
    public values: Record<string, FieldValue>,
  ) {}
}

class ConferenceRow extends Row {
  readonly aliasIds = new Set<number>();
  readonly participantIds = new Set<number>();
  /** The serialized object, kept until anything it shows changes. */
  json: string | undefined = undefined;
}

class AliasRow extends Row {
  constructor(
    id: number,
    values: Record<string, FieldValue>,
    public conferenceId: number,
  ) {
    super(id, values);
  }
}

class ParticipantRow extends Row {
  readonly conferenceIds = new Set<number>();
}

type Body = Record<string, unknown>;

/** An entry of a planned to-many list: an existing row, new values, or both. */
interface PlannedChild<R extends Row> {
  row?: R;
  values?: Record<string, FieldValue>;
}

/** The few facts about a room that the call simulator needs. */
export interface ConferenceFacts {
  name: string;
  service_type: string;
  tag: string;
}

const DUPLICATE_NAME = 'Virtual Meeting Room with this Name already exists.';
const DUPLICATE_ALIAS = 'Conference alias with this Alias already exists.';

/** Server-assigned or relation fields each resource shows besides its specs. */
const EXTRA_KEYS: Record<ResourceName, string[]> = {
  conference: [
    'id',
    'resource_uri',
    'creation_time',
    'aliases',
    'automatic_participants',
    'scheduled_conferences',
    'scheduled_conferences_count',
  ],
  conference_alias: ['id', 'resource_uri', 'creation_time', 'conference'],
  automatic_participant: ['id', 'resource_uri', 'creation_time', 'conference'],
};

const SPECS: Record<ResourceName, FieldSpecs> = {
  conference: CONFERENCE_FIELDS,
  conference_alias: ALIAS_FIELDS,
  automatic_participant: PARTICIPANT_FIELDS,
};

// Tastypie's serializer sorts keys, so every object is built in that order.
const OUTPUT_KEYS = Object.fromEntries(
  Object.entries(SPECS).map(([resource, specs]) => [
    resource,
    [...Object.keys(specs), ...EXTRA_KEYS[resource as ResourceName]].sort(),
  ]),
) as Record<ResourceName, string[]>;

const NESTED_ALIAS_KEYS = OUTPUT_KEYS.conference_alias.filter(
  (key) => key !== 'resource_uri',
);
const NESTED_PARTICIPANT_KEYS = OUTPUT_KEYS.automatic_participant.filter(
  (key) => key !== 'conference',
);

/**
 * The simulator's in-memory configuration database: conferences, their
 * aliases and automatic participants, with Pexip's validation, unique
 * constraints, cascades and indexes for the lookups clients make most
 * (exact name, tag and alias).
 *
 * Every write validates everything first and then applies all of it, so a
 * refused request changes nothing. Ids start at 1 and are never reused,
 * not even after `clear()`.
 *
 * Objects come out as JSON text. A conference's text is cached until
 * something it shows changes (its fields, aliases or participants), so a
 * page of a thousand rooms costs a join rather than a re-encode.
 */
export class ConfigurationStore {
  private readonly conferences = new Map<number, ConferenceRow>();
  private readonly aliases = new Map<number, AliasRow>();
  private readonly participants = new Map<number, ParticipantRow>();
  private readonly conferenceIdByName = new Map<string, number>();
  private readonly conferenceIdsByTag = new Map<string, Set<number>>();
  private readonly aliasIdByText = new Map<string, number>();
  private readonly nextId: Record<ResourceName, number> = {
    conference: 1,
    conference_alias: 1,
    automatic_participant: 1,
  };
  private readonly queryables: Record<ResourceName, Queryable<Row>>;

  constructor() {
    this.queryables = {
      conference: this.conferenceQueryable() as Queryable<Row>,
      conference_alias: this.aliasQueryable() as Queryable<Row>,
      automatic_participant: this.participantQueryable() as Queryable<Row>,
    };
  }

  /** Field knowledge the list-query parser needs for `resource`. */
  queryable(resource: ResourceName): Queryable<Row> {
    return this.queryables[resource];
  }

  /** One page of `resource` as JSON texts, with the total before paging. */
  listJson(
    resource: ResourceName,
    request: ListRequest<Row>,
  ): { total: number; objects: string[] } {
    const { total, rows } = selectPage(
      this.candidates(resource, request),
      request,
    );
    return { total, objects: rows.map((row) => this.serialize(resource, row)) };
  }

  /** The object as a detail GET shows it, as JSON text, or `undefined`. */
  getJson(resource: ResourceName, id: number): string | undefined {
    const row = this.table(resource).get(id);
    return row && this.serialize(resource, row);
  }

  /**
   * Creates one object from a POST body.
   *
   * @returns the new object's id
   * @throws ApiError 400 with field messages or a top-level error
   */
  create(resource: ResourceName, body: Body): number {
    switch (resource) {
      case 'conference':
        return this.createConference(body);
      case 'conference_alias':
        return this.createAlias(body);
      default:
        return this.createParticipant(body);
    }
  }

  /**
   * Merges `body` into an object and saves it; to-many lists given in the
   * body replace the stored ones.
   *
   * @throws ApiError 404 when there is no such object, 400 when invalid
   */
  update(resource: ResourceName, id: number, body: Body): void {
    switch (resource) {
      case 'conference':
        return this.updateConference(this.existing(this.conferences, id), body);
      case 'conference_alias':
        return this.updateAlias(this.existing(this.aliases, id), body);
      default:
        return this.updateParticipant(
          this.existing(this.participants, id),
          body,
        );
    }
  }

  /**
   * Deletes one object. A conference takes its aliases with it and leaves
   * the automatic participants it had, detached.
   *
   * @throws ApiError 404 when there is no such object
   */
  remove(resource: ResourceName, id: number): void {
    switch (resource) {
      case 'conference':
        return this.removeConference(this.existing(this.conferences, id));
      case 'conference_alias':
        return this.removeAlias(this.existing(this.aliases, id));
      default:
        return this.removeParticipant(this.existing(this.participants, id));
    }
  }

  /** Deletes every object the request's filters select; returns how many. */
  removeMatching(resource: ResourceName, request: ListRequest<Row>): number {
    const doomed = filterRows(
      this.candidates(resource, request),
      request.conditions,
    );
    for (const row of doomed) this.remove(resource, row.id);
    return doomed.length;
  }

  /** Name, type and tag of the conference called `name`, if any. */
  findConference(name: string): ConferenceFacts | undefined {
    const id = this.conferenceIdByName.get(name);
    const row = id === undefined ? undefined : this.conferences.get(id);
    if (!row) return undefined;
    return {
      name: row.values.name as string,
      service_type: row.values.service_type as string,
      tag: row.values.tag as string,
    };
  }

  /** Forgets every object; ids keep counting so none is ever reused. */
  clear(): void {
    this.conferences.clear();
    this.aliases.clear();
    this.participants.clear();
    this.conferenceIdByName.clear();
    this.conferenceIdsByTag.clear();
    this.aliasIdByText.clear();
  }

  private table(resource: ResourceName): Map<number, Row> {
    if (resource === 'conference') return this.conferences;
    if (resource === 'conference_alias') return this.aliases;
    return this.participants;
  }

  private existing<R>(rows: Map<number, R>, id: number): R {
    const row = rows.get(id);
    if (!row) throw ApiError.notFound();
    return row;
  }

  /** Rows worth testing: an index hit for exact lookups, else all of them. */
  private candidates(
    resource: ResourceName,
    request: ListRequest<Row>,
  ): Iterable<Row> {
    for (const { path, lookup, value } of request.conditions) {
      if (lookup !== 'exact' || typeof value !== 'string') continue;

      if (resource === 'conference' && path === 'name') {
        return this.rowsWithIds(this.conferences, [
          this.conferenceIdByName.get(value),
        ]);
      }
      if (resource === 'conference' && path === 'tag') {
        const ids = this.conferenceIdsByTag.get(value) ?? [];
        return this.rowsWithIds(
          this.conferences,
          [...ids].sort((a, b) => a - b),
        );
      }
      if (resource === 'conference' && path === 'aliases__alias') {
        const aliasId = this.aliasIdByText.get(value);
        const alias =
          aliasId === undefined ? undefined : this.aliases.get(aliasId);
        return this.rowsWithIds(this.conferences, [alias?.conferenceId]);
      }
      if (resource === 'conference_alias' && path === 'alias') {
        return this.rowsWithIds(this.aliases, [this.aliasIdByText.get(value)]);
      }
    }
    return this.table(resource).values();
  }

  private rowsWithIds<R>(rows: Map<number, R>, ids: (number | undefined)[]) {
    return ids.flatMap((id) => {
      const row = id === undefined ? undefined : rows.get(id);
      return row ? [row] : [];
    });
  }

  // ---- conferences ------------------------------------------------------

  private createConference(body: Body): number {
    const { values, errors } = cleanFields(CONFERENCE_FIELDS, body, undefined);
    this.checkConference(values, errors, undefined);
    if (Object.keys(errors).length > 0) {
      throw ApiError.invalid('conference', errors);
    }
    const aliases = this.planAliases(body.aliases, undefined);
    const participants = this.planParticipants(body.automatic_participants);

    const row = new ConferenceRow(this.nextId.conference++, values);
    this.conferences.set(row.id, row);
    this.indexConference(row);
    this.applyAliases(row, aliases);
    this.applyParticipants(row, participants);
    return row.id;
  }

  private updateConference(row: ConferenceRow, body: Body): void {
    const { values, errors } = cleanFields(CONFERENCE_FIELDS, body, row.values);
    this.checkConference(values, errors, row);
    if (Object.keys(errors).length > 0) {
      throw ApiError.invalid('conference', errors);
    }
    const aliases =
      'aliases' in body ? this.planAliases(body.aliases, row) : undefined;
    const participants =
      'automatic_participants' in body
        ? this.planParticipants(body.automatic_participants)
        : undefined;

    this.unindexConference(row);
    row.values = values;
    this.indexConference(row);
    this.touch(row);
    if (aliases) this.applyAliases(row, aliases);
    if (participants) this.applyParticipants(row, participants);
  }

  /** Rules that span fields: the unique name and the PIN combinations. */
  private checkConference(
    values: Record<string, FieldValue>,
    errors: FieldErrors,
    row: ConferenceRow | undefined,
  ): void {
    const holder = this.conferenceIdByName.get(values.name as string);
    if (!errors.name && holder !== undefined && holder !== row?.id) {
      errors.name = [DUPLICATE_NAME];
    }

    // Only judge the combination when each PIN is valid on its own.
    if (errors.pin || errors.guest_pin || errors.allow_guests) return;
    const { pin, guest_pin: guestPin, allow_guests: allowGuests } = values;
    if (allowGuests && pin === '') {
      errors.allow_guests = [
        'Guests can only be allowed when a Host PIN is set.',
      ];
    }
    if (guestPin !== '' && pin === '') {
      errors.guest_pin = ['A Guest PIN can only be set with a Host PIN.'];
    } else if (guestPin !== '' && pin === guestPin) {
      errors.guest_pin = ['The Guest PIN must differ from the Host PIN.'];
    }
  }

  private removeConference(row: ConferenceRow): void {
    for (const aliasId of row.aliasIds) {
      this.removeAlias(this.aliases.get(aliasId) as AliasRow);
    }
    for (const participantId of row.participantIds) {
      this.participants.get(participantId)?.conferenceIds.delete(row.id);
    }
    this.unindexConference(row);
    this.conferences.delete(row.id);
  }

  private indexConference(row: ConferenceRow): void {
    const tag = row.values.tag as string;
    this.conferenceIdByName.set(row.values.name as string, row.id);
    const tagged = this.conferenceIdsByTag.get(tag) ?? new Set<number>();
    this.conferenceIdsByTag.set(tag, tagged.add(row.id));
  }

  private unindexConference(row: ConferenceRow): void {
    const tag = row.values.tag as string;
    this.conferenceIdByName.delete(row.values.name as string);
    const tagged = this.conferenceIdsByTag.get(tag);
    tagged?.delete(row.id);
    if (tagged?.size === 0) this.conferenceIdsByTag.delete(tag);
  }

  /** Drops the cached JSON of a conference whose output changed. */
  private touch(conference: ConferenceRow | undefined): void {
    if (conference) conference.json = undefined;
  }

  private conferenceObject(row: ConferenceRow): object {
    const byId = (a: number, b: number) => a - b;
    return this.pick(OUTPUT_KEYS.conference, row.values, {
      id: row.id,
      resource_uri: resourceUri('conference', row.id),
      creation_time: row.creationTime,
      aliases: [...row.aliasIds].sort(byId).map((id) => {
        const alias = this.aliases.get(id) as AliasRow;
        return this.pick(NESTED_ALIAS_KEYS, alias.values, {
          ...this.serverFields('conference_alias', alias),
          conference: resourceUri('conference', row.id),
        });
      }),
      automatic_participants: [...row.participantIds].sort(byId).map((id) => {
        const participant = this.participants.get(id) as ParticipantRow;
        return this.pick(
          NESTED_PARTICIPANT_KEYS,
          participant.values,
          this.serverFields('automatic_participant', participant),
        );
      }),
      scheduled_conferences: [],
      scheduled_conferences_count: 0,
    });
  }

  // ---- aliases ----------------------------------------------------------

  private createAlias(body: Body): number {
    const conferenceId = this.requiredConference(body.conference);
    const { values, errors } = cleanFields(ALIAS_FIELDS, body, undefined);
    if (conferenceId === undefined) {
      errors.conference = ['This field is required.'];
    }
    this.checkAliasUnique(values, errors, undefined);
    if (Object.keys(errors).length > 0) {
      throw ApiError.invalid('conference_alias', errors);
    }

    const conference = this.conferences.get(
      conferenceId as number,
    ) as ConferenceRow;
    return this.insertAlias(conference, values).id;
  }

  private updateAlias(row: AliasRow, body: Body): void {
    const conferenceId =
      'conference' in body
        ? this.requiredConference(body.conference)
        : row.conferenceId;
    const { values, errors } = cleanFields(ALIAS_FIELDS, body, row.values);
    if (conferenceId === undefined) {
      errors.conference = ['This field cannot be null.'];
    }
    this.checkAliasUnique(values, errors, row);
    if (Object.keys(errors).length > 0) {
      throw ApiError.invalid('conference_alias', errors);
    }

    const conference = this.conferences.get(
      conferenceId as number,
    ) as ConferenceRow;
    this.moveAlias(row, conference, values);
  }

  private checkAliasUnique(
    values: Record<string, FieldValue>,
    errors: FieldErrors,
    row: AliasRow | undefined,
  ): void {
    const holder = this.aliasIdByText.get(values.alias as string);
    if (!errors.alias && holder !== undefined && holder !== row?.id) {
      errors.alias = [DUPLICATE_ALIAS];
    }
  }

  /**
   * Checks a conference's new `aliases` list. Items are alias URIs, or
   * objects `{alias, description?}`; an object names an existing alias by
   * `resource_uri`, by `id`, or by the same alias text on this conference,
   * and is new otherwise. Aliases of the conference left out are deleted.
   */
  private planAliases(
    items: unknown,
    conference: ConferenceRow | undefined,
  ): PlannedChild<AliasRow>[] {
    const ownAlias = (row: AliasRow | undefined) =>
      row && row.conferenceId === conference?.id ? row : undefined;
    const claimed = new Set<number>();
    const errors: FieldErrors = {};

    const planned = this.listOf(items, 'aliases').map((item) => {
      let row: AliasRow | undefined;
      let given: Body;
      if (typeof item === 'string') {
        row = this.byUri(this.aliases, 'conference_alias', item);
        given = {};
      } else if (isObject(item)) {
        given = item;
        if (typeof item.resource_uri === 'string') {
          row = this.byUri(this.aliases, 'conference_alias', item.resource_uri);
        } else {
          row =
            ownAlias(this.aliases.get(Number(item.id))) ??
            ownAlias(this.aliasByText(item.alias));
          if (row && claimed.has(row.id)) row = undefined;
        }
      } else {
        throw ApiError.badRequest(
          "Each entry of 'aliases' must be an object or an alias URI.",
        );
      }
      if (row && claimed.has(row.id)) {
        throw ApiError.badRequest(
          `The alias '${row.values.alias}' is listed twice.`,
        );
      }
      if (row) claimed.add(row.id);

      const cleaned = cleanFields(ALIAS_FIELDS, given, row?.values);
      mergeErrors(errors, cleaned.errors);
      return { row, values: cleaned.values };
    });

    const seen = new Set<string>();
    for (const { values } of planned) {
      const text = values.alias;
      if (typeof text !== 'string') continue;
      const holder = this.aliases.get(this.aliasIdByText.get(text) ?? 0);
      const holderStays =
        holder && !claimed.has(holder.id) && !ownAlias(holder);
      if (seen.has(text) || holderStays) {
        mergeErrors(errors, { alias: [DUPLICATE_ALIAS] });
      }
      seen.add(text);
    }
    if (Object.keys(errors).length > 0) {
      throw ApiError.invalid('conference_alias', errors);
    }
    return planned;
  }

  private applyAliases(
    conference: ConferenceRow,
    planned: PlannedChild<AliasRow>[],
  ): void {
    const kept = new Set(planned.flatMap(({ row }) => (row ? [row.id] : [])));
    for (const aliasId of conference.aliasIds) {
      if (!kept.has(aliasId)) {
        this.removeAlias(this.aliases.get(aliasId) as AliasRow);
      }
    }

    // Unindex first: two kept aliases may be swapping their texts.
    for (const { row } of planned) if (row) this.unindexAlias(row);
    for (const { row, values } of planned) {
      const cleaned = values as Record<string, FieldValue>;
      if (row) this.moveAlias(row, conference, cleaned);
      else this.insertAlias(conference, cleaned);
    }
  }

  private insertAlias(
    conference: ConferenceRow,
    values: Record<string, FieldValue>,
  ): AliasRow {
    const row = new AliasRow(
      this.nextId.conference_alias++,
      values,
      conference.id,
    );
    this.aliases.set(row.id, row);
    this.aliasIdByText.set(values.alias as string, row.id);
    conference.aliasIds.add(row.id);
    this.touch(conference);
    return row;
  }

  private moveAlias(
    row: AliasRow,
    conference: ConferenceRow,
    values: Record<string, FieldValue>,
  ): void {
    const previous = this.conferences.get(row.conferenceId);
    this.unindexAlias(row);
    previous?.aliasIds.delete(row.id);
    this.touch(previous);
    row.values = values;
    row.conferenceId = conference.id;
    this.aliasIdByText.set(values.alias as string, row.id);
    conference.aliasIds.add(row.id);
    this.touch(conference);
  }

  private removeAlias(row: AliasRow): void {
    const conference = this.conferences.get(row.conferenceId);
    this.unindexAlias(row);
    conference?.aliasIds.delete(row.id);
    this.touch(conference);
    this.aliases.delete(row.id);
  }

  private unindexAlias(row: AliasRow): void {
    const text = row.values.alias as string;
    if (this.aliasIdByText.get(text) === row.id) {
      this.aliasIdByText.delete(text);
    }
  }

  private aliasByText(text: unknown): AliasRow | undefined {
    if (typeof text !== 'string') return undefined;
    return this.aliases.get(this.aliasIdByText.get(text) ?? 0);
  }

  // ---- automatic participants -------------------------------------------

  private createParticipant(body: Body): number {
    const conferenceIds = this.conferenceList(body.conference);
    const { values, errors } = cleanFields(PARTICIPANT_FIELDS, body, undefined);
    if (Object.keys(errors).length > 0) {
      throw ApiError.invalid('automatic_participant', errors);
    }

    const row = this.insertParticipant(values);
    for (const id of conferenceIds) {
      this.link(row, this.conferences.get(id) as ConferenceRow);
    }
    return row.id;
  }

  private updateParticipant(row: ParticipantRow, body: Body): void {
    const conferenceIds =
      'conference' in body ? this.conferenceList(body.conference) : undefined;
    const { values, errors } = cleanFields(
      PARTICIPANT_FIELDS,
      body,
      row.values,
    );
    if (Object.keys(errors).length > 0) {
      throw ApiError.invalid('automatic_participant', errors);
    }

    this.setParticipantValues(row, values);
    if (!conferenceIds) return;
    this.unlinkEverywhere(row);
    for (const id of conferenceIds) {
      this.link(row, this.conferences.get(id) as ConferenceRow);
    }
  }

  /**
   * Checks a conference's new `automatic_participants` list: participant
   * URIs link existing ones, objects without `resource_uri` create new ones.
   * Participants left out are detached from the conference, not deleted.
   */
  private planParticipants(items: unknown): PlannedChild<ParticipantRow>[] {
    const errors: FieldErrors = {};

    const planned = this.listOf(items, 'automatic_participants').map((item) => {
      if (typeof item === 'string') {
        return {
          row: this.byUri(this.participants, 'automatic_participant', item),
        };
      }
      if (!isObject(item)) {
        throw ApiError.badRequest(
          "Each entry of 'automatic_participants' must be an object or " +
            'an automatic participant URI.',
        );
      }
      const row =
        typeof item.resource_uri === 'string'
          ? this.byUri(
              this.participants,
              'automatic_participant',
              item.resource_uri,
            )
          : undefined;
      const cleaned = cleanFields(PARTICIPANT_FIELDS, item, row?.values);
      mergeErrors(errors, cleaned.errors);
      return { row, values: cleaned.values };
    });

    if (Object.keys(errors).length > 0) {
      throw ApiError.invalid('automatic_participant', errors);
    }
    return planned;
  }

  private applyParticipants(
    conference: ConferenceRow,
    planned: PlannedChild<ParticipantRow>[],
  ): void {
    for (const id of conference.participantIds) {
      this.participants.get(id)?.conferenceIds.delete(conference.id);
    }
    conference.participantIds.clear();
    this.touch(conference);

    for (const { row, values } of planned) {
      const participant = row ?? this.insertParticipant(values ?? {});
      if (row && values) this.setParticipantValues(row, values);
      this.link(participant, conference);
    }
  }

  /** New values show in every conference the participant belongs to. */
  private setParticipantValues(
    row: ParticipantRow,
    values: Record<string, FieldValue>,
  ): void {
    row.values = values;
    for (const id of row.conferenceIds) this.touch(this.conferences.get(id));
  }

  private insertParticipant(
    values: Record<string, FieldValue>,
  ): ParticipantRow {
    const row = new ParticipantRow(this.nextId.automatic_participant++, values);
    this.participants.set(row.id, row);
    return row;
  }

  private link(participant: ParticipantRow, conference: ConferenceRow): void {
    participant.conferenceIds.add(conference.id);
    conference.participantIds.add(participant.id);
    this.touch(conference);
  }

  private unlinkEverywhere(row: ParticipantRow): void {
    for (const id of row.conferenceIds) {
      const conference = this.conferences.get(id);
      conference?.participantIds.delete(row.id);
      this.touch(conference);
    }
    row.conferenceIds.clear();
  }

  private removeParticipant(row: ParticipantRow): void {
    this.unlinkEverywhere(row);
    this.participants.delete(row.id);
  }

  // ---- shared helpers ---------------------------------------------------

  private serialize(resource: ResourceName, row: Row): string {
    if (resource === 'conference') {
      const conference = row as ConferenceRow;
      conference.json ??= JSON.stringify(this.conferenceObject(conference));
      return conference.json;
    }
    if (resource === 'conference_alias') {
      const alias = row as AliasRow;
      return JSON.stringify(
        this.pick(OUTPUT_KEYS.conference_alias, alias.values, {
          ...this.serverFields(resource, alias),
          conference: resourceUri('conference', alias.conferenceId),
        }),
      );
    }
    const participant = row as ParticipantRow;
    return JSON.stringify(
      this.pick(OUTPUT_KEYS.automatic_participant, participant.values, {
        ...this.serverFields(resource, participant),
        conference: [...participant.conferenceIds]
          .sort((a, b) => a - b)
          .map((id) => resourceUri('conference', id)),
      }),
    );
  }

  private serverFields(resource: ResourceName, row: Row) {
    return {
      id: row.id,
      resource_uri: resourceUri(resource, row.id),
      creation_time: row.creationTime,
    };
  }

  /** An object with `keys` in order, from `extra` first, then `values`. */
  private pick(
    keys: readonly string[],
    values: Record<string, FieldValue>,
    extra: Record<string, unknown>,
  ): object {
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      out[key] = key in extra ? extra[key] : values[key];
    }
    return out;
  }

  /** `null` reads as an empty list, as Tastypie's nullable to-many does. */
  private listOf(items: unknown, field: string): unknown[] {
    if (items === null || items === undefined) return [];
    if (!Array.isArray(items)) {
      throw ApiError.badRequest(`The '${field}' field must be a list.`);
    }
    return items;
  }

  /**
   * The existing row a resource URI points at (absolute URLs accepted).
   *
   * @throws ApiError 400 `{"error": …}` when it is not such a URI or points
   *   at nothing, as Tastypie answers a bad related URI
   */
  private byUri<R>(
    rows: Map<number, R>,
    resource: ResourceName,
    uri: string,
  ): R {
    const id = idFromUri(resource, uri);
    const row = id === undefined ? undefined : rows.get(id);
    if (!row) {
      throw ApiError.badRequest(
        `Could not find a ${resource} object at the resource URI '${uri}'.`,
      );
    }
    return row;
  }

  /** The conference id an alias's `conference` names; undefined if unset. */
  private requiredConference(value: unknown): number | undefined {
    if (value === undefined || value === null) return undefined;
    return this.conferenceRef(value);
  }

  /** The conference ids a participant's `conference` list names. */
  private conferenceList(value: unknown): number[] {
    return [
      ...new Set(
        this.listOf(value, 'conference').map((item) =>
          this.conferenceRef(item),
        ),
      ),
    ];
  }

  private conferenceRef(value: unknown): number {
    if (typeof value !== 'string') {
      throw ApiError.badRequest(
        `The 'conference' field needs a conference resource URI, not ` +
          `${JSON.stringify(value)}.`,
      );
    }
    return (this.byUri(this.conferences, 'conference', value) as ConferenceRow)
      .id;
  }

  private conferenceQueryable(): Queryable<ConferenceRow> {
    return this.makeQueryable('conference', (path) => {
      if (path.length === 2 && path[0] === 'aliases' && path[1] === 'alias') {
        return {
          kind: 'string',
          read: (row) =>
            [...row.aliasIds].map(
              (id) => this.aliases.get(id)?.values.alias ?? null,
            ),
        };
      }
      if (path.length === 1 && path[0] === 'aliases') {
        return { kind: 'reference', read: (row) => [...row.aliasIds] };
      }
      return undefined;
    });
  }

  private aliasQueryable(): Queryable<AliasRow> {
    return this.makeQueryable('conference_alias', (path) =>
      path.length === 1 && path[0] === 'conference'
        ? { kind: 'reference', read: (row) => row.conferenceId }
        : undefined,
    );
  }

  private participantQueryable(): Queryable<ParticipantRow> {
    return this.makeQueryable('automatic_participant', (path) =>
      path.length === 1 && path[0] === 'conference'
        ? { kind: 'reference', read: (row) => [...row.conferenceIds] }
        : undefined,
    );
  }

  /** Field readers from the specs, plus the resource's relation readers. */
  private makeQueryable<R extends Row>(
    resource: ResourceName,
    relation: (path: readonly string[]) => FilterField<R> | undefined,
  ): Queryable<R> {
    const specs = SPECS[resource];
    return {
      fields: new Set(OUTPUT_KEYS[resource]),
      filterable: new Set(FILTERABLE_FIELDS[resource]),
      orderable: new Set(ORDERABLE_FIELDS[resource]),
      field: (path) => {
        const [name] = path;
        if (path.length > 1) return relation(path);
        if (name === 'id') return { kind: 'integer', read: (row) => row.id };
        if (name === 'creation_time') {
          return { kind: 'string', read: (row) => row.creationTime };
        }
        if (!(name in specs)) return relation(path);

        const type = specs[name].type;
        return {
          kind: type === 'integer' || type === 'boolean' ? type : 'string',
          read: (row) => row.values[name],
        };
      },
    };
  }
}

function isObject(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mergeErrors(into: FieldErrors, from: FieldErrors): void {
  for (const [field, messages] of Object.entries(from)) {
    into[field] = [...new Set([...(into[field] ?? []), ...messages])];
  }
}
