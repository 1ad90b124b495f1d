import { generateKeyPairSync } from 'node:crypto';
import {
  PexipNotFoundError,
  PexipRejectedError,
  PexipTimeoutError,
} from '../../src/pexip/pexip.errors';
import {
  CONFERENCE_PATH,
  conferenceUri,
  NewPexipConference,
} from '../../src/pexip/pexip.types';
import { startTestSimulator, TestSimulator } from '../support/simulator';
import { captureLogs } from './support/log-capture';
import {
  PexipAdapterHarness,
  startPexipAdapter,
} from './support/pexip-adapter.harness';

/*
 * The Pexip adapter against the project's Pexip simulator over real HTTP:
 * what the rest of the service relies on, end to end.
 */

let simulator: TestSimulator;
let adapter: PexipAdapterHarness | undefined;
let logs: ReturnType<typeof captureLogs>;

afterEach(async () => {
  await adapter?.close();
  adapter = undefined;
  await simulator.close();
  logs.restore();
});

async function start(
  env: Record<string, string> = {},
  simulatorOptions: Parameters<typeof startTestSimulator>[0] = {},
) {
  logs = captureLogs();
  simulator = await startTestSimulator(simulatorOptions);
  adapter = await startPexipAdapter({
    PEXIP_URL: simulator.url,
    PEXIP_TIMEOUT_MS: '5000',
    ...env,
  });
  return adapter;
}

function room(name: string): NewPexipConference {
  return {
    name,
    service_type: 'conference',
    allow_guests: true,
    pin: '123456',
    guest_pin: '4821',
    tag: '',
    aliases: [{ alias: name }],
  };
}

const posts = (log: { method: string; path: string }[]) =>
  log.filter((entry) => entry.method === 'POST');

it('creates, reads, finds, updates and deletes a room', async () => {
  const { pexip } = await start();

  const created = await pexip.createConference(room('round-trip'));
  const fetched = await pexip.getConference(created.id);
  const byName = await pexip.findConferenceByName('round-trip');
  await pexip.updateConference(created.id, { tag: 'https://x/y?z=1' });
  const byTag = await pexip.findConferencesByTag('https://x/y?z=1');
  const deleted = await pexip.deleteConference(created.id);
  const deletedAgain = await pexip.deleteConference(created.id);
  const afterDelete = await pexip.getConference(created.id);

  expect(created.adopted).toBe(false);
  expect(fetched).toMatchObject({
    id: created.id,
    name: 'round-trip',
    pin: '123456',
    guest_pin: '4821',
    allow_guests: true,
    aliases: [
      expect.objectContaining({
        alias: 'round-trip',
        conference: conferenceUri(created.id),
      }),
    ],
  });
  expect(byName?.id).toBe(created.id);
  expect(byTag.map((found) => found.id)).toEqual([created.id]);
  expect([deleted, deletedAgain, afterDelete]).toEqual([true, false, null]);
  await expect(
    pexip.updateConference(created.id, { tag: 'late' }),
  ).rejects.toThrow(PexipNotFoundError);
});

it("passes Pexip's field messages on when it rejects a change", async () => {
  const { pexip } = await start();
  const { id } = await pexip.createConference(room('strict'));

  const failure = pexip.updateConference(id, { pin: 'abc' });

  await expect(failure).rejects.toThrow(PexipRejectedError);
  await expect(failure).rejects.toMatchObject({
    fieldErrors: { pin: [expect.any(String)] },
  });
});

it('attaches an automatic participant to a room', async () => {
  const { pexip } = await start();
  const { id } = await pexip.createConference(room('dialling'));

  const participantId = await pexip.createAutomaticParticipant({
    alias: 'sip:queue@contact.example.org',
    conference: [conferenceUri(id)],
    protocol: 'sip',
    role: 'guest',
    remote_display_name: 'dialling',
  });

  const fetched = await pexip.getConference(id);
  expect(participantId).toBeGreaterThan(0);
  expect(fetched?.automatic_participants).toEqual([
    expect.objectContaining({ alias: 'sip:queue@contact.example.org' }),
  ]);
});

it('keeps a hostile room name in the query, never in the path', async () => {
  const { pexip } = await start();
  const name = '../x/a?b&tag=c#d';
  const { id } = await pexip.createConference(room(name));
  await simulator.control.clearRequests();

  const found = await pexip.findConferenceByName(name);

  expect(found?.id).toBe(id);
  const [request] = await simulator.control.requests();
  expect(request.path.startsWith(`${CONFERENCE_PATH}?`)).toBe(true);
  expect(new URL(request.path, simulator.url).searchParams.get('name')).toBe(
    name,
  );
});

it('walks 2,500 rooms in pages of 1,000 by following meta.next', async () => {
  const { pexip } = await start({ PEXIP_MAX_CONCURRENCY: '20' });
  // A few calls at a time, as bulk work should feed the adapter: a call
  // that waits for a slot longer than its budget fails unsent.
  for (let first = 0; first < 2500; first += 100) {
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        pexip.createConference(room(`page-${first + i}`)),
      ),
    );
  }
  await pexip.createConference(room('not-listed'));
  await simulator.control.clearRequests();

  const sizes: number[] = [];
  const ids = new Set<number>();
  for await (const page of pexip.listConferencePages({ namePrefix: 'page-' })) {
    sizes.push(page.length);
    page.forEach((found) => ids.add(found.id));
  }

  expect(sizes).toEqual([1000, 1000, 500]);
  expect(ids.size).toBe(2500);
  expect(await simulator.control.requests()).toHaveLength(3);
  // Seeding 2,500 rooms takes seconds on a busy machine.
}, 60_000);

it('fails a hanging call with PexipTimeoutError within 1.5 × PEXIP_TIMEOUT_MS', async () => {
  const harness = await start({ PEXIP_TIMEOUT_MS: '1000' });
  const { id } = await harness.pexip.createConference(room('slow'));
  await simulator.control.faults({ method: 'GET', hang: true, times: 10 });
  const started = Date.now();

  await expect(harness.pexip.getConference(id)).rejects.toThrow(
    PexipTimeoutError,
  );

  const elapsed = Date.now() - started;
  expect(elapsed).toBeGreaterThanOrEqual(1490);
  expect(elapsed).toBeLessThan(1500 + 500);
  expect(
    harness.calls.filter((call) => call.method === 'GET').map((c) => c.status),
  ).toEqual(['timeout', 'timeout']);
});

it('adopts a room Pexip created before answering 500, with exactly one POST', async () => {
  const { pexip } = await start();
  await simulator.control.faults({
    method: 'POST',
    path_prefix: CONFERENCE_PATH,
    status: 500,
    after_commit: true,
  });

  const created = await pexip.createConference(room('committed'));

  expect(created.adopted).toBe(true);
  expect((await simulator.findRoom('committed'))?.id).toBe(created.id);
  expect(posts(await simulator.control.requests())).toHaveLength(1);
});

it('posts again when a 503 left no room behind', async () => {
  const { pexip } = await start();
  await simulator.control.faults({ method: 'POST', status: 503 });

  const created = await pexip.createConference(room('second-try'));

  expect(created.adopted).toBe(false);
  expect((await simulator.findRoom('second-try'))?.id).toBe(created.id);
  expect(posts(await simulator.control.requests())).toHaveLength(2);
});

it('honours Retry-After on a 429', async () => {
  const { pexip } = await start();
  const { id } = await pexip.createConference(room('busy'));
  await simulator.control.faults({
    method: 'GET',
    status: 429,
    retry_after: 1,
  });
  const started = Date.now();

  const found = await pexip.getConference(id);

  expect(found?.id).toBe(id);
  expect(Date.now() - started).toBeGreaterThanOrEqual(950);
});

it('lists the rooms with a call in progress', async () => {
  const { pexip } = await start();
  await pexip.createConference(room('in-call'));
  await pexip.createConference(room('idle'));
  await simulator.control.call({ conference: 'in-call', duration_ms: 60_000 });

  expect(await pexip.listActiveConferenceNames()).toEqual(['in-call']);
});

describe('with OAuth 2.0', () => {
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const privateKeyPem = keys.privateKey
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
  const publicKeyPem = keys.publicKey
    .export({ type: 'spki', format: 'pem' })
    .toString();

  const oauth = (tokenLifetimeSeconds = 3600) =>
    start(
      {
        PEXIP_CLIENT_ID: 'maxconf',
        PEXIP_PRIVATE_KEY: Buffer.from(privateKeyPem).toString('base64'),
      },
      {
        oauthClients: [{ clientId: 'maxconf', publicKeyPem }],
        tokenLifetimeSeconds,
      },
    );
  const tokenRequests = (harness: PexipAdapterHarness) =>
    harness.calls.filter((call) => call.route === '/oauth/token/');

  it('obtains one token and uses it for many calls', async () => {
    const harness = await oauth();

    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        harness.pexip.createConference(room(`oauth-${i}`)),
      ),
    );

    expect(tokenRequests(harness)).toEqual([
      expect.objectContaining({ method: 'POST', status: 200 }),
    ]);
    expect((await simulator.findRoom('oauth-9'))?.name).toBe('oauth-9');
  });

  it('renews a token before it expires', async () => {
    // A 2 s token is kept for half its lifetime.
    const harness = await oauth(2);
    await harness.pexip.ping();

    await new Promise((resolve) => setTimeout(resolve, 1200));
    await harness.pexip.ping();

    expect(tokenRequests(harness)).toHaveLength(2);
    expect(harness.calls.filter((call) => call.status === 401)).toHaveLength(0);
  });

  it('renews the token and replays the call once when Pexip answers 401', async () => {
    const harness = await oauth();
    await harness.pexip.ping();
    await simulator.control.faults({ method: 'GET', status: 401 });

    await harness.pexip.ping();

    expect(tokenRequests(harness)).toHaveLength(2);
    expect(
      harness.calls
        .filter((call) => call.route === '/conference/')
        .map((call) => call.status),
    ).toEqual([200, 401, 200]);
  });
});
