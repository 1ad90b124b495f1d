/*
 * What Pexip's conferencing nodes send to the service's event sink.
 */

/** Basic credentials for the event sink, set on the services under test. */
export const SINK_USERNAME = 'pexip-nodes';
export const SINK_PASSWORD = 'sink-pass-7Hq2';

/** A v1 event-sink message as a conferencing node posts it. */
export function sinkEvent(
  event: string,
  data: Record<string, unknown> | unknown[] = {},
  node = '10.0.1.21',
  seq = 1,
): Record<string, unknown> {
  return { node, seq, version: 1, time: Date.now() / 1000, event, data };
}

/**
 * `conference_ended` for a room, as one node reports it.
 *
 * @example await rig.sink(conferenceEnded(room.name, '10.0.1.22', 7));
 */
export function conferenceEnded(
  name: string,
  node = '10.0.1.21',
  seq = 1,
): Record<string, unknown> {
  const now = Date.now() / 1000;
  return sinkEvent(
    'conference_ended',
    {
      name,
      service_type: 'conference',
      tag: '',
      start_time: now - 60,
      end_time: now,
      is_started: true,
      is_locked: false,
      guests_muted: false,
    },
    node,
    seq,
  );
}
