import { generateKeyPairSync } from 'node:crypto';
import { Socket } from 'node:net';
import { useScriptedPexip } from '../../test/pexip/support/pexip-adapter.harness';
import {
  conference,
  inOrder,
  listBody,
  ReceivedRequest,
} from '../../test/pexip/support/scripted-pexip.server';
import {
  describe as describeRequest,
  PexipHttpClient,
  routeOf,
} from './pexip-http.client';
import {
  PexipQueueTimeoutError,
  PexipTimeoutError,
  PexipUnavailableError,
} from './pexip.errors';
import { CONFERENCE_PATH } from './pexip.types';

/*
 * The transport rules every Pexip call follows (retries, time budget,
 * concurrency cap, credentials, observer), exercised through PexipService
 * against a real HTTP rig.server on loopback.
 */

const ROOM_PATH = `${CONFERENCE_PATH}42/`;
const OK_ROOM = { status: 200, body: conference(42, 'room') } as const;

const rig = useScriptedPexip({ PEXIP_MAX_CONCURRENCY: '10' });
const start = async (env: Record<string, string> = {}) => rig.start(env);

const methods = (requests: ReceivedRequest[]) =>
  requests.map((request) => `${request.method} ${request.path}`);

describe('every call', () => {
  it('sends Basic credentials and asks for JSON', async () => {
    const { pexip } = await start({
      PEXIP_USERNAME: 'api',
      PEXIP_PASSWORD: 'pa:ss',
    });
    rig.server.reply(() => OK_ROOM);

    await pexip.getConference(42);

    const [request] = rig.server.requests;
    expect(request.headers.authorization).toBe(
      `Basic ${Buffer.from('api:pa:ss').toString('base64')}`,
    );
    expect(request.headers.accept).toBe('application/json');
  });

  it('sends a PATCH body as JSON', async () => {
    const { pexip } = await start();
    rig.server.reply(() => ({ status: 202 }));

    await pexip.updateConference(42, { tag: 'x' });

    const [request] = rig.server.requests;
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.json).toEqual({ tag: 'x' });
  });

  it('never follows a redirect', async () => {
    const { pexip } = await start();
    rig.server.reply(() => ({
      status: 301,
      headers: { Location: `${rig.server.url}/elsewhere/` },
    }));

    const failure = pexip.getConference(42);

    await expect(failure).rejects.toThrow(PexipUnavailableError);
    await expect(failure).rejects.toMatchObject({ status: 301 });
    expect(methods(rig.server.requests)).toEqual([`GET ${ROOM_PATH}`]);
  });

  it('keeps one TCP keep-alive delay on a reused socket, so it is set once', async () => {
    const { pexip } = await start();
    rig.server.reply(() => OK_ROOM);
    const setKeepAlive = jest.spyOn(Socket.prototype, 'setKeepAlive');

    let delays: unknown[];
    try {
      for (let call = 0; call < 3; call++) {
        await pexip.getConference(42);
      }
      delays = setKeepAlive.mock.calls.map(([, delay]) => delay);
    } finally {
      setKeepAlive.mockRestore();
    }

    expect(delays.length).toBeGreaterThan(0);
    expect(new Set(delays)).toEqual(new Set([60_000]));
  });

  it('reports each attempt to the observer with a route fit for metrics', async () => {
    const harness = await start();
    rig.server.reply(inOrder({ status: 503 }, OK_ROOM));

    await harness.pexip.getConference(42);

    expect(harness.calls).toEqual([
      expect.objectContaining({
        method: 'GET',
        route: '/conference/:id/',
        status: 503,
        attempt: 1,
      }),
      expect.objectContaining({
        method: 'GET',
        route: '/conference/:id/',
        status: 200,
        attempt: 2,
      }),
    ]);
    expect(harness.calls[0].durationMs).toBeGreaterThanOrEqual(0);
  });
});

describe('retries', () => {
  it.each([429, 502, 503, 504])(
    'repeats a GET answered %i and returns the later answer',
    async (status) => {
      const { pexip } = await start();
      rig.server.reply(inOrder({ status }, { status }, OK_ROOM));

      const room = await pexip.getConference(42);

      expect(room?.id).toBe(42);
      expect(rig.server.requests).toHaveLength(3);
    },
  );

  it('repeats a GET whose connection was reset', async () => {
    const { pexip } = await start();
    rig.server.reply(inOrder('reset', OK_ROOM));

    const room = await pexip.getConference(42);

    expect(room?.id).toBe(42);
    expect(rig.server.requests).toHaveLength(2);
  });

  it('repeats a PATCH answered 502 and a DELETE whose connection was reset', async () => {
    const { pexip } = await start();
    rig.server.reply(
      inOrder({ status: 502 }, { status: 202 }, 'reset', { status: 204 }),
    );

    await pexip.updateConference(42, { tag: 't' });
    const deleted = await pexip.deleteConference(42);

    expect(deleted).toBe(true);
    expect(methods(rig.server.requests)).toEqual([
      `PATCH ${ROOM_PATH}`,
      `PATCH ${ROOM_PATH}`,
      `DELETE ${ROOM_PATH}`,
      `DELETE ${ROOM_PATH}`,
    ]);
  });

  it('logs one warning per retry, naming the call and the cause', async () => {
    const { pexip } = await start();
    rig.server.reply(inOrder({ status: 503 }, 'reset', OK_ROOM));

    await pexip.getConference(42);

    const warnings = rig.logs.at('warn');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(
      new RegExp(
        `^Retrying GET ${ROOM_PATH} in \\d+ ms \\(retry 1 of 3\\) after status 503$`,
      ),
    );
    expect(warnings[1]).toMatch(/\(retry 2 of 3\) after ECONNRESET$/);
  });

  it('stops after PEXIP_MAX_RETRIES retries and reports the last status', async () => {
    const { pexip } = await start({ PEXIP_MAX_RETRIES: '2' });
    rig.server.reply(() => ({ status: 503 }));

    const failure = pexip.getConference(42);

    await expect(failure).rejects.toThrow(PexipUnavailableError);
    await expect(failure).rejects.toMatchObject({ status: 503 });
    expect(rig.server.requests).toHaveLength(3);
  });

  it('does not retry at all when PEXIP_MAX_RETRIES is 0', async () => {
    const { pexip } = await start({ PEXIP_MAX_RETRIES: '0' });
    rig.server.reply(() => ({ status: 503 }));

    await expect(pexip.getConference(42)).rejects.toMatchObject({
      status: 503,
    });
    expect(rig.server.requests).toHaveLength(1);
  });

  it.each([400, 500, 501])(
    'does not repeat a GET answered %i',
    async (status) => {
      const { pexip } = await start();
      rig.server.reply(() => ({ status, body: { error: 'no' } }));

      await expect(pexip.getConference(42)).rejects.toThrow();
      expect(rig.server.requests).toHaveLength(1);
    },
  );

  it('waits as long as Retry-After asks before repeating a 429', async () => {
    const { pexip } = await start();
    const arrivals: number[] = [];
    const replies = inOrder(
      { status: 429, headers: { 'Retry-After': '1' } },
      OK_ROOM,
    );
    rig.server.reply((request) => {
      arrivals.push(Date.now());
      return replies(request);
    });

    await pexip.getConference(42);

    // Timing is the behaviour here; the upper bound is generous.
    const gap = arrivals[1] - arrivals[0];
    expect(gap).toBeGreaterThanOrEqual(950);
    expect(gap).toBeLessThan(3000);
  });

  it('gives up at once when Retry-After reaches past the call budget', async () => {
    const { pexip } = await start({ PEXIP_TIMEOUT_MS: '1000' });
    rig.server.reply(() => ({ status: 429, headers: { 'Retry-After': '5' } }));
    const started = Date.now();

    await expect(pexip.getConference(42)).rejects.toMatchObject({
      name: 'PexipUnavailableError',
      status: 429,
    });
    expect(rig.server.requests).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('never repeats a POST by itself', async () => {
    const { pexip } = await start();
    rig.server.reply(() => ({
      status: 400,
      body: { conference: { pin: ['Enter a valid PIN.'] } },
    }));

    await expect(
      pexip.createConference({
        name: 'r',
        service_type: 'conference',
        allow_guests: true,
        pin: '1',
        guest_pin: '2',
        tag: '',
        aliases: [{ alias: 'r' }],
      }),
    ).rejects.toThrow('Pexip rejected');
    expect(methods(rig.server.requests)).toEqual([`POST ${CONFERENCE_PATH}`]);
  });
});

describe('the time budget (1.5 × PEXIP_TIMEOUT_MS per call)', () => {
  it('fails a call whose every attempt hangs with PexipTimeoutError within the budget', async () => {
    const harness = await start({ PEXIP_TIMEOUT_MS: '1000' });
    rig.server.reply(() => 'hang');
    const started = Date.now();

    const failure = harness.pexip.getConference(42);

    await expect(failure).rejects.toThrow(PexipTimeoutError);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1490);
    expect(elapsed).toBeLessThan(1500 + 500);
    // The first attempt gets the full timeout, one retry the rest.
    expect(harness.calls.map((call) => call.status)).toEqual([
      'timeout',
      'timeout',
    ]);
    expect(rig.server.requests).toHaveLength(2);
  });

  it('fails after one timeout when retries are off', async () => {
    const { pexip } = await start({
      PEXIP_TIMEOUT_MS: '300',
      PEXIP_MAX_RETRIES: '0',
    });
    rig.server.reply(() => 'hang');
    const started = Date.now();

    await expect(pexip.getConference(42)).rejects.toThrow(
      'Pexip did not answer GET /api/admin/configuration/v1/conference/42/ in time (1 attempt, at most 300 ms each, 450 ms in all)',
    );
    expect(Date.now() - started).toBeLessThan(300 + 500);
  });

  it('retries a timed-out attempt when the answer then comes quickly', async () => {
    const { pexip } = await start({ PEXIP_TIMEOUT_MS: '1000' });
    rig.server.reply(inOrder('hang', OK_ROOM));

    const room = await pexip.getConference(42);

    expect(room?.id).toBe(42);
  });
});

describe('the cap on calls in flight', () => {
  it('fails a call that waited for a slot past its budget without sending it', async () => {
    const { pexip } = await start({
      PEXIP_MAX_CONCURRENCY: '1',
      PEXIP_MAX_RETRIES: '0',
      PEXIP_TIMEOUT_MS: '300',
    });
    rig.server.reply(() => 'hang');

    // Two hanging calls hold the only slot for the whole 450 ms budget.
    const results = await Promise.allSettled([
      pexip.getConference(1),
      pexip.getConference(2),
      pexip.getConference(3),
    ]);

    expect(results.map((result) => result.status)).toEqual([
      'rejected',
      'rejected',
      'rejected',
    ]);
    const last = (results[2] as PromiseRejectedResult).reason as Error;
    expect(last).toBeInstanceOf(PexipQueueTimeoutError);
    expect(last).toBeInstanceOf(PexipTimeoutError);
    expect(rig.server.requests.map((request) => request.path)).not.toContain(
      `${CONFERENCE_PATH}3/`,
    );
  });

  it('never has more than PEXIP_MAX_CONCURRENCY requests at Pexip at once', async () => {
    const { pexip } = await start({ PEXIP_MAX_CONCURRENCY: '4' });
    rig.server.reply(() => ({ ...OK_ROOM, delayMs: 50 }));

    const rooms = await Promise.all(
      Array.from({ length: 30 }, () => pexip.getConference(42)),
    );

    expect(rooms).toHaveLength(30);
    expect(rig.server.requests).toHaveLength(30);
    expect(rig.server.maxInFlight).toBe(4);
  });

  it('frees the slot while a call waits to retry', async () => {
    const { pexip } = await start({ PEXIP_MAX_CONCURRENCY: '1' });
    rig.server.reply((request) =>
      request.path.endsWith('/1/') && rig.server.requests.length === 1
        ? { status: 503, headers: { 'Retry-After': '1' } }
        : {
            status: 200,
            body: conference(Number(request.path.split('/')[6]), 'x'),
          },
    );
    const finished: number[] = [];

    await Promise.all([
      pexip.getConference(1).then(() => finished.push(1)),
      new Promise((resolve) => setTimeout(resolve, 100))
        .then(() => pexip.getConference(2))
        .then(() => finished.push(2)),
    ]);

    // Call 2 ran during call 1's one-second wait.
    expect(finished).toEqual([2, 1]);
  });
});

describe('Basic credentials refused', () => {
  it.each([401, 403])(
    'fails with PexipUnavailableError on %i and tells the operator what to check',
    async (status) => {
      const { pexip } = await start({ PEXIP_PASSWORD: 'wrong-password' });
      rig.server.reply(() => ({ status }));

      const failure = pexip.getConference(42);

      await expect(failure).rejects.toThrow(PexipUnavailableError);
      await expect(failure).rejects.toMatchObject({ status });
      expect(rig.server.requests).toHaveLength(1);
      expect(rig.logs.at('error')).toEqual([
        expect.stringMatching(/check PEXIP_USERNAME and PEXIP_PASSWORD$/),
      ]);
      expect(rig.logs.text()).not.toContain('wrong-password');
      expect(rig.logs.text()).not.toContain('Basic ');
    },
  );
});

describe('OAuth 2.0 credentials', () => {
  const key = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
  }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  let tokensIssued = 0;

  /** Issues token-1, token-2, …; `accepts` decides which ones work. */
  function managementNode(accepts: (token: string) => boolean) {
    tokensIssued = 0;
    rig.server.reply((request) => {
      if (request.path === '/oauth/token/') {
        tokensIssued += 1;
        return {
          status: 200,
          body: {
            access_token: `token-${tokensIssued}`,
            token_type: 'Bearer',
            expires_in: 3600,
          },
          delayMs: 30,
        };
      }
      const token = (request.headers.authorization ?? '').replace(
        'Bearer ',
        '',
      );
      return accepts(token) ? OK_ROOM : { status: 401 };
    });
  }

  const oauthEnv = () => ({
    PEXIP_CLIENT_ID: 'maxconf',
    PEXIP_PRIVATE_KEY: Buffer.from(key).toString('base64'),
  });

  it('posts a form-encoded client assertion to /oauth/token/', async () => {
    const { pexip } = await start(oauthEnv());
    managementNode(() => true);

    await pexip.getConference(42);

    const [tokenRequest, call] = rig.server.requests;
    expect(tokenRequest.method).toBe('POST');
    expect(tokenRequest.path).toBe('/oauth/token/');
    expect(tokenRequest.headers['content-type']).toBe(
      'application/x-www-form-urlencoded',
    );
    const form = new URLSearchParams(tokenRequest.body);
    expect(form.get('grant_type')).toBe('client_credentials');
    expect(form.get('client_assertion')?.split('.')).toHaveLength(3);
    expect(call.headers.authorization).toBe('Bearer token-1');
  });

  it('fetches one token for many concurrent calls', async () => {
    const { pexip } = await start(oauthEnv());
    managementNode(() => true);

    await Promise.all(
      Array.from({ length: 20 }, () => pexip.getConference(42)),
    );

    expect(tokensIssued).toBe(1);
  });

  it('renews the token once on a 401 and replays the call once', async () => {
    const harness = await start(oauthEnv());
    managementNode((token) => token !== 'token-1');

    const room = await harness.pexip.getConference(42);

    expect(room?.id).toBe(42);
    expect(methods(rig.server.requests)).toEqual([
      'POST /oauth/token/',
      `GET ${ROOM_PATH}`,
      'POST /oauth/token/',
      `GET ${ROOM_PATH}`,
    ]);
    expect(harness.calls.map((call) => [call.route, call.status])).toEqual([
      ['/oauth/token/', 200],
      ['/conference/:id/', 401],
      ['/oauth/token/', 200],
      ['/conference/:id/', 200],
    ]);
  });

  it('fails with PexipUnavailableError when the renewed token is refused too', async () => {
    const { pexip } = await start(oauthEnv());
    managementNode(() => false);

    const failure = pexip.getConference(42);

    await expect(failure).rejects.toThrow(PexipUnavailableError);
    await expect(failure).rejects.toMatchObject({ status: 401 });
    expect(tokensIssued).toBe(2);
    expect(rig.server.requests).toHaveLength(4);
    expect(rig.logs.at('error')).toEqual([
      expect.stringContaining('check PEXIP_CLIENT_ID and PEXIP_PRIVATE_KEY'),
    ]);
  });

  it('never logs the token, the assertion or the key', async () => {
    const { pexip } = await start({ ...oauthEnv(), LOG_LEVEL: 'debug' });
    managementNode((token) => token !== 'token-1');

    await pexip.getConference(42);

    const assertion = new URLSearchParams(rig.server.requests[0].body).get(
      'client_assertion',
    );
    const text = rig.logs.text();
    expect(text).not.toContain('token-1');
    expect(text).not.toContain('token-2');
    expect(text).not.toContain(assertion ?? 'no assertion');
    expect(text).not.toContain('PRIVATE KEY');
  });

  it('fails with PexipUnavailableError when Pexip refuses the client', async () => {
    const { pexip } = await start(oauthEnv());
    rig.server.reply(() => ({
      status: 401,
      body: { error: 'invalid_client' },
    }));

    await expect(pexip.getConference(42)).rejects.toMatchObject({
      name: 'PexipUnavailableError',
      status: 401,
    });
    expect(methods(rig.server.requests)).toEqual(['POST /oauth/token/']);
  });
});

describe('routeOf', () => {
  it('replaces ids and drops the configuration prefix', () => {
    expect(routeOf(`${CONFERENCE_PATH}42/`)).toBe('/conference/:id/');
    expect(routeOf(CONFERENCE_PATH)).toBe('/conference/');
    expect(routeOf('/api/admin/status/v1/conference/')).toBe(
      '/api/admin/status/v1/conference/',
    );
  });
});

describe('describe (the call as logged)', () => {
  it('shows room names but hides tags, which carry identity-check ids', () => {
    const params = new URLSearchParams({ name: 'kQ3v', tag: 'https://x/123' });

    expect(
      describeRequest({ method: 'GET', path: CONFERENCE_PATH, params }),
    ).toBe(`GET ${CONFERENCE_PATH}?name=kQ3v&tag=…`);
  });
});

describe('guards', () => {
  it.each([0, -1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1])(
    'refuses the id %p before anything is sent',
    async (id) => {
      const { pexip } = await start();
      rig.server.reply(() => ({ status: 204 }));

      await expect(pexip.deleteConference(id)).rejects.toThrow(RangeError);
      await expect(pexip.updateConference(id, { tag: 'x' })).rejects.toThrow(
        RangeError,
      );
      await expect(pexip.getConference(id)).rejects.toThrow(RangeError);
      expect(rig.server.requests).toHaveLength(0);
    },
  );

  it.each(['DELETE', 'PATCH'] as const)(
    'never sends %s to a collection URL',
    async (method) => {
      const harness = await start();
      const client = harness.get(PexipHttpClient);
      rig.server.reply(() => ({ status: 204 }));

      await expect(
        client.send({ method, path: CONFERENCE_PATH }),
      ).rejects.toThrow(`Refusing to send ${method}`);
      expect(rig.server.requests).toHaveLength(0);
    },
  );

  it('refuses a path that is not plain segments', async () => {
    const harness = await start();
    const client = harness.get(PexipHttpClient);

    for (const path of [
      `${CONFERENCE_PATH}../`,
      `${CONFERENCE_PATH}?name=x/`,
      '/api//conference/',
      `${CONFERENCE_PATH}42`,
    ]) {
      await expect(client.send({ method: 'GET', path })).rejects.toThrow(
        'Refusing to call Pexip',
      );
    }
    expect(rig.server.requests).toHaveLength(0);
  });
});
