import { performance } from 'node:perf_hooks';

import { startTestSimulator, TestSimulator } from '../support/simulator';

const CONFERENCES = '/api/admin/configuration/v1/conference/';
const SERVER_ERROR = {
  error_message:
    'Sorry, this request could not be processed. Please try again later.',
};

describe('Pexip simulator: control surface over HTTP', () => {
  let pexip: TestSimulator;

  const control = (method: string, path: string, body?: unknown) =>
    fetch(`${pexip.url}/_simulator${path}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  const roomCount = async () =>
    (await pexip.api('GET', `${CONFERENCES}?limit=1`)).body.meta.total_count;

  beforeAll(async () => {
    pexip = await startTestSimulator();
  });

  afterAll(() => pexip.close());

  beforeEach(() => pexip.control.reset());

  describe('faults', () => {
    it('fails the next `times` matching requests with the status, then recovers', async () => {
      await pexip.control.faults({
        method: 'GET',
        path_prefix: CONFERENCES,
        status: 503,
        times: 2,
      });

      const statuses = [];
      for (let n = 0; n < 3; n += 1) {
        statuses.push((await pexip.api('GET', CONFERENCES)).status);
      }

      expect(statuses).toEqual([503, 503, 200]);
    });

    it("answers a 5xx fault with Tastypie's error body", async () => {
      await pexip.control.faults({ status: 500 });

      const response = await pexip.api('GET', CONFERENCES);

      expect(response.body).toEqual(SERVER_ERROR);
    });

    it('sends Retry-After with a 429 when asked', async () => {
      await pexip.control.faults({ status: 429, retry_after: 2 });

      const response = await pexip.api('GET', CONFERENCES);

      expect(response.status).toBe(429);
      expect(response.headers.get('retry-after')).toBe('2');
      expect(response.body).toBeUndefined();
    });

    it('leaves other methods and paths alone', async () => {
      await pexip.control.faults({
        method: 'POST',
        path_prefix: CONFERENCES,
        status: 503,
      });

      expect((await pexip.api('GET', CONFERENCES)).status).toBe(200);
      expect(
        (
          await pexip.api(
            'POST',
            '/api/admin/configuration/v1/conference_alias/',
            {},
          )
        ).status,
      ).toBe(400);
      expect((await pexip.api('POST', CONFERENCES, { name: 'x' })).status).toBe(
        503,
      );
    });

    it('does not apply the write of a plain fault', async () => {
      await pexip.control.faults({ method: 'POST', status: 503 });

      await pexip.api('POST', CONFERENCES, { name: 'lost' });

      expect(await roomCount()).toBe(0);
    });

    it('applies the write before failing when after_commit is true', async () => {
      await pexip.control.faults({
        method: 'POST',
        path_prefix: CONFERENCES,
        status: 500,
        after_commit: true,
      });

      const response = await pexip.api('POST', CONFERENCES, { name: 'kept' });
      const retry = await pexip.api('POST', CONFERENCES, { name: 'kept' });

      expect(response.status).toBe(500);
      expect(response.body).toEqual(SERVER_ERROR);
      expect(await pexip.findRoom('kept')).toMatchObject({ name: 'kept' });
      expect(retry.body).toEqual({
        conference: {
          name: ['Virtual Meeting Room with this Name already exists.'],
        },
      });
    });

    it('drops the connection for a reset fault (extension)', async () => {
      await pexip.control.faults({ reset: true });

      await expect(pexip.api('GET', CONFERENCES)).rejects.toThrow();

      const log = await pexip.control.requests();
      expect(log).toEqual([{ method: 'GET', path: CONFERENCES, status: null }]);
    });

    it('applies faults to the OAuth token endpoint too', async () => {
      await pexip.control.faults({ path_prefix: '/oauth/', status: 502 });

      const response = await fetch(`${pexip.url}/oauth/token/`, {
        method: 'POST',
      });

      expect(response.status).toBe(502);
    });

    it('lists waiting faults and forgets them on DELETE', async () => {
      await pexip.control.faults({ status: 500, times: 3 });
      const listed = await (await control('GET', '/faults')).json();

      const cleared = await control('DELETE', '/faults');

      expect(listed).toEqual([
        {
          id: expect.any(Number),
          method: null,
          path_prefix: null,
          status: 500,
          times: 3,
          remaining: 3,
          after_commit: false,
          retry_after: null,
          hang: false,
          reset: false,
        },
      ]);
      expect(cleared.status).toBe(204);
      expect((await pexip.api('GET', CONFERENCES)).status).toBe(200);
    });

    it.each([
      [{}, 'status: "status" is required unless "hang" or "reset" is true'],
      [
        { status: 500, times: 'twice' },
        'times: Invalid input: expected number, received string',
      ],
      [{ status: 500, path: '/x' }, 'Unrecognized key: "path"'],
    ])('refuses the fault %j with 400', async (body, message) => {
      const response = await control('POST', '/faults', body);

      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: message });
    });

    it('refuses a control body that is not JSON', async () => {
      const response = await fetch(`${pexip.url}/_simulator/faults`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{status',
      });

      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: expect.any(String) });
    });
  });

  describe('hanging requests', () => {
    it('never answers a hung request, and close() ends it', async () => {
      const other = await startTestSimulator();
      await other.control.faults({ method: 'GET', hang: true });

      let settled = false;
      const hung = other.api('GET', CONFERENCES).finally(() => {
        settled = true;
      });
      // Still unanswered once a later request has come and gone.
      await other.api('POST', CONFERENCES, { name: 'after' });
      const log = await other.control.requests();
      await other.close();

      expect(settled).toBe(false);
      expect(log[0]).toEqual({
        method: 'GET',
        path: CONFERENCES,
        status: null,
      });
      await expect(hung).rejects.toThrow();
    });
  });

  describe('latency', () => {
    it('delays every management-API answer by the latency set', async () => {
      const set = await control('PUT', '/latency', { ms: 300 });
      const started = performance.now();

      const response = await pexip.api('GET', CONFERENCES);

      expect(set.status).toBe(200);
      expect(await set.json()).toEqual({ ms: 300 });
      expect(response.status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    });

    it('starts from the latency option and returns to it on reset', async () => {
      const other = await startTestSimulator({ latencyMs: 150 });
      try {
        await other.control.latency(0);
        await other.control.reset();

        const latency = await fetch(`${other.url}/_simulator/latency`);

        expect(await latency.json()).toEqual({ ms: 150 });
      } finally {
        await other.close();
      }
    });

    it('refuses a negative latency', async () => {
      const response = await control('PUT', '/latency', { ms: -1 });

      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        error: 'ms: Too small: expected number to be >=0',
      });
    });
  });

  describe('request log', () => {
    it('records method, path with query and status, oldest first', async () => {
      await pexip.control.faults({ method: 'DELETE', status: 503 });
      await pexip.api('POST', CONFERENCES, { name: 'logged' });
      await pexip.api('GET', `${CONFERENCES}?name=logged`);
      await pexip.api('DELETE', `${CONFERENCES}1/`);
      await fetch(`${pexip.url}${CONFERENCES}`);

      expect(await pexip.control.requests()).toEqual([
        { method: 'POST', path: CONFERENCES, status: 201 },
        { method: 'GET', path: `${CONFERENCES}?name=logged`, status: 200 },
        { method: 'DELETE', path: `${CONFERENCES}1/`, status: 503 },
        { method: 'GET', path: CONFERENCES, status: 401 },
      ]);
    });

    it('does not log control calls, and forgets on DELETE', async () => {
      await pexip.api('GET', CONFERENCES);

      const cleared = await control('DELETE', '/requests');

      expect(cleared.status).toBe(204);
      expect(await pexip.control.requests()).toEqual([]);
    });
  });

  describe('reset', () => {
    it('forgets every room, fault and logged request', async () => {
      await pexip.seedRoom({ name: 'forgotten' });
      await pexip.control.faults({ status: 500, times: 5 });

      const reset = await control('POST', '/reset');

      expect(reset.status).toBe(204);
      expect(await pexip.control.requests()).toEqual([]);
      expect(await (await control('GET', '/faults')).json()).toEqual([]);
      expect(await roomCount()).toBe(0);
    });
  });

  it('answers 404 to an unknown control call', async () => {
    const response = await control('GET', '/nothing');

    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: 'No control call GET /_simulator/nothing.',
    });
  });
});
