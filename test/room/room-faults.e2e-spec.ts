import { RoomHarness, startRoomHarness } from './support/room.harness';
import { CONFERENCES, writesOf } from '../support/pexip-requests';
import { EXAMPLE_TAG, EXAMPLE_UUI } from '../support/uui';
import { expectProblem } from '../support/problem';

/**
 * What the room endpoints answer when Pexip hangs, fails or is gone, and
 * that a pool room taken by a failed create goes back to the pool.
 */

const TIMEOUT_MS = 500;
const MAX_RETRIES = 3;
/** One adapter call may take 1.5 × PEXIP_TIMEOUT_MS, retries included. */
const CALL_BUDGET_MS = 1.5 * TIMEOUT_MS;
/**
 * A pool hand-out makes two adapter calls in sequence (the look-ups side by
 * side, then the PATCH); the slack absorbs a busy test machine.
 */
const HAND_OUT_BOUND_MS = 2 * CALL_BUDGET_MS + 2_000;

describe('room endpoints when Pexip misbehaves', () => {
  let rig: RoomHarness;
  let poolRoom: string;

  beforeAll(async () => {
    rig = await startRoomHarness({
      PEXIP_TIMEOUT_MS: String(TIMEOUT_MS),
      PEXIP_MAX_RETRIES: String(MAX_RETRIES),
    });
  });

  afterAll(() => rig.close());

  beforeEach(async () => {
    await rig.reset();
    [poolRoom] = await rig.fillPoolInOrder(1);
    await rig.pexip.control.clearRequests();
  });

  /** The pool room is back, untagged, and the next create gets it. */
  const expectPoolRoomBack = async () => {
    expect(await rig.poolState()).toMatchObject({ available: 1, ripening: 0 });
    expect((await rig.pexip.findRoom(poolRoom))?.tag).toBe('');
    await rig.pexip.control.clearFaults();
    const retry = await rig.create(EXAMPLE_UUI);
    expect(retry.status).toBe(200);
    expect(retry.body.name).toBe(poolRoom);
  };

  it('answers 504 in bounded time when the PATCH hangs, and puts the pool room back', async () => {
    await rig.pexip.control.faults({ method: 'PATCH', hang: true, times: 10 });

    const started = Date.now();
    const answer = await rig.create(EXAMPLE_UUI);
    const elapsed = Date.now() - started;

    expectProblem(answer, 504);
    expect(answer.body.type).toBe('urn:maxconf:problem:pexip-timeout');
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS);
    expect(elapsed).toBeLessThan(HAND_OUT_BOUND_MS);
    await expectPoolRoomBack();
  });

  it('answers 504 when the tag look-up hangs, and puts the pool room back', async () => {
    await rig.pexip.control.faults({
      method: 'GET',
      path_prefix: `${CONFERENCES}?limit=`,
      hang: true,
      times: 10,
    });

    const started = Date.now();
    const answer = await rig.create(EXAMPLE_UUI);

    expectProblem(answer, 504);
    expect(Date.now() - started).toBeLessThan(HAND_OUT_BOUND_MS);
    expect(writesOf(await rig.pexip.control.requests())).toEqual([]);
    await expectPoolRoomBack();
  });

  it('answers 502 when Pexip fails the PATCH with 500, without repeating it, and puts the pool room back', async () => {
    await rig.pexip.control.faults({ method: 'PATCH', status: 500 });

    const answer = await rig.create(EXAMPLE_UUI);

    expectProblem(answer, 502);
    expect(answer.body.type).toBe('urn:maxconf:problem:pexip-unavailable');
    const patches = writesOf(await rig.pexip.control.requests());
    expect(patches).toEqual([
      { method: 'PATCH', path: expect.stringMatching(/\/\d+\/$/), status: 500 },
    ]);
    await expectPoolRoomBack();
  });

  it('answers 502 after retrying a PATCH that keeps getting 503, and puts the pool room back', async () => {
    await rig.pexip.control.faults({ method: 'PATCH', status: 503, times: 10 });

    const answer = await rig.create(EXAMPLE_UUI);

    expectProblem(answer, 502);
    const patches = writesOf(await rig.pexip.control.requests());
    expect(patches).toHaveLength(1 + MAX_RETRIES);
    await expectPoolRoomBack();
  });

  it('adopts an on-demand room whose POST Pexip committed before failing with 500', async () => {
    await rig.call('DELETE', '/room?confirm=true');
    await rig.pexip.control.clearRequests();
    await rig.pexip.control.faults({
      method: 'POST',
      status: 500,
      after_commit: true,
    });

    const answer = await rig.create(EXAMPLE_UUI);

    expect(answer.status).toBe(200);
    expect(answer.body.tag).toBe(EXAMPLE_TAG);
    const tagged = (await rig.pexip.rooms()).filter(
      (r) => r.tag === EXAMPLE_TAG,
    );
    expect(tagged.map((room) => room.name)).toEqual([answer.body.name]);
    expect(writesOf(await rig.pexip.control.requests())).toEqual([
      { method: 'POST', path: CONFERENCES, status: 500 },
    ]);
  });

  it('posts an on-demand room again when a failed POST left nothing behind', async () => {
    await rig.call('DELETE', '/room?confirm=true');
    await rig.pexip.control.clearRequests();
    await rig.pexip.control.faults({ method: 'POST', status: 500 });

    const answer = await rig.create(EXAMPLE_UUI);

    expect(answer.status).toBe(200);
    const tagged = (await rig.pexip.rooms()).filter(
      (r) => r.tag === EXAMPLE_TAG,
    );
    expect(tagged.map((room) => room.name)).toEqual([answer.body.name]);
    expect(writesOf(await rig.pexip.control.requests())).toEqual([
      { method: 'POST', path: CONFERENCES, status: 500 },
      { method: 'POST', path: CONFERENCES, status: 201 },
    ]);
  });

  it('drops a pool room tagged by a PATCH whose answer was lost, once the retried create finds it', async () => {
    await rig.pexip.control.faults({
      method: 'PATCH',
      hang: true,
      after_commit: true,
      times: 10,
    });
    expectProblem(await rig.create(EXAMPLE_UUI), 504);
    expect((await rig.pexip.findRoom(poolRoom))?.tag).toBe(EXAMPLE_TAG);
    await rig.pexip.control.clearFaults();

    const retry = await rig.create(EXAMPLE_UUI);

    expect(retry.status).toBe(200);
    expect(retry.body.name).toBe(poolRoom);
    expect(await rig.poolState()).toMatchObject({ available: 0, ripening: 0 });
  });

  it('gives up on a pool of vanished rooms after five and makes the room on demand, leaving the rest of the pool alone', async () => {
    const names = await rig.fillPoolInOrder(5);
    for (const name of names.slice(0, 5)) {
      const { id } = (await rig.pexip.findRoom(name)) as { id: number };
      await rig.pexip.api('DELETE', `${CONFERENCES}${id}/`);
    }
    // A look-up of the sixth room would fail; it must not be made at all.
    await rig.pexip.control.faults({
      method: 'GET',
      path_prefix: `${CONFERENCES}?name=${names[5]}`,
      status: 500,
      times: 10,
    });
    await rig.pexip.control.clearRequests();

    const answer = await rig.create(EXAMPLE_UUI);

    expect(answer.status).toBe(200);
    const requests = await rig.pexip.control.requests();
    const lookedUp = requests
      .map((request) => new URL(request.path, rig.pexip.url))
      .filter((url) => url.searchParams.has('name'))
      .map((url) => url.searchParams.get('name'));
    expect(lookedUp).toEqual(names.slice(0, 5));
    expect(writesOf(requests).map((write) => write.method)).toEqual(['POST']);
    expect(await rig.poolState()).toMatchObject({ available: 1, ripening: 0 });
  });

  it('answers 502 for reads, lists and deletes when Pexip fails them', async () => {
    const room = await rig.pexip.seedRoom();
    await rig.pexip.control.faults({ status: 500, times: 3 });

    expectProblem(await rig.call('GET', `/room/${room.name}`), 502);
    expectProblem(await rig.call('GET', '/room'), 502);
    expectProblem(await rig.call('DELETE', `/room/${room.name}`), 502);
    expect(await rig.pexip.findRoom(room.name)).toBeDefined();
  });
});

describe('room endpoints when Pexip is gone', () => {
  let rig: RoomHarness;

  beforeAll(async () => {
    rig = await startRoomHarness({ PEXIP_TIMEOUT_MS: String(TIMEOUT_MS) });
    await rig.pexip.close();
  });

  afterAll(() => rig.close());

  it('answers 502 problem to GET /room/{name} and POST /room/create', async () => {
    const read = await rig.call('GET', '/room/any-room');
    const create = await rig.create(EXAMPLE_UUI);

    expectProblem(read, 502);
    expectProblem(create, 502);
    expect(read.body.type).toBe('urn:maxconf:problem:pexip-unavailable');
  });

  it('fails readiness with 503 naming Pexip, while liveness stays 200', async () => {
    const ready = await rig.call('GET', '/public/health/ready');
    const alive = await rig.call('GET', '/public/health');

    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({
      status: 'error',
      error: { pexip: { status: 'down' } },
      details: { pexip: { status: 'down' }, queue: { status: 'up' } },
    });
    expect(alive.status).toBe(200);
    expect(alive.body).toEqual({
      status: 'alive',
      timestamp: expect.stringMatching(
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/,
      ),
    });
  });
});

describe('problem answers and request ids', () => {
  let rig: RoomHarness;

  beforeAll(async () => {
    rig = await startRoomHarness({ BODY_LIMIT_BYTES: '2048' });
  });

  afterAll(() => rig.close());

  it('gives every answer an X-Request-Id, and a problem the same id in its body', async () => {
    const ok = await rig.call('GET', '/room/pool');
    const missing = await rig.call('GET', '/room/no-such-room');

    expect(ok.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expectProblem(missing, 404);
    expect(missing.body.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(missing.body.request_id).not.toBe(ok.headers.get('x-request-id'));
  });

  it("keeps a caller's sane X-Request-Id, on success and in a problem", async () => {
    const headers = { 'x-request-id': 'idim-42.retry_1' };

    const ok = await rig.call('GET', '/room/pool', { headers });
    const missing = await rig.call('GET', '/room/no-such-room', { headers });

    expect(ok.headers.get('x-request-id')).toBe('idim-42.retry_1');
    expect(missing.body.request_id).toBe('idim-42.retry_1');
  });

  it.each([
    ['spaces', 'two words'],
    ['a quote', 'a"b'],
    ['65 characters', 'x'.repeat(65)],
  ])("replaces a caller's X-Request-Id with %s", async (_what, id) => {
    const answer = await rig.call('GET', '/room/no-such-room', {
      headers: { 'x-request-id': id },
    });

    expect(answer.body.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.headers.get('x-request-id')).toBe(answer.body.request_id);
  });

  it('answers an unknown route with a 404 problem', async () => {
    expectProblem(await rig.call('GET', '/rooms'), 404);
  });

  it('answers a body over the size limit with a 413 problem', async () => {
    const room = await rig.pexip.seedRoom();

    const answer = await rig.call('PATCH', `/room/${room.name}`, {
      body: { description: 'x'.repeat(4096) },
    });

    expectProblem(answer, 413);
  });
});
