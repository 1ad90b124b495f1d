import { randomUUID } from 'node:crypto';
import { DELETION_QUEUE, QueueMessage } from '../../src/queue/queue.port';
import {
  LifecycleRig,
  QUEUE_BACKENDS,
  QueueBackend,
  startLifecycleRig,
  startQueueBackend,
} from './support/lifecycle.harness';
import { basic } from '../support/http';
import {
  conferenceEnded,
  SINK_PASSWORD,
  SINK_USERNAME,
  sinkEvent,
} from '../support/event-sink';
import { reportFigure } from '../support/figures';
import { roomDeletions } from '../support/pexip-requests';
import { waitFor } from '../support/wait';

/**
 * Pexip's conferencing nodes post every event to the event sink. Only
 * `conference_ended` matters: its room goes on the deletion queue, hidden
 * until it is GC_MIN_AGE_SECONDS old. Nothing else happens in the request,
 * so the sink answers at once whatever state Pexip is in.
 */

jest.setTimeout(30_000);

const EVERY_EVENT_TYPE = [
  'eventsink_started',
  'eventsink_updated',
  'eventsink_stopped',
  'conference_started',
  'conference_updated',
  'conference_ended',
  'participant_connected',
  'participant_updated',
  'participant_disconnected',
  'participant_media_stream_window',
  'participant_media_streams_destroyed',
  'an_event_from_a_newer_pexip',
];

const freshName = () => `room-${randomUUID()}`;

describe.each(QUEUE_BACKENDS)('POST /public/event_sink on %s', (name) => {
  let backend: QueueBackend;
  let rig: LifecycleRig;

  beforeAll(async () => {
    backend = await startQueueBackend(name);
    // One second: long enough to see the message hidden, short enough to
    // read it back quickly.
    rig = await startLifecycleRig(backend, {
      env: { GC_MIN_AGE_SECONDS: '1' },
    });
  });

  afterAll(async () => {
    await rig?.close();
    await backend?.stop();
  });

  beforeEach(async () => {
    await rig.queue.clear(DELETION_QUEUE);
    await rig.pexip.control.reset();
  });

  /** Waits for `count` deletion messages to become visible, takes them. */
  const takeQueued = async (count: number): Promise<string[]> => {
    const taken: QueueMessage[] = [];
    await waitFor(
      async () => {
        taken.push(...(await rig.queue.receive(DELETION_QUEUE, 32, 60)));
        return taken.length;
      },
      (got) => got >= count,
      `${count} deletion messages`,
    );
    for (const message of taken) {
      await rig.queue.delete(DELETION_QUEUE, message);
    }
    return taken.map((message) => message.text);
  };

  const expectQueueEmpty = async () => {
    expect(await rig.queue.counts(DELETION_QUEUE)).toEqual({
      visible: 0,
      invisible: 0,
    });
  };

  it.each(EVERY_EVENT_TYPE)(
    'accepts %s with 200 {"status":"accepted"}',
    async (event) => {
      const room = freshName();

      const answer = await rig.sink(
        sinkEvent(event, { name: room, service_type: 'conference' }),
      );

      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ status: 'accepted' });
      const expected = event === 'conference_ended' ? 1 : 0;
      expect(await rig.deletionBacklog()).toBe(expected);
    },
  );

  it('queues data.name of conference_ended, hidden until GC_MIN_AGE_SECONDS old', async () => {
    const room = freshName();

    const answer = await rig.sink(conferenceEnded(room));

    expect(answer.status).toBe(200);
    expect(await rig.queue.counts(DELETION_QUEUE)).toEqual({
      visible: 0,
      invisible: 1,
    });
    expect(await takeQueued(1)).toEqual([room]);
    await expectQueueEmpty();
  });

  it('queues data.conference when conference_ended has no name', async () => {
    const room = freshName();

    const answer = await rig.sink(
      sinkEvent('conference_ended', { conference: room, name: '' }),
    );

    expect(answer.status).toBe(200);
    expect(await takeQueued(1)).toEqual([room]);
  });

  it('accepts conference_ended without a usable room name and queues nothing', async () => {
    for (const data of [{}, { name: 42 }, { name: 'a/b' }]) {
      const answer = await rig.sink(sinkEvent('conference_ended', data));
      expect(answer.status).toBe(200);
    }

    await expectQueueEmpty();
  });

  it('takes a bulk message apart and queues every conference_ended in it', async () => {
    const [first, second] = [freshName(), freshName()];
    const bulk = sinkEvent(
      'eventsink_bulk',
      [
        sinkEvent('participant_disconnected', { conference: first }, 'n1', 7),
        conferenceEnded(first, 'n1', 8),
        sinkEvent('conference_started', { name: second }, 'n1', 9),
        conferenceEnded(second, 'n1', 10),
        sinkEvent('an_event_from_a_newer_pexip', {}, 'n1', 11),
      ],
      'n1',
      0,
    );

    const answer = await rig.sink(bulk);

    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: 'accepted' });
    expect((await takeQueued(2)).sort()).toEqual([first, second].sort());
    await expectQueueEmpty();
  });

  it('folds the same room ended on several nodes into one message and one deletion', async () => {
    const room = await rig.pexip.seedRoom({ name: freshName() });
    const nodes = ['10.0.1.21', '10.0.1.22', '10.0.2.31'];

    const answers = await Promise.all(
      nodes.map((node) => rig.sink(conferenceEnded(room.name, node, 5))),
    );

    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(await rig.deletionBacklog()).toBe(1);
    await waitFor(
      async () => (await rig.queue.counts(DELETION_QUEUE)).visible,
      (visible) => visible === 1,
      'the message to become visible',
    );
    await rig.pexip.control.clearRequests();
    const run = await rig.collector.runOnce();
    expect(run).toMatchObject({ received: 1, deleted: 1 });
    expect(roomDeletions(await rig.pexip.control.requests())).toEqual([
      { method: 'DELETE', path: room.resource_uri, status: 204 },
    ]);
  });

  it('does no harm when copies reach the queue anyway: one deletion, the copies dropped', async () => {
    // Another replica, or a restart, does not share the sink's memory.
    const room = await rig.pexip.seedRoom({ name: freshName() });
    for (let copy = 0; copy < 3; copy++) {
      await rig.queue.send(DELETION_QUEUE, room.name, {
        visibilityDelaySeconds: 1,
      });
    }
    await waitFor(
      async () => (await rig.queue.counts(DELETION_QUEUE)).visible,
      (visible) => visible === 3,
      'the copies to become visible',
    );
    await rig.pexip.control.clearRequests();

    const run = await rig.collector.runOnce();

    expect(run).toEqual({
      received: 3,
      deleted: 1,
      dropped: 2,
      deferred: 0,
      failed: 0,
    });
    expect(roomDeletions(await rig.pexip.control.requests())).toEqual([
      { method: 'DELETE', path: room.resource_uri, status: 204 },
    ]);
    expect(await rig.pexip.findRoom(room.name)).toBeUndefined();
    await expectQueueEmpty();
  });

  it('answers 400 problem+json to malformed JSON and queues nothing', async () => {
    const answer = await rig.sink(undefined, {
      rawBody: '{"event": "conference_ended", "data": {"name": "x"',
    });

    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-type')).toMatch(
      /^application\/problem\+json/,
    );
    expect(answer.body).toMatchObject({
      status: 400,
      type: expect.any(String),
      title: expect.any(String),
      detail: expect.any(String),
      request_id: expect.any(String),
    });
    expect(answer.text).not.toMatch(/at \w+ \(/);
    await expectQueueEmpty();
  });

  it.each([
    ['an array', '[]'],
    ['a string', '"conference_ended"'],
    ['a number', '42'],
    ['null', 'null'],
    ['an object without event', '{"data": {"name": "x"}}'],
    ['an object whose event is not a string', '{"event": 7}'],
    [
      'a bulk message whose data is not an array',
      '{"event": "eventsink_bulk", "data": {}}',
    ],
    [
      'a bulk message with a member that is not a message',
      '{"event": "eventsink_bulk", "data": [{"event": "conference_ended", "data": {"name": "kept-out"}}, 5]}',
    ],
  ])(
    'answers 400 problem+json to %s and queues nothing',
    async (_what, raw) => {
      const answer = await rig.sink(undefined, { rawBody: raw });

      expect(answer.status).toBe(400);
      expect(answer.headers.get('content-type')).toMatch(
        /^application\/problem\+json/,
      );
      expect(answer.body).toMatchObject({ status: 400 });
      await expectQueueEmpty();
    },
  );

  it.each([
    ['no Authorization header', null],
    ['a wrong password', basic(SINK_USERNAME, `${SINK_PASSWORD}x`)],
    ['a wrong user name', basic('someone', SINK_PASSWORD)],
    ['another scheme', `Bearer ${SINK_PASSWORD}`],
    ['a Basic value that is not base64', 'Basic %%%'],
  ])(
    'answers 401 with a Basic challenge to %s and queues nothing',
    async (_what, authorization) => {
      const answer = await rig.sink(conferenceEnded(freshName()), {
        authorization,
      });

      expect(answer.status).toBe(401);
      expect(answer.headers.get('www-authenticate')).toMatch(/^Basic\b/);
      expect(answer.body).toMatchObject({ status: 401 });
      await expectQueueEmpty();
    },
  );
});

/**
 * The sink's answer time while Pexip cannot answer. Nothing in the request
 * touches Pexip, so a hung or closed management node must not slow it
 * down. The bound is generous: the machine is shared.
 */
describe.each(QUEUE_BACKENDS)(
  'POST /public/event_sink while Pexip is down, on %s',
  (name) => {
    const EVENTS = 40;
    let backend: QueueBackend;
    let rig: LifecycleRig;

    beforeAll(async () => {
      backend = await startQueueBackend(name);
      rig = await startLifecycleRig(backend, {
        env: { GC_MIN_AGE_SECONDS: '600', PEXIP_TIMEOUT_MS: '3000' },
      });
    });

    afterAll(async () => {
      await rig?.close();
      await backend?.stop();
    });

    /** Posts `EVENTS` conference_ended one at a time, as a node does. */
    const timeSinkPosts = async () => {
      const times: number[] = [];
      for (let i = 0; i < EVENTS; i++) {
        const started = performance.now();
        const answer = await rig.sink(conferenceEnded(freshName(), 'n1', i));
        times.push(performance.now() - started);
        expect(answer.status).toBe(200);
      }
      times.sort((a, b) => a - b);
      return {
        medianMs: round(times[Math.floor(times.length / 2)]),
        p95Ms: round(times[Math.floor(times.length * 0.95)]),
        maxMs: round(times[times.length - 1]),
      };
    };

    it('answers within milliseconds while every Pexip call hangs', async () => {
      await rig.pexip.control.faults({ hang: true, times: 1000 });
      // Keep the service's Pexip calls busy: a collector run and room
      // reads all wait on the hung node while the events arrive.
      await rig.queue.send(DELETION_QUEUE, 'a-room-to-collect');
      const busy = [
        rig.collector.runOnce().catch(() => 'failed'),
        ...Array.from({ length: 12 }, () =>
          rig.call('GET', `/room/${freshName()}`),
        ),
      ];
      await waitFor(
        async () => (await rig.pexip.control.requests()).length,
        (hung) => hung >= 5,
        'the service to be stuck on Pexip',
      );

      const figures = await timeSinkPosts();

      reportFigure(`event-sink latency, Pexip hanging (${name})`, figures);
      expect(figures.maxMs).toBeLessThan(1000);
      expect(await rig.deletionBacklog()).toBeGreaterThanOrEqual(EVENTS);
      await rig.pexip.control.clearFaults();
      await Promise.all(busy);
    });

    it('answers within milliseconds when Pexip is gone', async () => {
      await rig.pexip.close();

      const figures = await timeSinkPosts();

      reportFigure(`event-sink latency, Pexip closed (${name})`, figures);
      expect(figures.maxMs).toBeLessThan(1000);
    });
  },
);

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
