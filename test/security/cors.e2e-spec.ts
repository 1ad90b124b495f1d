import { Answer, bearerHeader } from '../support/http';
import {
  DIVISION,
  SecurityRig,
  startSecurityRig,
} from './support/security.rig';

/**
 * Only the agent widget calls from a browser, and only GET /public/room:
 * that route answers CORS for the configured origins, preflight included;
 * every other route, and every other origin, gets no CORS header at all.
 */

const WIDGET = 'https://widget.example';
const AGENT = 'genesys-agent-cors';

let rig: SecurityRig;

beforeAll(async () => {
  rig = await startSecurityRig({ env: { CORS_ORIGINS: WIDGET } });
  await rig.pexip.seedRoom({ name: 'cors-room' });
  rig.genesys.setUser(AGENT, { divisionId: DIVISION });
});

afterAll(async () => {
  await rig?.close();
});

const preflight = (path: string, origin: string, method = 'GET') =>
  rig.send('OPTIONS', path, {
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': 'x-auth-token',
    },
  });

function corsHeadersOf(answer: Answer): Record<string, unknown> {
  return Object.fromEntries(
    [...answer.headers].filter(([name]) => name.startsWith('access-control-')),
  );
}

describe(`CORS_ORIGINS=${WIDGET}`, () => {
  it('answers the preflight of the widget route 204, allowing x-auth-token', async () => {
    const answer = await preflight('/public/room/cors-room', WIDGET);

    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-origin')).toBe(WIDGET);
    expect(
      String(answer.headers.get('access-control-allow-headers'))
        .split(',')
        .map((name) => name.trim().toLowerCase()),
    ).toContain('x-auth-token');
    expect(answer.headers.get('access-control-allow-methods')).toBe('GET');
    expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
    expect(answer.headers.get('vary')).toMatch(/Origin/);
    expect(rig.genesys.callCount).toBe(0);
  });

  it('lets the widget read the answer of the real request', async () => {
    const answer = await rig.send('GET', '/public/room/cors-room', {
      headers: { origin: WIDGET, 'x-auth-token': AGENT },
    });

    expect(answer.status).toBe(200);
    expect(answer.body.name).toBe('cors-room');
    expect(answer.headers.get('access-control-allow-origin')).toBe(WIDGET);
    expect(answer.headers.get('access-control-expose-headers')).toMatch(
      /X-Request-Id/i,
    );
  });

  it('lets the widget read a refusal too, so it can tell the agent', async () => {
    const answer = await rig.send('GET', '/public/room/cors-room', {
      headers: { origin: WIDGET },
    });

    expect(answer.status).toBe(401);
    expect(answer.headers.get('access-control-allow-origin')).toBe(WIDGET);
  });

  it.each([
    'https://evil.example',
    'https://widget.example.evil.example',
    'http://widget.example',
    'https://widget.example:8443',
    'null',
  ])('gives origin %s no Access-Control-Allow-Origin', async (origin) => {
    const before = await preflight('/public/room/cors-room', origin);
    const actual = await rig.send('GET', '/public/room/cors-room', {
      headers: { origin, 'x-auth-token': AGENT },
    });

    // Without an allowed origin the browser drops the answer, whatever
    // else the preflight lists.
    expect(before.headers.get('access-control-allow-origin')).toBeNull();
    expect(actual.headers.get('access-control-allow-origin')).toBeNull();
  });

  it.each([
    ['OPTIONS', '/room/cors-room', 'GET'],
    ['OPTIONS', '/room/cors-room', 'DELETE'],
    ['OPTIONS', '/room/cors-room', 'PATCH'],
    ['OPTIONS', '/room/create', 'POST'],
    ['OPTIONS', '/room', 'GET'],
    ['OPTIONS', '/public/event_sink', 'POST'],
    ['OPTIONS', '/public/health', 'GET'],
    ['OPTIONS', '/metrics', 'GET'],
  ])(
    'never answers CORS on %s %s (%s), even for the widget origin',
    async (_method, path, requested) => {
      const answer = await preflight(path, WIDGET, requested);

      expect(corsHeadersOf(answer)).toEqual({});
      expect(answer.status).not.toBe(204);
    },
  );

  it('never answers CORS on a private route’s real request', async () => {
    const answer = await rig.send('GET', '/room/cors-room', {
      headers: { origin: WIDGET, ...bearerHeader(await rig.token()) },
    });

    expect(answer.status).toBe(200);
    expect(corsHeadersOf(answer)).toEqual({});
  });

  it('does not treat a path that only starts like the widget route as it', async () => {
    const answer = await preflight('/public/roomx/cors-room', WIDGET);

    expect(corsHeadersOf(answer)).toEqual({});
  });
});

describe('CORS_ORIGINS unset', () => {
  let plain: SecurityRig;

  beforeAll(async () => {
    plain = await startSecurityRig();
  });

  afterAll(async () => {
    await plain?.close();
  });

  it('answers CORS for no origin, not even on the widget route', async () => {
    const answer = await plain.send('OPTIONS', '/public/room/cors-room', {
      headers: {
        origin: WIDGET,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'x-auth-token',
      },
    });

    expect(corsHeadersOf(answer)).toEqual({});
  });
});
