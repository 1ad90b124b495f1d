import { Answer, basicHeader, bearerHeader, send } from '../support/http';
import { expectProblem } from '../support/problem';
import {
  DIVISION,
  SecurityRig,
  SINK_PASSWORD,
  SINK_USER,
  startSecurityRig,
} from './support/security.rig';

/**
 * Each client gets RATE_LIMIT_PER_MINUTE requests a minute across all
 * routes: a verified token's subject is the client, else the address.
 * Every test uses its own source address on loopback (127.0.0.0/8), so
 * the budgets of one test never touch another's.
 */

const LIMIT = 5;
const AGENT = 'genesys-agent-rate';

let rig: SecurityRig;

beforeAll(async () => {
  rig = await startSecurityRig({
    env: { RATE_LIMIT_PER_MINUTE: String(LIMIT) },
  });
  await rig.pexip.seedRoom({ name: 'rate-room' });
  rig.genesys.setUser(AGENT, { divisionId: DIVISION });
});

afterAll(async () => {
  await rig?.close();
});

/** Sends `count` identical requests one after another; their statuses. */
async function statuses(
  count: number,
  request: () => Promise<Answer>,
): Promise<number[]> {
  const seen: number[] = [];
  for (let i = 0; i < count; i++) seen.push((await request()).status);
  return seen;
}

const ok = (count: number, status = 200) =>
  Array.from({ length: count }, () => status);

function expectRateLimited(answer: Answer): void {
  expectProblem(answer, 429);
  expect(answer.body.type).toBe('urn:maxconf:problem:rate-limited');
  const retryAfter = Number(answer.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
}

describe(`RATE_LIMIT_PER_MINUTE=${LIMIT}`, () => {
  it('answers the 6th request of an address 429 problem+json with Retry-After', async () => {
    const read = () =>
      rig.send('GET', '/public/room/rate-room', {
        headers: { 'x-auth-token': AGENT },
        localAddress: '127.0.0.2',
      });

    expect(await statuses(LIMIT, read)).toEqual(ok(LIMIT));
    expectRateLimited(await read());
  });

  it('counts an address across routes, whatever each answers', async () => {
    const from = { localAddress: '127.0.0.3' };

    const answers = [
      await rig.send('GET', '/public/room/rate-room', {
        ...from,
        headers: { 'x-auth-token': AGENT },
      }),
      await rig.send('GET', '/public/room/no-such-room', {
        ...from,
        headers: { 'x-auth-token': AGENT },
      }),
      await rig.send('GET', '/public/room/rate-room', from),
      await rig.send('GET', '/public/room/rate-room', {
        ...from,
        headers: { 'x-auth-token': 'refused-by-genesys' },
      }),
      await rig.send('GET', '/public/room/rate-room', {
        ...from,
        headers: { 'x-auth-token': AGENT },
      }),
    ];

    expect(answers.map((a) => a.status)).toEqual([200, 404, 401, 401, 200]);
    expectRateLimited(
      await rig.send('GET', '/public/room/rate-room', {
        ...from,
        headers: { 'x-auth-token': AGENT },
      }),
    );
  });

  it('gives another address its own budget', async () => {
    const read = (localAddress: string) =>
      rig.send('GET', '/public/room/rate-room', {
        headers: { 'x-auth-token': AGENT },
        localAddress,
      });

    expect(await statuses(LIMIT, () => read('127.0.0.4'))).toEqual(ok(LIMIT));
    expect((await read('127.0.0.4')).status).toBe(429);
    expect((await read('127.0.0.5')).status).toBe(200);
  });

  it('keys callers with tokens by subject: two subjects on one address have separate budgets', async () => {
    const tokenA = await rig.token({ sub: 'idim-server-a' });
    const tokenB = await rig.token({ sub: 'idim-server-b' });
    const pool = (token: string) =>
      rig.send('GET', '/room/pool', {
        headers: bearerHeader(token),
        localAddress: '127.0.0.6',
      });

    expect(await statuses(LIMIT, () => pool(tokenA))).toEqual(ok(LIMIT));
    expectRateLimited(await pool(tokenA));
    expect(await statuses(LIMIT, () => pool(tokenB))).toEqual(ok(LIMIT));
    expect((await pool(tokenB)).status).toBe(429);
  });

  it('keeps a subject’s budget when it changes address or token', async () => {
    const first = await rig.token({ sub: 'idim-server-c' });
    const pool = (localAddress: string, token: string) =>
      rig.send('GET', '/room/pool', {
        headers: bearerHeader(token),
        localAddress,
      });

    expect(await statuses(LIMIT, () => pool('127.0.0.7', first))).toEqual(
      ok(LIMIT),
    );
    const renewed = await rig.token({ sub: 'idim-server-c', jti: 'renewed' });
    expect((await pool('127.0.0.8', renewed)).status).toBe(429);
  });

  it('keeps an address’s budget apart from the subjects calling from it', async () => {
    const token = await rig.token({ sub: 'idim-server-d' });
    const from = { localAddress: '127.0.0.9' };

    expect(
      await statuses(LIMIT, () =>
        rig.send('GET', '/room/pool', {
          ...from,
          headers: bearerHeader(token),
        }),
      ),
    ).toEqual(ok(LIMIT));
    expect(
      (
        await rig.send('GET', '/public/room/rate-room', {
          ...from,
          headers: { 'x-auth-token': AGENT },
        })
      ).status,
    ).toBe(200);
  });

  it('counts requests refused for a missing or bad token against the address', async () => {
    const from = { localAddress: '127.0.0.10' };
    const forged = `${await rig.token({ sub: 'x' })}tampered`;

    const refused = await statuses(LIMIT, () =>
      rig.send('GET', '/room/pool', { ...from, headers: bearerHeader(forged) }),
    );

    expect(refused).toEqual(ok(LIMIT, 401));
    expectRateLimited(await rig.send('GET', '/room/pool', from));
  });

  it('counts a client behind the ingress by its forwarded address', async () => {
    const read = (forwardedFor: string) =>
      rig.send('GET', '/public/room/rate-room', {
        headers: { 'x-auth-token': AGENT, 'x-forwarded-for': forwardedFor },
        localAddress: '127.0.0.11',
      });

    expect(await statuses(LIMIT, () => read('198.51.100.7'))).toEqual(
      ok(LIMIT),
    );
    expect((await read('198.51.100.7')).status).toBe(429);
    expect((await read('198.51.100.8')).status).toBe(200);
  });

  it.each([
    ['GET', '/public/health'],
    ['GET', '/public/health/ready'],
    ['GET', '/metrics'],
  ])(
    'never limits %s %s, even for an address over its budget',
    async (method, path) => {
      const localAddress = '127.0.0.12';
      await statuses(LIMIT + 1, () =>
        rig.send('GET', '/public/room/rate-room', {
          headers: { 'x-auth-token': AGENT },
          localAddress,
        }),
      );

      const probes = await statuses(3 * LIMIT, () =>
        rig.send(method, path, { localAddress }),
      );

      expect(probes).toEqual(ok(3 * LIMIT));
    },
  );

  it('never limits the event sink: Pexip posts every event of every node', async () => {
    const localAddress = '127.0.0.13';
    const post = () =>
      send(rig.service.url, 'POST', '/public/event_sink', {
        headers: basicHeader(SINK_USER, SINK_PASSWORD),
        body: { event: 'participant_connected', data: {} },
        localAddress,
      });

    expect(await statuses(3 * LIMIT, post)).toEqual(ok(3 * LIMIT));
  });

  it('limits refused event-sink calls per address, so the password cannot be guessed at speed', async () => {
    const post = (localAddress: string, password: string) =>
      send(rig.service.url, 'POST', '/public/event_sink', {
        headers: basicHeader(SINK_USER, password),
        body: { event: 'participant_connected', data: {} },
        localAddress,
      });

    const guesses = await statuses(LIMIT, () =>
      post('127.0.0.14', 'guess-1234'),
    );

    expect(guesses).toEqual(ok(LIMIT, 401));
    expectRateLimited(await post('127.0.0.14', 'guess-5678'));
    // Blocked before the check: a right guess now teaches nothing.
    expectRateLimited(await post('127.0.0.14', SINK_PASSWORD));
    expect((await post('127.0.0.15', SINK_PASSWORD)).status).toBe(200);
  });
});
