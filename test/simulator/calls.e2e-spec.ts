import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { EventSinkMessage } from '../../simulator';
import { startTestSimulator, TestSimulator } from '../support/simulator';

const STATUS = '/api/admin/status/v1/conference/';

interface Received {
  authorization: string | undefined;
  message: EventSinkMessage;
}

/**
 * A local event sink that records what it receives and answers 200, or
 * the status `answer` picks for a message.
 */
async function startReceiver(
  answer: (message: EventSinkMessage) => number = () => 200,
) {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const message = JSON.parse(body);
      received.push({ authorization: req.headers.authorization, message });
      res.statusCode = answer(message);
      res.end('{"status":"accepted"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/public/event_sink`,
    received,
    /** Resolves once `count` messages arrived; fails after a long wait. */
    async waitFor(count: number) {
      for (let waited = 0; received.length < count; waited += 20) {
        if (waited > 10_000) {
          throw new Error(`only ${received.length} of ${count} events arrived`);
        }
        await sleep(20);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('Pexip simulator: simulated calls, status API and event sink', () => {
  let pexip: TestSimulator;
  let sink: Awaited<ReturnType<typeof startReceiver>>;

  const control = (path: string, body: unknown) =>
    fetch(`${pexip.url}/_simulator${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    pexip = await startTestSimulator();
    sink = await startReceiver();
  });

  afterAll(async () => {
    await pexip.close();
    await sink.close();
  });

  beforeEach(async () => {
    await pexip.control.reset();
    sink.received.length = 0;
  });

  it('has every node post conference_started then conference_ended with Basic auth', async () => {
    const room = await pexip.seedRoom({ name: 'call-room', tag: 'tagged' });

    const started = await control('/calls', {
      conference: room.name,
      duration_ms: 50,
      nodes: ['10.0.0.1', '10.0.0.2'],
      sink_url: sink.url,
      username: 'sink-user',
      password: 'sink-pass',
    });
    await sink.waitFor(4);

    expect(started.status).toBe(202);
    expect(await started.json()).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    const credentials = `Basic ${Buffer.from('sink-user:sink-pass').toString('base64')}`;
    expect(sink.received.every((r) => r.authorization === credentials)).toBe(
      true,
    );
    for (const node of ['10.0.0.1', '10.0.0.2']) {
      const fromNode = sink.received
        .map((r) => r.message)
        .filter((message) => message.node === node);
      expect(fromNode.map((m) => [m.seq, m.event])).toEqual([
        [1, 'conference_started'],
        [2, 'conference_ended'],
      ]);
      expect(fromNode[0]).toEqual({
        node,
        seq: 1,
        version: 1,
        time: expect.any(Number),
        event: 'conference_started',
        data: {
          name: 'call-room',
          service_type: 'conference',
          tag: 'tagged',
          start_time: expect.any(Number),
          is_started: true,
          is_locked: false,
          guests_muted: false,
        },
      });
      expect(fromNode[1].data).toEqual({
        ...fromNode[0].data,
        end_time: expect.any(Number),
      });
      expect(fromNode[1].data.end_time).toBeGreaterThanOrEqual(
        fromNode[1].data.start_time as number,
      );
    }
  });

  it('shows the conference on the status API while the call lasts', async () => {
    const room = await pexip.seedRoom({ name: 'busy-room', tag: 'busy' });
    const id = await pexip.control.call({
      conference: room.name,
      duration_ms: 60_000,
    });

    const list = await pexip.api('GET', `${STATUS}?name=busy-room`);
    const detail = await pexip.api('GET', `${STATUS}${id}/`);
    const other = await pexip.api('GET', `${STATUS}?name=quiet-room`);

    expect(list.body).toEqual({
      meta: {
        limit: 20,
        next: null,
        offset: 0,
        previous: null,
        total_count: 1,
      },
      objects: [detail.body],
    });
    expect(detail.body).toEqual({
      guests_muted: false,
      id,
      is_locked: false,
      is_started: true,
      name: 'busy-room',
      resource_uri: `${STATUS}${id}/`,
      service_type: 'conference',
      start_time: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:]{8}\.\d{6}$/),
      tag: 'busy',
    });
    expect(other.body.objects).toEqual([]);
  });

  it('removes the conference from the status API when the call ends', async () => {
    const room = await pexip.seedRoom();
    const id = await pexip.control.call({
      conference: room.name,
      duration_ms: 10,
      sink_url: sink.url,
    });

    await sink.waitFor(2);
    const detail = await pexip.api('GET', `${STATUS}${id}/`);

    expect(detail.status).toBe(404);
    expect((await pexip.api('GET', STATUS)).body.objects).toEqual([]);
  });

  it('posts without Authorization when the sink has no credentials', async () => {
    const room = await pexip.seedRoom();

    await pexip.control.call({
      conference: room.name,
      duration_ms: 0,
      sink_url: sink.url,
    });
    await sink.waitFor(2);

    expect(sink.received.map((r) => r.authorization)).toEqual([
      undefined,
      undefined,
    ]);
  });

  it('ends calls without events on reset', async () => {
    const room = await pexip.seedRoom();
    await pexip.control.call({
      conference: room.name,
      duration_ms: 60_000,
      sink_url: sink.url,
    });
    await sink.waitFor(1);

    await pexip.control.reset();

    expect((await pexip.api('GET', STATUS)).body.objects).toEqual([]);
    expect(sink.received.map((r) => r.message.event)).toEqual([
      'conference_started',
    ]);
  });

  it('keeps posting in order after the sink refused an event', async () => {
    const refusing = await startReceiver((message) =>
      message.event === 'conference_started' ? 500 : 200,
    );
    try {
      const room = await pexip.seedRoom();

      await pexip.control.call({
        conference: room.name,
        duration_ms: 0,
        sink_url: refusing.url,
      });
      await refusing.waitFor(2);

      expect(refusing.received.map((r) => r.message.event)).toEqual([
        'conference_started',
        'conference_ended',
      ]);
    } finally {
      await refusing.close();
    }
  });

  it('answers 404 for a call to a room that does not exist', async () => {
    const response = await control('/calls', { conference: 'nowhere' });

    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: "No conference named 'nowhere'.",
    });
  });

  it('refuses a call body it cannot use', async () => {
    const response = await control('/calls', {
      conference: 'x',
      duration_ms: -5,
      sink_url: 'not a url',
    });

    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error:
        'duration_ms: Too small: expected number to be >=0; ' +
        'sink_url: Invalid URL',
    });
  });

  it('needs credentials for the status API', async () => {
    const response = await fetch(`${pexip.url}${STATUS}`);

    expect(response.status).toBe(401);
  });
});
