import { AzuriteQueueService, startAzurite } from '../support/azurite';
import { GenesysServer, startGenesysServer } from '../support/genesys-server';
import { JwksServer, startJwksServer } from '../support/jwks-server';
import { startTestSimulator, TestSimulator } from '../support/simulator';
import { expectProblem } from '../support/problem';
import { CONFERENCES, writesOf } from '../support/pexip-requests';
import { conferenceEnded } from '../support/event-sink';
import { freePort } from '../support/free-port';
import { tagFor, uuiFor } from '../support/uui';
import { waitFor } from '../support/wait';
import { ServiceRig, startServiceRig } from '../support/service-rig';
import { timed } from '../support/figures';

/**
 * What the service answers when each thing around it misbehaves: Pexip slow,
 * hanging, throttling, failing after it committed a write, dropping
 * connections, absent at start-up and back later; Genesys, the token
 * issuer's key endpoint and the queue store down. One test per case, each
 * stating its outcome.
 */

const TIMEOUT_MS = 1_000;
const MAX_RETRIES = 3;
/** One adapter call settles within 1.5 × PEXIP_TIMEOUT_MS, retries included. */
const CALL_BUDGET_MS = 1.5 * TIMEOUT_MS;
/** Room for a busy 2-core machine on top of a bound that is the behaviour. */
const SLACK_MS = 1_500;

const PEXIP_ENV = {
  PEXIP_TIMEOUT_MS: String(TIMEOUT_MS),
  PEXIP_MAX_RETRIES: String(MAX_RETRIES),
};

/** The method and status of each logged request, in order. */
const trace = async (pexip: TestSimulator, method?: string) =>
  (await pexip.control.requests())
    .filter((request) => method === undefined || request.method === method)
    .map((request) => `${request.method} ${request.status}`);

describe('when Pexip misbehaves', () => {
  let rig: ServiceRig;

  beforeAll(async () => {
    rig = await startServiceRig(PEXIP_ENV);
  });

  afterAll(() => rig.close());

  beforeEach(() => rig.pexip.control.reset());

  const seedAndForget = async () => {
    const room = await rig.pexip.seedRoom();
    await rig.pexip.control.clearRequests();
    return room;
  };

  describe('slow or silent', () => {
    it('answers a read that Pexip answers slowly but within the timeout, with one request', async () => {
      const room = await seedAndForget();
      await rig.pexip.control.latency(300);

      const { result, ms } = await timed(() =>
        rig.call('GET', `/room/${room.name}`),
      );

      expect(result.status).toBe(200);
      expect(result.body.name).toBe(room.name);
      expect(ms).toBeGreaterThanOrEqual(300);
      expect(await trace(rig.pexip)).toEqual(['GET 200']);
    });

    it('hands out a room on demand when every Pexip call is slow but within the timeout', async () => {
      await rig.pexip.control.latency(300);

      const answer = await rig.create(uuiFor('id', 'slow-1'));

      expect(answer.status).toBe(200);
      expect(answer.body.tag).toBe(tagFor('id', 'slow-1'));
    });

    it('answers 504 within 1.5 × PEXIP_TIMEOUT_MS when Pexip is slower than the timeout', async () => {
      const room = await seedAndForget();
      await rig.pexip.control.latency(4 * TIMEOUT_MS);

      const { result, ms } = await timed(() =>
        rig.call('GET', `/room/${room.name}`),
      );

      expectProblem(result, 504);
      expect(result.body.type).toBe('urn:maxconf:problem:pexip-timeout');
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS);
      expect(ms).toBeLessThan(CALL_BUDGET_MS + SLACK_MS);
    });

    it('answers a create 504 within one call budget when Pexip is slower than the timeout', async () => {
      await rig.pexip.control.latency(4 * TIMEOUT_MS);

      const { result, ms } = await timed(() =>
        rig.create(uuiFor('id', 'slow-2')),
      );

      expectProblem(result, 504);
      expect(ms).toBeLessThan(CALL_BUDGET_MS + SLACK_MS);
    });

    it('answers 504 within 1.5 × PEXIP_TIMEOUT_MS when Pexip hangs, after one retry in the budget', async () => {
      const room = await seedAndForget();
      await rig.pexip.control.faults({ method: 'GET', hang: true, times: 10 });

      const { result, ms } = await timed(() =>
        rig.call('GET', `/room/${room.name}`),
      );

      expectProblem(result, 504);
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS);
      expect(ms).toBeLessThan(CALL_BUDGET_MS + SLACK_MS);
      // The first attempt spends the timeout, the retry what is left.
      expect(await trace(rig.pexip)).toEqual(['GET null', 'GET null']);
    });

    it('answers a PATCH 504 within two call budgets when the PATCH hangs, and the room is unchanged', async () => {
      const room = await seedAndForget();
      await rig.pexip.control.faults({
        method: 'PATCH',
        hang: true,
        times: 10,
      });

      const { result, ms } = await timed(() =>
        rig.call('PATCH', `/room/${room.name}`, {
          body: { description: 'never applied' },
        }),
      );

      expectProblem(result, 504);
      expect(ms).toBeLessThan(2 * CALL_BUDGET_MS + SLACK_MS);
      expect((await rig.pexip.findRoom(room.name))?.description).toBe('');
    });
  });

  describe('throttling (429)', () => {
    it('retries a read refused with 429 without Retry-After, and answers it', async () => {
      const room = await seedAndForget();
      await rig.pexip.control.faults({ method: 'GET', status: 429, times: 2 });

      const answer = await rig.call('GET', `/room/${room.name}`);

      expect(answer.status).toBe(200);
      expect(answer.body.name).toBe(room.name);
      expect(await trace(rig.pexip)).toEqual(['GET 429', 'GET 429', 'GET 200']);
    });

    it('waits the Retry-After of a 429 before retrying a read', async () => {
      const room = await seedAndForget();
      await rig.pexip.control.faults({
        method: 'GET',
        status: 429,
        retry_after: 1,
      });

      const { result, ms } = await timed(() =>
        rig.call('GET', `/room/${room.name}`),
      );

      expect(result.status).toBe(200);
      expect(ms).toBeGreaterThanOrEqual(1_000);
      expect(await trace(rig.pexip)).toEqual(['GET 429', 'GET 200']);
    });

    it('answers 502 at once, without retrying, when Retry-After asks for longer than the call budget', async () => {
      const room = await seedAndForget();
      await rig.pexip.control.faults({
        method: 'GET',
        status: 429,
        retry_after: 30,
      });

      const { result, ms } = await timed(() =>
        rig.call('GET', `/room/${room.name}`),
      );

      expectProblem(result, 502);
      expect(ms).toBeLessThan(CALL_BUDGET_MS);
      expect(await trace(rig.pexip)).toEqual(['GET 429']);
    });

    it('retries a PATCH refused with 429 and applies it once', async () => {
      const room = await seedAndForget();
      await rig.pexip.control.faults({ method: 'PATCH', status: 429 });

      const answer = await rig.call('PATCH', `/room/${room.name}`, {
        body: { description: 'after 429' },
      });

      expect(answer.status).toBe(202);
      expect(await trace(rig.pexip, 'PATCH')).toEqual([
        'PATCH 429',
        'PATCH 202',
      ]);
      expect((await rig.pexip.findRoom(room.name))?.description).toBe(
        'after 429',
      );
    });
  });

  describe('500 after Pexip committed the write', () => {
    it('adopts an on-demand room whose POST answered 500 after committing: one room, one POST', async () => {
      await rig.pexip.control.faults({
        method: 'POST',
        status: 500,
        after_commit: true,
      });

      const answer = await rig.create(uuiFor('id', 'commit-1'));

      expect(answer.status).toBe(200);
      const rooms = await rig.pexip.rooms();
      expect(rooms.map((room) => room.name)).toEqual([answer.body.name]);
      expect(rooms[0].tag).toBe(tagFor('id', 'commit-1'));
      expect(writesOf(await rig.pexip.control.requests())).toEqual([
        { method: 'POST', path: CONFERENCES, status: 500 },
      ]);
    });

    it('adopts a pool room whose POST answered 500 after committing: one room on Pexip, one in the pool', async () => {
      await rig.pexip.control.faults({
        method: 'POST',
        status: 500,
        after_commit: true,
      });

      expect((await rig.call('POST', '/room/bulk-create?count=1')).status).toBe(
        202,
      );
      const pool = await waitFor(
        async () => (await rig.call('GET', '/room/pool')).body,
        (state) => state.creating === 0 && state.available === 1,
        'the pool room queued',
      );

      expect(pool).toMatchObject({ available: 1, ripening: 0 });
      expect(await rig.pexip.rooms()).toHaveLength(1);
      await rig.call('DELETE', '/room?confirm=true');
    });

    it('hands out a pool room that Pexip created while neither the POST nor the look-up after it was answered', async () => {
      await rig.pexip.control.faults({
        method: 'POST',
        hang: true,
        after_commit: true,
      });
      await rig.pexip.control.faults({
        method: 'GET',
        path_prefix: `${CONFERENCES}?name=`,
        hang: true,
        times: 2,
      });

      await rig.call('POST', '/room/bulk-create?count=1');
      // The room exists, untagged; its queue entry, sent before the
      // create, stays because nobody knows whether the create worked.
      await waitFor(
        async () => (await rig.call('GET', '/room/pool')).body,
        (state) => state.creating === 0 && state.available === 1,
        'the unclear pool create settled',
      );
      const [room] = await rig.pexip.rooms();
      expect(room?.tag).toBe('');

      const created = await rig.create(uuiFor('id', 'unclear-1'));

      expect(created.status).toBe(200);
      expect(created.body.name).toBe(room.name);
      expect((await rig.pexip.rooms()).map((r) => r.name)).toEqual([room.name]);
      await rig.call('DELETE', '/room?confirm=true');
    });

    it('takes a pool entry back at once when Pexip definitely refused the room', async () => {
      await rig.pexip.control.faults({ method: 'POST', status: 400 });

      await rig.call('POST', '/room/bulk-create?count=1');

      expect(
        await waitFor(
          async () => (await rig.call('GET', '/room/pool')).body,
          (state) => state.creating === 0,
          'the refused pool create settled',
        ),
      ).toMatchObject({ available: 0, ripening: 0 });
      expect(await rig.pexip.rooms()).toEqual([]);
    });

    it('answers 502 to a PATCH that Pexip applied before failing with 500, does not repeat it, and a repeat of the PATCH succeeds', async () => {
      const room = await seedAndForget();
      await rig.pexip.control.faults({
        method: 'PATCH',
        status: 500,
        after_commit: true,
      });

      const first = await rig.call('PATCH', `/room/${room.name}`, {
        body: { description: 'changed' },
      });

      // A 500 is Pexip saying "no"; the adapter cannot tell that the change
      // was applied, so the caller learns of a failure and may repeat it.
      expectProblem(first, 502);
      expect((await rig.pexip.findRoom(room.name))?.description).toBe(
        'changed',
      );
      expect(await trace(rig.pexip, 'PATCH')).toEqual(['PATCH 500']);

      const repeat = await rig.call('PATCH', `/room/${room.name}`, {
        body: { description: 'changed' },
      });
      expect(repeat.status).toBe(202);
      expect((await rig.pexip.findRoom(room.name))?.description).toBe(
        'changed',
      );
    });

    it('answers 502 to a DELETE that Pexip applied before failing with 500, and a repeat finds the room gone (404)', async () => {
      const room = await seedAndForget();
      await rig.pexip.control.faults({
        method: 'DELETE',
        status: 500,
        after_commit: true,
      });

      const first = await rig.call('DELETE', `/room/${room.name}`);

      expectProblem(first, 502);
      expect(await rig.pexip.findRoom(room.name)).toBeUndefined();
      const repeat = await rig.call('DELETE', `/room/${room.name}`);
      expectProblem(repeat, 404);
    });

    it('answers 204 to a DELETE that Pexip applied before answering 503: the retry finds the room gone', async () => {
      const room = await seedAndForget();
      await rig.pexip.control.faults({
        method: 'DELETE',
        status: 503,
        after_commit: true,
      });

      const answer = await rig.call('DELETE', `/room/${room.name}`);

      expect(answer.status).toBe(204);
      expect(await trace(rig.pexip, 'DELETE')).toEqual([
        'DELETE 503',
        'DELETE 404',
      ]);
      expect(await rig.pexip.findRoom(room.name)).toBeUndefined();
    });
  });

  describe('bursts of 503', () => {
    it(`answers a read after ${MAX_RETRIES} answers of 503 in a row`, async () => {
      const room = await seedAndForget();
      await rig.pexip.control.faults({
        method: 'GET',
        status: 503,
        times: MAX_RETRIES,
      });

      const { result, ms } = await timed(() =>
        rig.call('GET', `/room/${room.name}`),
      );

      expect(result.status).toBe(200);
      expect(ms).toBeLessThan(CALL_BUDGET_MS + SLACK_MS);
      expect(await trace(rig.pexip)).toEqual([
        ...Array(MAX_RETRIES).fill('GET 503'),
        'GET 200',
      ]);
    });

    it(`answers 502 when the 503s outlast ${MAX_RETRIES} retries, within the call budget`, async () => {
      const room = await seedAndForget();
      await rig.pexip.control.faults({ method: 'GET', status: 503, times: 10 });

      const { result, ms } = await timed(() =>
        rig.call('GET', `/room/${room.name}`),
      );

      expectProblem(result, 502);
      expect(ms).toBeLessThan(CALL_BUDGET_MS + SLACK_MS);
      expect(await trace(rig.pexip)).toEqual(
        Array(1 + MAX_RETRIES).fill('GET 503'),
      );
    });

    it('hands out a room on demand through 503s on the look-up and the read-back', async () => {
      await rig.pexip.control.faults({ method: 'GET', status: 503, times: 2 });

      const answer = await rig.create(uuiFor('id', 'burst-1'));

      expect(answer.status).toBe(200);
      expect(await rig.pexip.rooms()).toHaveLength(1);
    });
  });

  describe('connection reset', () => {
    it('retries a read whose connection Pexip dropped, and answers it', async () => {
      const room = await seedAndForget();
      await rig.pexip.control.faults({ method: 'GET', reset: true });

      const answer = await rig.call('GET', `/room/${room.name}`);

      expect(answer.status).toBe(200);
      expect(await trace(rig.pexip)).toEqual(['GET null', 'GET 200']);
    });

    it('retries a PATCH whose connection Pexip dropped after applying it, and answers 202', async () => {
      const room = await seedAndForget();
      await rig.pexip.control.faults({
        method: 'PATCH',
        reset: true,
        after_commit: true,
      });

      const answer = await rig.call('PATCH', `/room/${room.name}`, {
        body: { guest_pin: '7777' },
      });

      expect(answer.status).toBe(202);
      expect(await trace(rig.pexip, 'PATCH')).toEqual([
        'PATCH null',
        'PATCH 202',
      ]);
      expect((await rig.pexip.findRoom(room.name))?.guest_pin).toBe('7777');
    });

    it('adopts a room whose POST connection Pexip dropped after creating it', async () => {
      await rig.pexip.control.faults({
        method: 'POST',
        reset: true,
        after_commit: true,
      });

      const answer = await rig.create(uuiFor('id', 'reset-1'));

      expect(answer.status).toBe(200);
      expect((await rig.pexip.rooms()).map((room) => room.name)).toEqual([
        answer.body.name,
      ]);
      expect(await trace(rig.pexip, 'POST')).toEqual(['POST null']);
    });

    it('posts a room again when the POST connection dropped before Pexip created it', async () => {
      await rig.pexip.control.faults({ method: 'POST', reset: true });

      const answer = await rig.create(uuiFor('id', 'reset-2'));

      expect(answer.status).toBe(200);
      expect((await rig.pexip.rooms()).map((room) => room.name)).toEqual([
        answer.body.name,
      ]);
      expect(await trace(rig.pexip, 'POST')).toEqual(['POST null', 'POST 201']);
    });
  });
});

describe('when Pexip is down at start-up and comes back', () => {
  let port: number;
  let rig: ServiceRig;
  let pexip: TestSimulator | undefined;

  beforeAll(async () => {
    port = await freePort();
    // The service starts against an address where nothing listens, with a
    // pool to keep filled, and is never restarted in this block.
    rig = await startServiceRig({
      ...PEXIP_ENV,
      PEXIP_URL: `http://127.0.0.1:${port}`,
      POOL_TARGET_SIZE: '1',
      POOL_REFILL_INTERVAL_SECONDS: '1',
    });
  });

  afterAll(async () => {
    await rig.close();
    await pexip?.close();
  });

  it('starts, answers liveness 200 and readiness 503 naming Pexip', async () => {
    const alive = await rig.call('GET', '/public/health');
    const ready = await rig.call('GET', '/public/health/ready');

    expect(alive.status).toBe(200);
    expect(alive.body.status).toBe('alive');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({
      status: 'error',
      error: { pexip: { status: 'down' } },
      details: { queue: { status: 'up' } },
    });
  });

  it('answers a create 502 while Pexip is away', async () => {
    expectProblem(await rig.create(uuiFor('id', 'away-1')), 502);
  });

  it('recovers without a restart once Pexip listens: readiness 200, create 200, pool refilled', async () => {
    pexip = await startTestSimulator({ port });

    await waitFor(
      async () => (await rig.call('GET', '/public/health/ready')).status,
      (status) => status === 200,
      'readiness 200',
    );
    const answer = await rig.create(uuiFor('id', 'back-1'));
    expect(answer.status).toBe(200);
    expect(answer.body.tag).toBe(tagFor('id', 'back-1'));
    const pool = await waitFor(
      async () => (await rig.call('GET', '/room/pool')).body,
      (state) => state.available === 1,
      'the pool topped up by its timer',
    );
    expect(pool).toMatchObject({ available: 1, target: 1 });
  });
});

describe('when Genesys is down', () => {
  const DIVISION = 'division-video-checks';
  let genesys: GenesysServer;
  let rig: ServiceRig;
  let roomName: string;

  beforeAll(async () => {
    genesys = await startGenesysServer();
    rig = await startServiceRig({
      GENESYS_API_URL: genesys.url,
      GENESYS_ALLOWED_DIVISIONS: DIVISION,
      GENESYS_TIMEOUT_MS: '500',
    });
    roomName = (await rig.pexip.seedRoom()).name;
    genesys.setUser('agent-cached', { divisionId: DIVISION });
    genesys.setUser('agent-new', { divisionId: DIVISION });
    const warm = await rig.call('GET', `/public/room/${roomName}`, {
      headers: { 'x-auth-token': 'agent-cached' },
    });
    expect(warm.status).toBe(200);
  });

  afterEach(() => genesys.up());

  afterAll(async () => {
    await rig.close();
    await genesys.stop();
  });

  it('answers a new agent token 503 when Genesys drops the connection', async () => {
    genesys.down('reset');

    const answer = await rig.call('GET', `/public/room/${roomName}`, {
      headers: { 'x-auth-token': 'agent-new' },
    });

    expectProblem(answer, 503);
  });

  it('answers a new agent token 503 within the Genesys timeout when Genesys hangs', async () => {
    genesys.down('hang');

    const { result, ms } = await timed(() =>
      rig.call('GET', `/public/room/${roomName}`, {
        headers: { 'x-auth-token': 'agent-new' },
      }),
    );

    expectProblem(result, 503);
    expect(ms).toBeLessThan(500 + SLACK_MS);
  });

  it('keeps serving an agent whose token it accepted moments before the outage', async () => {
    genesys.down('reset');

    const answer = await rig.call('GET', `/public/room/${roomName}`, {
      headers: { 'x-auth-token': 'agent-cached' },
    });

    expect(answer.status).toBe(200);
    expect(answer.body.name).toBe(roomName);
  });
});

describe('when the token issuer’s key endpoint is down', () => {
  let jwks: JwksServer;
  let rig: ServiceRig;

  beforeAll(async () => {
    jwks = await startJwksServer();
    rig = await startServiceRig({
      AUTH_MODE: 'jwt',
      AUTH_JWKS_URL: jwks.url,
      AUTH_ISSUER: jwks.issuer,
      AUTH_AUDIENCE: jwks.audience,
    });
    const warm = await rig.call('GET', '/room/pool', {
      headers: { authorization: `Bearer ${await jwks.signToken()}` },
    });
    expect(warm.status).toBe(200);
    jwks.down();
  });

  afterAll(async () => {
    await rig.close();
    await jwks.stop();
  });

  it('accepts a new token signed with a key fetched before the outage', async () => {
    const token = await jwks.signToken({ sub: 'another-client' });

    const answer = await rig.call('GET', '/room/pool', {
      headers: { authorization: `Bearer ${token}` },
    });

    expect(answer.status).toBe(200);
  });

  it('answers 401 to a token signed with a key it never fetched, since it fetched the set moments ago', async () => {
    // An unknown key makes the set be fetched again at most every 30 s;
    // within that time the issuer's own recent answer is the verdict.
    await jwks.rotateKey();
    const token = await jwks.signToken();
    const fetches = jwks.fetchCount;

    const answer = await rig.call('GET', '/room/pool', {
      headers: { authorization: `Bearer ${token}` },
    });

    expectProblem(answer, 401);
    expect(jwks.fetchCount).toBe(fetches);
  });

  it('still refuses a bad token with 401, outage or not', async () => {
    const answer = await rig.call('GET', '/room/pool', {
      headers: { authorization: 'Bearer not.a.token' },
    });

    expectProblem(answer, 401);
  });
});

describe('when the token issuer’s key endpoint is down at start-up and comes back', () => {
  let jwks: JwksServer;
  let rig: ServiceRig;

  beforeAll(async () => {
    jwks = await startJwksServer();
    jwks.down();
    rig = await startServiceRig({
      AUTH_MODE: 'jwt',
      AUTH_JWKS_URL: jwks.url,
      AUTH_ISSUER: jwks.issuer,
      AUTH_AUDIENCE: jwks.audience,
    });
  });

  afterAll(async () => {
    await rig.close();
    await jwks.stop();
  });

  it('starts, and answers a good token 503 while no key can be fetched', async () => {
    const answer = await rig.call('GET', '/room/pool', {
      headers: { authorization: `Bearer ${await jwks.signToken()}` },
    });

    expectProblem(answer, 503);
    expect(answer.body.type).toBe('urn:maxconf:problem:dependency-unavailable');
  });

  it('accepts the token once the key endpoint answers again, without a restart', async () => {
    jwks.up();

    const answer = await rig.call('GET', '/room/pool', {
      headers: { authorization: `Bearer ${await jwks.signToken()}` },
    });

    expect(answer.status).toBe(200);
  });
});

describe('when the queue store becomes unavailable (Azure, Azurite stopped)', () => {
  let azurite: AzuriteQueueService;
  let rig: ServiceRig;
  let poolRoom: string;

  beforeAll(async () => {
    azurite = await startAzurite();
    rig = await startServiceRig({
      ...PEXIP_ENV,
      QUEUE_BACKEND: 'azure',
      AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
    });
    expect((await rig.call('POST', '/room/bulk-create?count=1')).status).toBe(
      202,
    );
    await waitFor(
      async () => (await rig.call('GET', '/room/pool')).body,
      (state) => state.creating === 0 && state.available === 1,
      'one pool room queued',
    );
    [poolRoom] = (await rig.pexip.rooms()).map((room) => room.name);
    await azurite.stop();
  }, 60_000);

  afterAll(async () => {
    await rig.close();
    await azurite.stop();
  });

  it('hands out a room made on demand, since the pool cannot be read', async () => {
    const answer = await rig.create(uuiFor('id', 'no-queue-1'));

    expect(answer.status).toBe(200);
    expect(answer.body.tag).toBe(tagFor('id', 'no-queue-1'));
    expect(answer.body.name).not.toBe(poolRoom);
    expect((await rig.pexip.findRoom(poolRoom))?.tag).toBe('');
  });

  it('answers the event sink 503 so that Pexip sends the event again', async () => {
    const answer = await rig.sink(conferenceEnded(poolRoom));

    expectProblem(answer, 503);
    expect(answer.body.type).toBe('urn:maxconf:problem:dependency-unavailable');
  });

  it('answers readiness 503 naming the queue, and liveness 200', async () => {
    const ready = await rig.call('GET', '/public/health/ready');
    const alive = await rig.call('GET', '/public/health');

    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({
      status: 'error',
      error: { queue: { status: 'down' } },
      details: { pexip: { status: 'up' } },
    });
    expect(alive.status).toBe(200);
  });

  it('answers the pool state 503', async () => {
    expectProblem(await rig.call('GET', '/room/pool'), 503);
  });
});
