import { randomUUID } from 'node:crypto';

import { ConferenceFacts, ConfigurationStore } from './configuration.store';
import { CallSpec } from './control.schemas';
import { EventSink, EventSinkEmitter } from './event-sink.emitter';
import { Queryable } from './list.query';
import { STATUS_PREFIX } from './resource.schemas';
import { epochSecondsNow, naiveIsoNow } from './timestamps';

/** A running conference instance, as the status API lists it. */
export interface ActiveConference {
  /** UUID, the status API's key. */
  id: string;
  facts: ConferenceFacts;
  /** Naive ISO time for the status API. */
  startTime: string;
  /** Epoch seconds for event-sink messages. */
  startEpoch: number;
}

interface Call {
  conference: ActiveConference;
  nodes: string[];
  sink?: EventSink;
  timer: NodeJS.Timeout;
}

const STATUS_KEYS = [
  'guests_muted',
  'id',
  'is_locked',
  'is_started',
  'name',
  'resource_uri',
  'service_type',
  'start_time',
  'tag',
];

/**
 * Simulated calls: each one makes a configured room an active conference
 * for a while, visible on the status API, and has every conferencing node
 * in the call post `conference_started` and `conference_ended` to the
 * event sink, as a conference spread over several nodes does.
 *
 * Two calls to the same room are two independent instances here.
 */
export class CallSimulator {
  private readonly calls = new Map<string, Call>();

  /** Filters and ordering of `status/v1/conference/`. */
  readonly queryable: Queryable<ActiveConference> = {
    fields: new Set(STATUS_KEYS),
    filterable: new Set(['name', 'service_type', 'tag']),
    orderable: new Set(['name', 'start_time']),
    field: ([name, ...rest]) => {
      if (rest.length > 0) return undefined;
      if (name === 'start_time') {
        return { kind: 'string', read: (conference) => conference.startTime };
      }
      if (name === 'name' || name === 'service_type' || name === 'tag') {
        return { kind: 'string', read: (conference) => conference.facts[name] };
      }
      return undefined;
    },
  };

  constructor(
    private readonly store: ConfigurationStore,
    private readonly emitter: EventSinkEmitter,
  ) {}

  /**
   * Starts a call in the room named `spec.conference`.
   *
   * @returns the active conference, or `undefined` when no room has that name
   */
  start(spec: CallSpec): ActiveConference | undefined {
    const facts = this.store.findConference(spec.conference);
    if (!facts) return undefined;

    const conference: ActiveConference = {
      id: randomUUID(),
      facts,
      startTime: naiveIsoNow(),
      startEpoch: epochSecondsNow(),
    };
    const sink: EventSink | undefined = spec.sink_url
      ? { url: spec.sink_url, username: spec.username, password: spec.password }
      : undefined;
    this.announce(
      sink,
      spec.nodes,
      'conference_started',
      eventData(conference),
    );

    const timer = setTimeout(() => this.end(conference.id), spec.duration_ms);
    this.calls.set(conference.id, {
      conference,
      nodes: spec.nodes,
      sink,
      timer,
    });
    return conference;
  }

  /** Running conferences, oldest first. */
  active(): ActiveConference[] {
    return [...this.calls.values()].map((call) => call.conference);
  }

  find(id: string): ActiveConference | undefined {
    return this.calls.get(id)?.conference;
  }

  /** A status API object, keys sorted as Tastypie sends them. */
  serialize(conference: ActiveConference): object {
    return {
      guests_muted: false,
      id: conference.id,
      is_locked: false,
      is_started: true,
      name: conference.facts.name,
      resource_uri: `${STATUS_PREFIX}conference/${conference.id}/`,
      service_type: conference.facts.service_type,
      start_time: conference.startTime,
      tag: conference.facts.tag,
    };
  }

  /** Drops every call at once, without `conference_ended` events. */
  reset(): void {
    for (const call of this.calls.values()) clearTimeout(call.timer);
    this.calls.clear();
  }

  private end(id: string): void {
    const call = this.calls.get(id);
    if (!call) return;
    this.calls.delete(id);

    // The room may have been retagged during the call; nodes report it as is.
    const facts =
      this.store.findConference(call.conference.facts.name) ??
      call.conference.facts;
    this.announce(call.sink, call.nodes, 'conference_ended', {
      ...eventData({ ...call.conference, facts }),
      end_time: epochSecondsNow(),
    });
  }

  private announce(
    sink: EventSink | undefined,
    nodes: readonly string[],
    event: string,
    data: Record<string, unknown>,
  ): void {
    if (!sink) return;
    for (const node of nodes) void this.emitter.send(sink, node, event, data);
  }
}

function eventData(conference: ActiveConference): Record<string, unknown> {
  return {
    name: conference.facts.name,
    service_type: conference.facts.service_type,
    tag: conference.facts.tag,
    start_time: conference.startEpoch,
    is_started: true,
    is_locked: false,
    guests_muted: false,
  };
}
